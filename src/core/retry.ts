import pRetry, { AbortError as PRetryAbortError } from "p-retry";
import { AbortedError, DualstoreError, ProviderError } from "../errors.js";

/**
 * The one retry policy every provider call goes through: a few retries, exponential backoff
 * with jitter, a server's Retry-After honoured up to a bound, and the caller's AbortSignal and
 * deadline obeyed.
 */
export interface RetryPolicy {
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** Delay before the first retry, before jitter. Default 250 ms. */
  minDelayMs?: number;
  /** Upper bound for one backoff delay (a longer Retry-After is still honoured, up to `maxRetryAfterMs`). Default 8,000 ms. */
  maxDelayMs?: number;
  /**
   * Longest Retry-After waited out. A server asking for more fails the call at once with its
   * retryable error, which carries `retryAfterMs` (the outbox then reschedules the job no sooner).
   * Default 60,000 ms.
   */
  maxRetryAfterMs?: number;
}

export interface RetryCallOptions extends RetryPolicy {
  signal?: AbortSignal | undefined;
  /**
   * When every attempt and wait must be over, in `Date.now()` milliseconds, read before each
   * retry (a sync run's lease, which renewals move). A retry whose wait would end later is not
   * made: the call fails with its last error instead.
   */
  deadline?: (() => number) | undefined;
  /** Called before each retry, e.g. to log it. */
  onRetry?: ((context: { error: unknown; attempt: number; delayMs: number }) => void) | undefined;
}

export const defaultRetryPolicy: Required<RetryPolicy> = { maxRetries: 3, minDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

/** Whether the shared policy retries this error: only provider errors that say so. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ProviderError && error.retryable;
}

export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryCallOptions = {}): Promise<T> {
  const policy = { ...defaultRetryPolicy, ...stripUndefined(options) };
  const { signal, deadline } = options;
  throwIfAborted(signal);
  try {
    return await pRetry(
      async (attempt) => {
        try {
          return await operation(attempt);
        } catch (error) {
          // p-retry's own AbortError stops the loop at once for anything not worth repeating.
          if (!isRetryable(error)) throw new PRetryAbortError(asError(error));
          throw error;
        }
      },
      {
        retries: policy.maxRetries,
        factor: 2,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        randomize: true,
        signal,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
          if (retriesLeft === 0) return;
          const retryAfter = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
          const delayMs = Math.max(retryDelay, retryAfter);
          // Throwing here ends the loop with this attempt's error: the wait is not worth taking.
          if (retryAfter > policy.maxRetryAfterMs) throw error;
          if (deadline && Date.now() + delayMs >= deadline()) throw error;
          options.onRetry?.({ error, attempt: attemptNumber, delayMs });
          // p-retry waits retryDelay after this callback; a longer Retry-After makes up the rest.
          if (retryAfter > retryDelay) await sleep(retryAfter - retryDelay, signal);
        },
      },
    );
  } catch (error) {
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
    throw error;
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError({ cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError({ cause: signal?.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new DualstoreError("PROVIDER", String(error));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
