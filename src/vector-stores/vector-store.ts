import type { VectorFilter } from "./filter.js";

/** Metadata values every store can hold (Pinecone's rules: no null, no nested objects, lists of strings only). */
export type MetadataValue = string | number | boolean | string[];
export type VectorMetadata = Record<string, MetadataValue>;

export interface QueryRequest {
  readonly vector: number[];
  readonly topK: number;
  readonly filter?: VectorFilter | undefined;
  readonly namespace: string;
  /** Whether matches carry their metadata. Default true. */
  readonly includeMetadata?: boolean | undefined;
}

export interface VectorRecord {
  readonly id: string;
  readonly values: number[];
  readonly metadata: VectorMetadata;
}

export interface VectorMatch {
  readonly id: string;
  /** Cosine similarity, from -1 to 1: higher is closer, the same scale in every store. */
  readonly score: number;
  readonly metadata: VectorMetadata;
}

export interface VectorStoreInfo {
  readonly dimension: number;
  /** Vectors held (across namespaces). Eventually consistent stores may lag. */
  readonly count: number;
}

/** Store-specific limits the managed wrapper batches within. */
export interface VectorStoreLimits {
  /** Most records per upsert request. */
  readonly maxUpsertRecords: number;
  /** Most bytes per upsert request body (Pinecone: 2 MB); absent when unlimited. */
  readonly maxUpsertBytes?: number;
  /** Most bytes of metadata per record (Pinecone: 40 KB); absent when unlimited. */
  readonly maxMetadataBytes?: number;
  /** Most ids per fetch or delete request. */
  readonly maxIdsPerRequest: number;
  /** Most ids per fetch request, when lower (Pinecone puts them in the URL). Default: maxIdsPerRequest. */
  readonly maxFetchIds?: number;
  /** Longest record id. */
  readonly maxIdLength: number;
}

/**
 * Per-call options every store honours. An aborted call rejects with AbortedError at once and
 * sends nothing more; a request already sent may still be applied by the store, which dualstore
 * allows for (see the README's consistency guarantees).
 */
export interface VectorStoreCallOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * A vector index. Every call names a namespace ("" is the default): a store may implement it
 * natively (Pinecone) or as a column (pgvector, LanceDB). Implementations do one request per
 * call, honour the call's AbortSignal, and map failures to ProviderError; batching, retries and
 * lifecycle live in dualstore's wrapper around them.
 */
export interface VectorStore {
  /** Short name for logs and health(), e.g. "pinecone". */
  readonly name: string;
  readonly limits: VectorStoreLimits;
  /** "eventual" when a write may take a moment to be visible to query/list (Pinecone). */
  readonly consistency: "strong" | "eventual";
  /** Prepares the store for vectors of this length (creates tables or indexes); refuses a mismatch. */
  init(options: { dimension: number }): Promise<void>;
  upsert(records: readonly VectorRecord[], namespace: string, options?: VectorStoreCallOptions): Promise<void>;
  /**
   * Bytes `record` takes in this store's upsert request, at most, for a store that writes its
   * own request bodies (Pinecone writes values as float32). Default: its size as JSON.
   */
  upsertRecordBytes?(record: VectorRecord): number;
  /** Deletes these ids; ids that do not exist are ignored. */
  delete(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<void>;
  /**
   * Deletes every id starting with `prefix`, when the store can do it in one request. Without
   * it, dualstore lists the ids by prefix and deletes them page by page.
   */
  deletePrefix?(prefix: string, namespace: string, options?: VectorStoreCallOptions): Promise<void>;
  /**
   * The `topK` closest records to `vector` passing `filter`, best first. With `includeMetadata:
   * false` (search, which hydrates hits from PostgreSQL) a store leaves the metadata out where
   * sending it costs something (Pinecone's response, pgvector's rows) and answers `{}`.
   */
  query(request: QueryRequest, options?: VectorStoreCallOptions): Promise<VectorMatch[]>;
  /** The records with these ids that exist, values included. */
  fetch(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<VectorRecord[]>;
  /** One page of ids starting with `prefix`, in UTF-8 byte order; `cursor` is the previous page's `next`. */
  listIds(
    request: { prefix: string; namespace: string; limit: number; cursor?: string | undefined },
    options?: VectorStoreCallOptions,
  ): Promise<{ ids: string[]; next?: string | undefined }>;
  /** Namespaces holding vectors (for reconciliation across tenants). */
  listNamespaces(options?: VectorStoreCallOptions): Promise<string[]>;
  describe(options?: VectorStoreCallOptions): Promise<VectorStoreInfo>;
  /** Periodic upkeep the store needs (LanceDB: compaction and old-version cleanup). Workers call it now and then. */
  maintain?(): Promise<void>;
  close?(): Promise<void>;
}
