import type { CallContext } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { LeaseLostError } from "../errors.js";
import type { DocumentStateTable } from "./document-state.js";

/**
 * A sync run's hold on the leases of its documents. It renews them while the run makes progress
 * (a provider request answered; at most once per third of a lease), and when they run out
 * without progress, or a renewal finds one taken, it aborts the run's provider calls through
 * `signal` with a LeaseLostError. Every retry wait is bounded by the time left (`call.deadline`).
 *
 * The local deadline ends a little before the database's lease (which starts after the claim
 * was sent), so a run stops before another may take its documents. Safety does not rest on
 * that: a late request cannot harm a later run's vectors (ids carry the run's epoch), and the
 * database fences every commit.
 */
export class RunLease {
  readonly signal: AbortSignal;
  /** How the run's provider calls are steered: aborted with the lease, bounded by it, renewing it. */
  readonly call: CallContext;
  /** Some write request's outcome is unknown (timed out, dropped, aborted): the store may apply it later. */
  uncertainWrites = false;
  private readonly controller = new AbortController();
  private readonly held: Set<string>;
  private renewedAt: number;
  private expiresAt: number;
  private renewal: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  /**
   * @param claimedAt `performance.now()` when the claim was sent; the database's lease runs from
   *   a moment after it.
   */
  constructor(
    private readonly deps: { table: DocumentStateTable; leaseMs: number; logger: Logger },
    readonly token: string,
    documentIds: readonly string[],
    claimedAt: number,
    outer: AbortSignal | undefined,
  ) {
    this.signal = outer ? AbortSignal.any([this.controller.signal, outer]) : this.controller.signal;
    this.call = {
      signal: this.signal,
      deadline: () => Date.now() + (this.expiresAt - performance.now()),
      onProgress: () => this.progress(),
      onUncertainWrite: () => {
        this.uncertainWrites = true;
      },
    };
    this.held = new Set(documentIds);
    this.renewedAt = claimedAt;
    this.expiresAt = claimedAt + this.usableMs();
    if (this.held.size === 0) this.end();
    else this.arm();
  }

  /** Why the lease was lost (it ran out, or was taken), once it was: the run's calls are aborted. */
  get lost(): LeaseLostError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as LeaseLostError) : undefined;
  }

  /** Documents no longer held (released, committed, or taken by another run): renewals leave them out. */
  drop(documentIds: readonly string[]): void {
    for (const id of documentIds) this.held.delete(id);
    if (this.held.size === 0) this.end();
  }

  /** The run is over: no more renewals, and running out no longer aborts anything. */
  end(): void {
    this.ended = true;
    clearTimeout(this.timer);
  }

  private usableMs(): number {
    return this.deps.leaseMs - Math.min(1_000, this.deps.leaseMs / 10);
  }

  private progress(): void {
    if (this.ended || this.lost || this.renewal) return;
    const now = performance.now();
    if (now - this.renewedAt < this.deps.leaseMs / 3) return;
    this.renewal = this.renew(now).finally(() => (this.renewal = undefined));
  }

  private async renew(sentAt: number): Promise<void> {
    const ids = [...this.held];
    try {
      const renewed = new Set(await this.deps.table.renewLease(ids, this.token, this.deps.leaseMs));
      if (this.ended || this.lost) return;
      // A document dropped while the renewal was on its way was released, not lost.
      const taken = ids.filter((id) => this.held.has(id) && !renewed.has(id));
      if (taken.length > 0) return this.lose(taken, "another sync run took it over");
      this.renewedAt = sentAt;
      this.expiresAt = sentAt + this.usableMs();
      this.arm();
    } catch (error) {
      // The deadline stands: a run that cannot renew stops when it comes.
      this.deps.logger.warn("could not renew a sync lease", { documents: ids.length, error });
    }
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.lose([...this.held], `no progress for ${this.deps.leaseMs} ms (a provider request stalled)`),
      Math.max(0, this.expiresAt - performance.now()),
    );
    // An idle lease must not keep a process alive.
    this.timer.unref();
  }

  private lose(documentIds: string[], reason: string): void {
    if (this.ended) return;
    this.end();
    this.controller.abort(new LeaseLostError(documentIds, reason));
  }
}
