import { AbortedError } from "../errors.js";

/**
 * How the code making a provider call (a sync run, a search) steers it through the managed
 * embedder and vector store: when to give up, and what to hear back.
 */
export interface CallContext {
  /** Aborts the call: requests in flight are abandoned and nothing more is sent. */
  readonly signal?: AbortSignal | undefined;
  /** When every attempt and retry wait must be over, in `Date.now()` ms, read afresh before each retry (a run's lease). */
  readonly deadline?: (() => number) | undefined;
  /**
   * An embedding request is being sent (each attempt), carrying the call's texts `start` to
   * `start + count - 1`: the usage ledger counts requests per owner from it.
   */
  readonly onRequest?: ((texts: { start: number; count: number }) => void) | undefined;
  /** A request succeeded: the caller made progress (a run renews its lease on it). */
  readonly onProgress?: (() => void) | undefined;
  /**
   * A write request ended without a definite answer (timed out, connection lost, aborted): the
   * store may still apply it, later. A sync run then schedules a sweep of its documents.
   */
  readonly onUncertainWrite?: (() => void) | undefined;
}

/**
 * `work`, or AbortedError as soon as `signal` aborts, whichever comes first. For providers that
 * cannot cancel a request (an embedded database, a local library), so that an abort still
 * returns at once; the abandoned request runs to its end unobserved.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new AbortedError({ cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(new AbortedError({ cause: signal.reason }));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
