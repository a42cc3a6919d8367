import { DualstoreError } from "../errors.js";

/**
 * OpenTelemetry spans and metrics through `@opentelemetry/api`, an optional peer dependency:
 * when it is not installed, or no SDK is registered, every call here costs next to nothing.
 * Attributes carry ids, counts and names only: never a text, a query or a secret.
 */
export type TelemetryAttributes = Record<string, string | number | boolean | string[] | undefined>;

/** The slice of `@opentelemetry/api` dualstore uses. */
interface OtelApi {
  readonly trace: { getTracer(name: string, version?: string): OtelTracer };
  readonly metrics: { getMeter(name: string, version?: string): OtelMeter };
}

interface OtelSpan {
  setAttributes(attributes: Record<string, string | number | boolean | string[]>): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

interface OtelTracer {
  startActiveSpan<T>(name: string, options: { attributes?: Record<string, string | number | boolean | string[]> }, fn: (span: OtelSpan) => T): T;
}

interface OtelInstrument {
  add?(value: number, attributes?: Record<string, string | number | boolean>): void;
  record?(value: number, attributes?: Record<string, string | number | boolean>): void;
}

interface OtelMeter {
  createHistogram(name: string, options?: { unit?: string; description?: string }): OtelInstrument;
  createCounter(name: string, options?: { unit?: string; description?: string }): OtelInstrument;
}

/** A span while it runs: attributes learnt on the way (counts, outcomes) are added to it. */
export interface SpanHandle {
  set(attributes: TelemetryAttributes): void;
}

/** OpenTelemetry's SpanStatusCode.ERROR. */
const STATUS_ERROR = 2;
/** Id lists on a span are cut here: a batch's ids identify it without bloating the trace. */
const MAX_IDS = 100;

const noSpan: SpanHandle = { set: () => undefined };

let api: OtelApi | undefined;
let loading: Promise<void> | undefined;
const instruments = new WeakMap<OtelMeter, Map<string, OtelInstrument>>();

/** Loads `@opentelemetry/api` once, if installed (createDualstore awaits it). */
export function loadTelemetry(): Promise<void> {
  loading ??= import("@opentelemetry/api").then(
    (module) => {
      api = module as unknown as OtelApi;
    },
    () => undefined,
  );
  return loading;
}

function clean(attributes: TelemetryAttributes): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.slice(0, MAX_IDS) : value;
  }
  return out;
}

/**
 * Runs `work` inside a span named `name` (a child of the active one), ended when `work` settles;
 * a failure sets the span's status to ERROR with the error's code, never its message.
 */
export function inSpan<T>(name: string, attributes: TelemetryAttributes, work: (span: SpanHandle) => Promise<T>): Promise<T> {
  if (!api) return work(noSpan);
  const tracer = api.trace.getTracer("dualstore");
  return tracer.startActiveSpan(name, { attributes: clean(attributes) }, async (span) => {
    try {
      return await work({ set: (more) => span.setAttributes(clean(more)) });
    } catch (error) {
      span.setAttributes({ "dualstore.error.code": errorCode(error) });
      span.setStatus({ code: STATUS_ERROR, message: errorCode(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

function instrument(kind: "histogram" | "counter", name: string, unit: string, description: string): OtelInstrument | undefined {
  if (!api) return undefined;
  const meter = api.metrics.getMeter("dualstore");
  let byName = instruments.get(meter);
  if (!byName) instruments.set(meter, (byName = new Map()));
  let found = byName.get(name);
  if (!found) {
    found = kind === "histogram" ? meter.createHistogram(name, { unit, description }) : meter.createCounter(name, { unit, description });
    byName.set(name, found);
  }
  return found;
}

/** The metrics dualstore records, with their units. */
export const metric = {
  /** Time of one provider or search call, in ms (P95s come from here). */
  duration(name: "dualstore.embedder.duration" | "dualstore.vector_store.duration" | "dualstore.reranker.duration" | "dualstore.search.duration" | "dualstore.worker.batch.duration", ms: number, attributes: Record<string, string | number | boolean>): void {
    instrument("histogram", name, "ms", "duration of a dualstore call")?.record?.(ms, attributes);
  },
  /** Outbox jobs finished, by kind and outcome (done, retried, dead): the failure rate. */
  jobs(count: number, attributes: { kind: string; outcome: "done" | "retried" | "dead" }): void {
    if (count > 0) instrument("counter", "dualstore.sync.jobs", "{job}", "outbox jobs finished by outcome")?.add?.(count, attributes);
  },
  /** Time from a job's enqueue to its completion, in ms: the sync lag. */
  syncLag(ms: number, attributes: { kind: string }): void {
    instrument("histogram", "dualstore.sync.lag", "ms", "time from a document change to its index job done")?.record?.(ms, attributes);
  },
  /** Rerank requests sent (retries included), per reranker: what reranking costs. */
  rerankRequests(count: number, attributes: { reranker: string }): void {
    if (count > 0) instrument("counter", "dualstore.reranker.requests", "{request}", "rerank requests sent")?.add?.(count, attributes);
  },
  /** Tokens sent to the embedder, per embedder. */
  tokens(count: number, attributes: { embedder: string }): void {
    if (count > 0) instrument("counter", "dualstore.embedder.tokens", "{token}", "tokens embedded")?.add?.(count, attributes);
  },
};

function errorCode(error: unknown): string {
  return error instanceof DualstoreError ? error.code : error instanceof Error ? error.name : "UNKNOWN";
}
