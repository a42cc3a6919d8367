/** Per-call options every provider honours. */
export interface EmbedCallOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * Turns text into vectors. Implementations make the provider call and map its failures to
 * ProviderError (with `retryable` set); batching to `maxBatchSize`, concurrency, retries and
 * output checks are done once for all of them by dualstore.
 */
export interface Embedder {
  /** `provider:model:dimension`, recorded with every document's vectors: a change re-embeds them. */
  readonly id: string;
  /** Length of every vector returned. */
  readonly dimension: number;
  /** Most texts one `embedDocuments` call may be given. */
  readonly maxBatchSize: number;
  /** Embeds texts to be stored and searched (never more than `maxBatchSize`, none empty). */
  embedDocuments(texts: readonly string[], options?: EmbedCallOptions): Promise<number[][]>;
  /** Embeds a search query; providers such as Cohere embed queries differently from documents. */
  embedQuery(text: string, options?: EmbedCallOptions): Promise<number[]>;
  /** Checks the provider answers (used by health()). Default: embeds a short query. */
  ping?(options?: EmbedCallOptions): Promise<void>;
  /** Releases what the embedder holds. */
  close?(): Promise<void>;
}
