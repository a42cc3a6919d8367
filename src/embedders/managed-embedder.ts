import { abortable, type CallContext } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { throwIfAborted, withRetry, type RetryPolicy } from "../core/retry.js";
import { DimensionMismatchError, ProviderError } from "../errors.js";
import { inSpan, metric } from "../core/telemetry.js";
import { batches } from "../internal/batch.js";
import { mapConcurrent } from "../internal/concurrency.js";
import type { Embedder } from "./embedder.js";

export interface ManagedEmbedderOptions {
  readonly retry: RetryPolicy;
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
      this.request(() => this.inner.embedDocuments(group, { signal: call.signal }), group.length, call, starts[i]!),
    );
    return results.flat();
  }

  async embedQuery(text: string, call: CallContext = {}): Promise<number[]> {
    const [vector] = await this.request(async () => [await this.inner.embedQuery(text, { signal: call.signal })], 1, call);
    return vector!;
  }

  private request(send: () => Promise<number[][]>, expected: number, call: CallContext, start = 0): Promise<number[][]> {
    throwIfAborted(call.signal);
    const started = performance.now();
    let attempts = 0;
    return inSpan("dualstore.embed", { "dualstore.embedder": this.id, "dualstore.texts": expected }, async (span) => {
      try {
        const vectors = await this.send(send, expected, call, start, () => attempts++);
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

  private async send(send: () => Promise<number[][]>, expected: number, call: CallContext, start: number, onAttempt: () => void): Promise<number[][]> {
    const vectors = await withRetry(
      async () => {
        onAttempt();
        this.stats.requests++;
        call.onRequest?.({ start, count: expected });
        // Embedders that cannot cancel a request (the local one) still return at once on abort.
        return abortable(send(), call.signal);
      },
      {
        ...this.options.retry,
        signal: call.signal,
        deadline: call.deadline,
        onRetry: ({ error, attempt, delayMs }) =>
          this.options.logger.warn("embedding request failed; retrying", { embedder: this.id, attempt, delayMs, error }),
      },
    );
    this.check(vectors, expected);
    this.stats.texts += expected;
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
