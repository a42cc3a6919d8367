import { approximateTokens } from "../chunking/chunker.js";
import { abortable, type CallContext } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { throwIfAborted, withRetry, type RetryPolicy } from "../core/retry.js";
import { DimensionMismatchError, ProviderError } from "../errors.js";
import { inSpan, metric } from "../core/telemetry.js";
import { batches } from "../internal/batch.js";
import { mapConcurrent } from "../internal/concurrency.js";
import { unlimited, type RateLimiter } from "../sync/shared-rate-limit.js";
import type { Embedder } from "./embedder.js";

/** One provider request: its texts (a slice of the call's, from `start`) and their approximate tokens. */
interface EmbedRequest {
  readonly send: () => Promise<number[][]>;
  readonly texts: number;
  readonly tokens: number;
  readonly start: number;
}

function tokensOf(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + approximateTokens(text), 0);
}

export interface ManagedEmbedderOptions {
  readonly retry: RetryPolicy;
  /** The provider's limit shared with every other worker. Default: none. */
  readonly limiter?: RateLimiter;
  /** Embedding requests in flight at once. */
  readonly concurrency: number;
  readonly logger: Logger;
}

/**
 * What every embedder gets without writing it: batches of at most `maxBatchSize` texts sent
 * with bounded concurrency, the shared retry policy around each request, and a check of every
 * answer, because a wrong-length, non-finite or all-zero vector must never reach the index
 * (a zero vector would silently poison search).
 */
export class ManagedEmbedder {
  /** Provider requests made and texts embedded, for progress and cost reporting. */
  readonly stats = { requests: 0, texts: 0 };

  constructor(
    readonly inner: Embedder,
    private readonly options: ManagedEmbedderOptions,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  get dimension(): number {
    return this.inner.dimension;
  }

  async embedDocuments(texts: readonly string[], call: CallContext = {}): Promise<number[][]> {
    const groups = batches(texts, { maxCount: Math.max(1, this.inner.maxBatchSize) });
    let offset = 0;
    const starts = groups.map((group) => (offset += group.length) - group.length);
    const results = await mapConcurrent(groups, this.options.concurrency, (group, i) =>
      this.request(
        { send: () => this.inner.embedDocuments(group, { signal: call.signal }), texts: group.length, tokens: tokensOf(group), start: starts[i]! },
        call,
      ),
    );
    return results.flat();
  }

  async embedQuery(text: string, call: CallContext = {}): Promise<number[]> {
    const [vector] = await this.request(
      { send: async () => [await this.inner.embedQuery(text, { signal: call.signal })], texts: 1, tokens: approximateTokens(text), start: 0 },
      call,
    );
    return vector!;
  }

  private request(request: EmbedRequest, call: CallContext): Promise<number[][]> {
    throwIfAborted(call.signal);
    const started = performance.now();
    let attempts = 0;
    return inSpan("dualstore.embed", { "dualstore.embedder": this.id, "dualstore.texts": request.texts }, async (span) => {
      try {
        const vectors = await this.send(request, call, () => attempts++);
        metric.duration("dualstore.embedder.duration", performance.now() - started, { embedder: this.id, outcome: "ok" });
        return vectors;
      } catch (error) {
        metric.duration("dualstore.embedder.duration", performance.now() - started, { embedder: this.id, outcome: "error" });
        throw error;
      } finally {
        span.set({ "dualstore.attempts": attempts });
      }
    });
  }

  private async send(request: EmbedRequest, call: CallContext, onAttempt: () => void): Promise<number[][]> {
    const limiter = this.options.limiter ?? unlimited;
    const vectors = await withRetry(
      async () => {
        // Every attempt, retries too, waits for its share of the provider's limit.
        await limiter.acquire(request.tokens, call.signal);
        onAttempt();
        this.stats.requests++;
        call.onRequest?.({ start: request.start, count: request.texts });
        try {
          // Embedders that cannot cancel a request (the local one) still return at once on abort.
          return await abortable(request.send(), call.signal);
        } catch (error) {
          // The provider's limit was hit: every worker sharing it waits as long as it was told to.
          if (error instanceof ProviderError && error.status === 429) await limiter.pause(error.retryAfterMs ?? 1_000);
          throw error;
        }
      },
      {
        ...this.options.retry,
        signal: call.signal,
        deadline: call.deadline,
        onRetry: ({ error, attempt, delayMs }) =>
          this.options.logger.warn("embedding request failed; retrying", { embedder: this.id, attempt, delayMs, error }),
      },
    );
    this.check(vectors, request.texts);
    this.stats.texts += request.texts;
    call.onProgress?.();
    return vectors;
  }

  private check(vectors: number[][], expected: number): void {
    const fail = (message: string) => new ProviderError(this.id, message, { retryable: false });
    if (!Array.isArray(vectors) || vectors.length !== expected) {
      throw fail(`returned ${Array.isArray(vectors) ? vectors.length : "no"} vectors for ${expected} texts`);
    }
    for (const vector of vectors) {
      if (vector.length !== this.dimension) throw new DimensionMismatchError(`embedder ${this.id}`, this.dimension, vector.length);
      let zero = true;
      for (const value of vector) {
        if (!Number.isFinite(value)) throw fail("returned a vector with a non-finite value");
        if (value !== 0) zero = false;
      }
      if (zero) throw fail("returned an all-zero vector");
    }
  }
}
