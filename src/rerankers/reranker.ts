/** Per-call options every reranker honours. */
export interface RerankCallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Return only the best `topN` results. Default: one result per text. */
  readonly topN?: number | undefined;
}

/** One text's relevance to the query. */
export interface RerankResult {
  /** Position of the text in the list given to `rerank`. */
  readonly index: number;
  /** Relevance to the query; higher is more relevant (Cohere's are 0..1). */
  readonly score: number;
}

/**
 * Orders candidate texts by their relevance to a query, more closely than the first-stage
 * ranking that found them (a cross-encoder reads query and text together). Implementations make
 * the provider call and map its failures to ProviderError (with `retryable` set); retries,
 * telemetry and the check of every answer are done once for all of them by dualstore.
 */
export interface Reranker {
  /** `provider:model`, for logs, spans and metrics. */
  readonly id: string;
  /** Most texts one `rerank` call may be given. */
  readonly maxTexts: number;
  /** The texts' relevance, best first: each index at most once, at most `topN` of them. */
  rerank(query: string, texts: readonly string[], options?: RerankCallOptions): Promise<RerankResult[]>;
}
