/** Options for the LanceDB vector store (`vectorStore: { provider: "lancedb", ... }`). */
export interface LanceDbVectorStoreConfig {
  /**
   * Where the database lives: a local directory (created if missing, e.g. `./vectors`), object
   * storage (`s3://bucket/path`, `gs://...`) or LanceDB Cloud (`db://my-database`). Required.
   */
  uri: string;
  /**
   * Table for the vectors, created if missing. Default `vectors_<dimension>`, so a new embedder
   * dimension gets a new table; a named table of another dimension is refused.
   */
  table?: string;
  /** LanceDB Cloud API key, needed for `db://` URIs. Default: the LANCEDB_API_KEY environment variable. */
  apiKey?: string;
  /** LanceDB Cloud region. Default: LanceDB's own default (`us-east-1`). */
  region?: string;
}
