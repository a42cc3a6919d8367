import { ConfigurationError } from "../../errors.js";

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

/** Table names LanceDB accepts. */
const TABLE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks the options (and, for LanceDB Cloud, that a key is set), without loading LanceDB.
 * Returns the API key for `db://` URIs.
 */
export function checkLanceDbConfig(config: LanceDbVectorStoreConfig, env: NodeJS.ProcessEnv): { apiKey: string | undefined } {
  if (typeof config.uri !== "string" || config.uri.trim() === "") {
    throw new ConfigurationError('vectorStore.uri: required, a local directory (e.g. "./vectors") or a LanceDB URI such as "db://my-database"', { option: "vectorStore.uri" });
  }
  if (config.table !== undefined && !TABLE_NAME.test(config.table)) {
    throw new ConfigurationError(`vectorStore.table: invalid name ${JSON.stringify(config.table)}; use 1 to 128 letters, digits, "_" or "-"`, { option: "vectorStore.table" });
  }
  if (!config.uri.startsWith("db://")) return { apiKey: undefined };
  const apiKey = config.apiKey ?? env.LANCEDB_API_KEY;
  if (!apiKey) throw new ConfigurationError("vectorStore.apiKey: LanceDB Cloud (db://) needs an API key; pass apiKey or set LANCEDB_API_KEY", { option: "vectorStore.apiKey" });
  return { apiKey };
}
