/**
 * Fault injection for the protocol servers: queued one-shot faults plus a seeded random
 * failure rate, so a test can make a provider misbehave on demand and reproducibly.
 */

/**
 * - `"429"`: rate limited, in the service's error format, with a `Retry-After` header (seconds).
 * - `"stall"`: the request is held for `stallMs` (or `until` a promise settles), then handled as
 *   usual: applied, and answered if the client is still there. A client that gave up (timeout,
 *   abort) never sees the answer, but its write still lands, late, as it may at a real service.
 * - `"500"` / `"503"`: server error / unavailable, in the service's error format.
 * - `"timeout"`: the request is read and never answered; the socket stays open until the
 *   client gives up or the server closes.
 * - `"drop"`: the request is read, then the socket is destroyed without a response.
 * - `"malformed"`: answered 200 with a JSON body that is not the endpoint's format
 *   (`{ "malformed": true }`), as a broken proxy or an API change would; nothing is applied.
 * - `"partial"`: batch endpoints apply the first half of the batch, then answer 500
 *   (each server documents what that means for its endpoints); other endpoints answer a
 *   plain 500 without side effects.
 */
export type FaultKind = "429" | "500" | "503" | "timeout" | "drop" | "partial" | "stall" | "malformed";

export const FAULT_KINDS: readonly FaultKind[] = ["429", "500", "503", "timeout", "drop", "partial", "stall", "malformed"];

/** What a fault rule sees of a request when deciding whether it applies. */
export interface FaultRequestInfo {
  method: string;
  path: string;
  body: unknown;
}

/**
 * Which requests a fault applies to: a string matches when the request path contains it,
 * a RegExp is tested against the path, a function decides on its own.
 */
export type FaultMatch = string | RegExp | ((request: FaultRequestInfo) => boolean);

export interface NextFaultOptions {
  /** How many matching requests fail this way. Default 1; `Infinity` for every one. */
  times?: number;
  /** Restricts the fault to matching requests. Default: every request. */
  match?: FaultMatch;
  /** `Retry-After` value for `"429"`, in seconds. Default: the server's `retryAfterSeconds`. */
  retryAfterSeconds?: number;
  /** How long `"stall"` holds the request, in ms. Default: the server's `stallMs`. */
  stallMs?: number;
  /** `"stall"` holds the request until this settles, instead of for `stallMs`. */
  until?: Promise<unknown>;
}

export interface RandomFailureOptions {
  /** Restricts random failures to matching requests. Default: every request. */
  match?: FaultMatch;
  /** `Retry-After` value for `"429"`, in seconds. Default: the server's `retryAfterSeconds`. */
  retryAfterSeconds?: number;
  /** How long `"stall"` holds the request, in ms. Default: the server's `stallMs`. */
  stallMs?: number;
}

/** The fault chosen for one request. */
export interface SelectedFault {
  kind: FaultKind;
  retryAfterSeconds: number;
  stallMs: number;
  until?: Promise<unknown> | undefined;
}

/** The public fault API every server exposes as `faults`. */
export interface Faults {
  /** Queues a fault for the next matching request(s); queued faults apply in order. */
  next(kind: FaultKind, options?: NextFaultOptions): void;
  /**
   * Fails a seeded-random fraction of the requests that no queued fault took. The same seed
   * and the same request sequence fail the same requests.
   */
  setRandomFailureRate(
    rate: number,
    seed: number,
    kinds?: readonly FaultKind[],
    options?: RandomFailureOptions,
  ): void;
  /** Removes queued faults and the random failure rate. */
  clear(): void;
}

export const DEFAULT_RANDOM_FAULT_KINDS: readonly FaultKind[] = ["500", "429", "drop"];

interface QueuedFault {
  kind: FaultKind;
  remaining: number;
  match: FaultMatch | undefined;
  retryAfterSeconds: number | undefined;
  stallMs: number | undefined;
  until: Promise<unknown> | undefined;
}

interface RandomFailure {
  rate: number;
  kinds: readonly FaultKind[];
  random: () => number;
  match: FaultMatch | undefined;
  retryAfterSeconds: number | undefined;
  stallMs: number | undefined;
}

/** mulberry32: tiny, fast and deterministic; good enough to pick which requests fail. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function matches(match: FaultMatch | undefined, request: FaultRequestInfo): boolean {
  if (match === undefined) return true;
  if (typeof match === "string") return request.path.includes(match);
  if (match instanceof RegExp) return match.test(request.path);
  return match(request);
}

function assertKind(kind: FaultKind): void {
  if (!FAULT_KINDS.includes(kind)) {
    throw new TypeError(`fault kind must be one of ${FAULT_KINDS.join(", ")}; got ${String(kind)}`);
  }
}

export class FaultController implements Faults {
  readonly #queue: QueuedFault[] = [];
  #random: RandomFailure | undefined;

  constructor(
    private readonly defaultRetryAfterSeconds: number,
    private readonly defaultStallMs: number,
  ) {}

  next(kind: FaultKind, options: NextFaultOptions = {}): void {
    assertKind(kind);
    const times = options.times ?? 1;
    if (!(times >= 1)) throw new RangeError(`faults.next: times must be >= 1; got ${times}`);
    this.#queue.push({
      kind,
      remaining: times,
      match: options.match,
      retryAfterSeconds: options.retryAfterSeconds,
      stallMs: options.stallMs,
      until: options.until,
    });
  }

  setRandomFailureRate(
    rate: number,
    seed: number,
    kinds: readonly FaultKind[] = DEFAULT_RANDOM_FAULT_KINDS,
    options: RandomFailureOptions = {},
  ): void {
    if (!(rate >= 0 && rate <= 1)) {
      throw new RangeError(`faults.setRandomFailureRate: rate must be within [0, 1]; got ${rate}`);
    }
    if (kinds.length === 0) throw new RangeError("faults.setRandomFailureRate: kinds must not be empty");
    kinds.forEach(assertKind);
    this.#random = {
      rate,
      kinds: [...kinds],
      random: mulberry32(seed),
      match: options.match,
      retryAfterSeconds: options.retryAfterSeconds,
      stallMs: options.stallMs,
    };
  }

  clear(): void {
    this.#queue.length = 0;
    this.#random = undefined;
  }

  /** Decides the fault for one request (queued faults first), consuming it. */
  select(request: FaultRequestInfo): SelectedFault | undefined {
    const index = this.#queue.findIndex((fault) => matches(fault.match, request));
    const queued = this.#queue[index];
    if (queued) {
      queued.remaining -= 1;
      if (queued.remaining <= 0) this.#queue.splice(index, 1);
      return {
        kind: queued.kind,
        retryAfterSeconds: queued.retryAfterSeconds ?? this.defaultRetryAfterSeconds,
        stallMs: queued.stallMs ?? this.defaultStallMs,
        until: queued.until,
      };
    }
    const random = this.#random;
    if (!random || !matches(random.match, request)) return undefined;
    // Two draws per matching request, always, so the sequence depends only on the seed
    // and on how many matching requests came before.
    const roll = random.random();
    const pick = random.random();
    if (roll >= random.rate) return undefined;
    const kind = random.kinds[Math.floor(pick * random.kinds.length)] ?? random.kinds[0];
    if (kind === undefined) return undefined;
    return { kind, retryAfterSeconds: random.retryAfterSeconds ?? this.defaultRetryAfterSeconds, stallMs: random.stallMs ?? this.defaultStallMs };
  }
}
