import type * as CohereSdk from "cohere-ai";
import { chainMessage, isTransientStatus, retryAfterMs, sanitizedError } from "../../core/provider-errors.js";
import { redact } from "../../core/redact.js";
import { AbortedError, ProviderError, type DualstoreError } from "../../errors.js";

const PROVIDER = "cohere";

/**
 * A failed `cohere-ai` call as a DualstoreError: abort, timeout, an HTTP status (retryable when
 * transient, with Retry-After and Cohere's request id) or a connection failure. Shared by the
 * Cohere embedder and reranker, which call the same SDK the same way.
 */
export function cohereFailure(sdk: typeof CohereSdk, error: unknown, context: { signal: AbortSignal | undefined; timeoutMs: number }): DualstoreError {
  if (context.signal?.aborted) return new AbortedError({ cause: context.signal.reason });
  const { CohereError, CohereTimeoutError } = sdk;
  const cause = sanitizedError(error);
  // Node's fetch rejects with the abort reason itself, a string, so the SDK reports its own
  // timeout as a plain CohereError caused by "timeout" rather than a CohereTimeoutError.
  if (error instanceof CohereTimeoutError || (error instanceof CohereError && error.cause === "timeout")) {
    return new ProviderError(PROVIDER, `no response within ${context.timeoutMs} ms`, { retryable: true, cause });
  }
  if (error instanceof CohereError && error.statusCode !== undefined) {
    const status = error.statusCode;
    // Cohere's error body is { id, message }; the id identifies the request to Cohere support.
    const body: Record<string, unknown> = typeof error.body === "object" && error.body !== null ? { ...error.body } : {};
    return new ProviderError(PROVIDER, redact(typeof body.message === "string" ? `${status} ${body.message}` : error.message), {
      status,
      requestId: typeof body.id === "string" ? body.id : undefined,
      retryable: isTransientStatus(status),
      retryAfterMs: retryAfterMs(error.rawResponse?.headers),
      cause,
    });
  }
  // Without a status the request never got an answer: the connection failed.
  if (error instanceof CohereError) {
    return new ProviderError(PROVIDER, `connection failed: ${chainMessage(error)}`, { retryable: true, cause });
  }
  return new ProviderError(PROVIDER, chainMessage(error), { retryable: false, cause });
}
