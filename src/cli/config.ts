import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { consoleLogger } from "../core/logger.js";
import { registerSecret } from "../core/redact.js";
import { parseDatabaseUrl } from "../db/database.js";
import type { EmbedderConfig } from "../embedders/create-embedder.js";
import { ConfigurationError } from "../errors.js";
import type { DualstoreOptions } from "../options.js";
import type { VectorStoreConfig } from "../vector-stores/create-vector-store.js";
import type { Flags } from "./args.js";

/**
 * Where the CLI keeps its data when neither --database-url nor DATABASE_URL says: a PGlite
 * directory under the working directory, so that `ingest`, then `search`, in two runs see the
 * same data (the library's own default, PGlite in memory, would forget everything on exit).
 */
const DEFAULT_DATABASE_DIR = ".dualstore/db";
/** Where `--vector-store lancedb` keeps its tables when neither --lancedb-uri nor LANCEDB_URI says. */
const DEFAULT_LANCEDB_DIR = ".dualstore/lancedb";

const vectorStoreNames = ["pgvector", "pinecone", "lancedb", "memory"] as const;
const embedderNames = ["local", "openai", "cohere"] as const;

/** Environment variables holding secrets: masked in anything the CLI prints, whatever the library does with them. */
const SECRET_VARIABLES = ["OPENAI_API_KEY", "COHERE_API_KEY", "PINECONE_API_KEY", "LANCEDB_API_KEY"] as const;

/**
 * Builds createDualstore's options from the connection flags, each falling back to the
 * environment (DATABASE_URL, DUALSTORE_VECTOR_STORE, LANCEDB_URI, DUALSTORE_EMBEDDER,
 * DUALSTORE_SCHEMA); provider keys and hosts are read by the providers from the environment.
 */
export async function connectionOptions(flags: Flags, env: NodeJS.ProcessEnv, cwd: string): Promise<DualstoreOptions> {
  for (const name of SECRET_VARIABLES) registerSecret(env[name]);
  const url = flags.string("database-url") ?? nonEmpty(env.DATABASE_URL) ?? resolve(cwd, DEFAULT_DATABASE_DIR);
  registerSecret(passwordOf(url));
  const target = parseDatabaseUrl(url);
  if (target.kind === "pglite" && target.dataDir !== undefined) await mkdir(resolve(cwd, target.dataDir), { recursive: true });

  const schema = flags.string("schema") ?? nonEmpty(env.DUALSTORE_SCHEMA);
  const vectorStore = flags.choice("vector-store", vectorStoreNames) ?? fromEnvironment(env, "DUALSTORE_VECTOR_STORE", vectorStoreNames);
  const embedder = flags.choice("embedder", embedderNames) ?? fromEnvironment(env, "DUALSTORE_EMBEDDER", embedderNames);
  const lancedbUri = flags.string("lancedb-uri") ?? nonEmpty(env.LANCEDB_URI) ?? resolve(cwd, DEFAULT_LANCEDB_DIR);
  return {
    database: { url, ...(schema === undefined ? {} : { schema }) },
    ...(vectorStore === undefined ? {} : { vectorStore: vectorStoreConfig(vectorStore, lancedbUri) }),
    ...(embedder === undefined ? {} : { embedder: { provider: embedder } satisfies EmbedderConfig }),
    ...(flags.boolean("verbose") ? { logger: consoleLogger("info") } : {}),
    env,
  };
}

function vectorStoreConfig(name: (typeof vectorStoreNames)[number], lancedbUri: string): VectorStoreConfig {
  switch (name) {
    case "lancedb":
      return { provider: "lancedb", uri: lancedbUri };
    case "pinecone":
      // Key, index and host come from PINECONE_API_KEY, PINECONE_INDEX and PINECONE_HOST.
      return { provider: "pinecone" };
    default:
      return { provider: name };
  }
}

function fromEnvironment<T extends string>(env: NodeJS.ProcessEnv, variable: string, choices: readonly T[]): T | undefined {
  const value = nonEmpty(env[variable]);
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigurationError(`${variable}: expected one of ${choices.join(", ")}`);
  }
  return value as T;
}

function passwordOf(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const password = new URL(url).password;
  return password === "" ? undefined : decodeURIComponent(password);
}

/** A variable set to "" counts as unset, as shells and .env files often leave it. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
