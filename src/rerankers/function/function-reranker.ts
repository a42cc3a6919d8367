import { chainMessage } from "../../core/provider-errors.js";
import { throwIfAborted } from "../../core/retry.js";
import { DualstoreError, ProviderError } from "../../errors.js";
import type { RerankCallOptions, Reranker, RerankResult } from "../reranker.js";

/** What a reranking function is given. */
export interface RerankFunctionContext {
  readonly query: string;
  readonly texts: readonly string[];
  /** Aborted when the search is: stop work and let the promise reject. */
  readonly signal: AbortSignal | undefined;
}

/** Scores the texts for the query, one number per text in the order given; higher is more relevant. */
export type RerankFunction = (context: RerankFunctionContext) => readonly number[] | Promise<readonly number[]>;

export interface FunctionRerankerOptions {
  /** Named in logs, spans and the `degraded` flag. Default "function". */
  id?: string;
  /** Most texts one call may be given. Default 1,000. */
  maxTexts?: number;
}

/**
 * Any scoring function as a Reranker: a local cross-encoder, a BM25 over the candidates, a
 * business rule. A DualstoreError it throws passes through (a ProviderError marked retryable is
 * retried); anything else becomes a non-retryable ProviderError naming the reranker.
 */
export class FunctionReranker implements Reranker {
  readonly id: string;
  readonly maxTexts: number;

  constructor(
    private readonly score: RerankFunction,
    options: FunctionRerankerOptions = {},
  ) {
    this.id = options.id ?? "function";
    this.maxTexts = options.maxTexts ?? 1_000;
  }

  async rerank(query: string, texts: readonly string[], options: RerankCallOptions = {}): Promise<RerankResult[]> {
    throwIfAborted(options.signal);
    let scores: readonly number[];
    try {
      scores = await this.score({ query, texts, signal: options.signal });
    } catch (error) {
      if (error instanceof DualstoreError) throw error;
      throw new ProviderError(this.id, chainMessage(error), { retryable: false, cause: error });
    }
    if (!Array.isArray(scores) || scores.length !== texts.length) {
      throw new ProviderError(this.id, `returned ${Array.isArray(scores) ? scores.length : "no"} scores for ${texts.length} texts`, { retryable: false });
    }
    return scores
      .map((score, index) => ({ index, score }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, options.topN ?? texts.length);
  }
}
