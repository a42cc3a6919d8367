import { abortable } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { throwIfAborted, withRetry, type RetryPolicy } from "../core/retry.js";
import { inSpan, metric } from "../core/telemetry.js";
import { ProviderError } from "../errors.js";
import type { RerankCallOptions, Reranker, RerankResult } from "./reranker.js";

export interface ManagedRerankerOptions {
  readonly retry: RetryPolicy;
  readonly logger: Logger;
}

/**
 * What every reranker gets without writing it: the shared retry policy, an abort that returns at
 * once, a span and metrics per call, and a check of every answer (an index out of range, twice,
 * or a non-finite score would put the wrong chunk in front of the user).
 */
export class ManagedReranker {
  constructor(
    readonly inner: Reranker,
    private readonly options: ManagedRerankerOptions,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  /**
   * The texts' relevance, best first, at most `topN`. Only the first `maxTexts` texts are sent
   * (callers pass them best first). No texts: no request.
   */
  async rerank(query: string, texts: readonly string[], call: RerankCallOptions = {}): Promise<RerankResult[]> {
    throwIfAborted(call.signal);
    const sent = texts.slice(0, Math.max(1, this.inner.maxTexts));
    if (sent.length === 0) return [];
    const topN = Math.min(call.topN ?? sent.length, sent.length);
    const started = performance.now();
    let attempts = 0;
    return inSpan("dualstore.rerank", { "dualstore.reranker": this.id, "dualstore.texts": sent.length }, async (span) => {
      let outcome = "error";
      try {
        const results = await withRetry(
          async () => {
            attempts++;
            metric.rerankRequests(1, { reranker: this.id });
            return this.check(await abortable(this.inner.rerank(query, sent, { topN, signal: call.signal }), call.signal), sent.length, topN);
          },
          {
            ...this.options.retry,
            signal: call.signal,
            onRetry: ({ error, attempt, delayMs }) => this.options.logger.warn("rerank request failed; retrying", { reranker: this.id, attempt, delayMs, error }),
          },
        );
        outcome = "ok";
        return results;
      } finally {
        span.set({ "dualstore.attempts": attempts });
        metric.duration("dualstore.reranker.duration", performance.now() - started, { reranker: this.id, outcome });
      }
    });
  }

  private check(results: RerankResult[], texts: number, topN: number): RerankResult[] {
    const fail = (message: string) => new ProviderError(this.id, message, { retryable: false });
    if (!Array.isArray(results)) throw fail("returned no results");
    if (results.length > topN) throw fail(`returned ${results.length} results where at most ${topN} were asked for`);
    const seen = new Set<number>();
    for (const result of results) {
      const index = result?.index;
      if (!Number.isInteger(index) || index < 0 || index >= texts) throw fail(`returned an index outside the ${texts} texts`);
      if (seen.has(index)) throw fail(`returned index ${index} twice`);
      if (!Number.isFinite(result.score)) throw fail("returned a non-finite score");
      seen.add(index);
    }
    return [...results].sort((a, b) => b.score - a.score || a.index - b.index);
  }
}
