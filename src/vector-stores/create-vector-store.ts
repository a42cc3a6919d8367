import { z } from "zod";
import type { Logger } from "../core/logger.js";
import type { Database } from "../db/database.js";
import { fromPrismaError } from "../db/prisma-errors.js";
import { ConfigurationError } from "../errors.js";
import { parseConfig } from "../internal/validate.js";
import { checkLanceDbConfig, type LanceDbVectorStoreConfig } from "./lancedb/lancedb-config.js";
import { MemoryVectorStore } from "./memory/memory-vector-store.js";
import { PgVectorStore, type PgVectorStoreOptions } from "./pgvector/pgvector-vector-store.js";
import { parsePineconeConfig, type PineconeVectorStoreConfig } from "./pinecone/pinecone-config.js";
import type { VectorStore } from "./vector-store.js";

/** Which vector store to use: a built-in provider by name with its options, or any VectorStore object. */
export type VectorStoreConfig =
  | { provider: "memory" }
  | ({ provider: "pgvector" } & PgVectorStoreOptions)
  | ({ provider: "pinecone" } & PineconeVectorStoreConfig)
  | ({ provider: "lancedb" } & LanceDbVectorStoreConfig)
  | VectorStore;

export interface VectorStoreContext {
  readonly database: Database;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
}

// The built-in stores' options as strict objects: a misspelled option is named, never ignored.
// (Pinecone's own schema lives in pinecone-config.ts, with its environment fallbacks.)
const memoryOptions = z.strictObject({ provider: z.literal("memory") });
const pgvectorOptions = z.strictObject({
  provider: z.literal("pgvector"),
  schema: z.string().min(1).max(63).optional(),
  table: z.string().min(1).max(63).optional(),
  efSearch: z.number().int().min(1).max(1_000).optional(),
});
const lanceDbOptions = z.strictObject({
  uri: z.string(),
  table: z.string().optional(),
  apiKey: z.string().optional(),
  region: z.string().min(1).optional(),
});

function isVectorStore(value: unknown): value is VectorStore {
  return typeof value === "object" && value !== null && typeof (value as VectorStore).upsert === "function";
}

/**
 * Checks the configuration of the store createVectorStore would build, without loading its SDK
 * or connecting: a missing key fails before the database is even opened.
 */
export function checkVectorStoreConfig(config: VectorStoreConfig | undefined, env: NodeJS.ProcessEnv): void {
  if (isVectorStore(config)) return;
  if (config === undefined) {
    if (env.PINECONE_API_KEY) checkVectorStoreConfig({ provider: "pinecone" }, env);
    return;
  }
  switch (config.provider) {
    case "pinecone": {
      const { provider: _provider, ...options } = config;
      parsePineconeConfig(options, env);
      return;
    }
    case "lancedb": {
      const { provider: _provider, ...options } = config;
      parseConfig(lanceDbOptions, options, "vectorStore");
      checkLanceDbConfig(options, env);
      return;
    }
    case "memory":
      parseConfig(memoryOptions, config, "vectorStore");
      return;
    case "pgvector":
      parseConfig(pgvectorOptions, config, "vectorStore");
      return;
    default:
      throw new ConfigurationError(`vectorStore.provider: unknown provider ${JSON.stringify((config as { provider: unknown }).provider)}`, { option: "vectorStore.provider" });
  }
}

/**
 * Builds the configured vector store; provider SDKs are loaded only when chosen. Absent:
 * Pinecone when PINECONE_API_KEY is set, else pgvector in dualstore's own database when it has
 * the extension (PGlite always does), else a ConfigurationError that says how to configure one.
 */
export async function createVectorStore(config: VectorStoreConfig | undefined, context: VectorStoreContext): Promise<VectorStore> {
  if (isVectorStore(config)) return config;
  const { database, env } = context;
  if (config === undefined) {
    if (env.PINECONE_API_KEY) return createVectorStore({ provider: "pinecone" }, context);
    const hasPgvector = await PgVectorStore.available(database.prisma).catch((error: unknown) => {
      throw fromPrismaError(error, { entity: "Database" });
    });
    if (hasPgvector) return new PgVectorStore(database);
    throw new ConfigurationError(
      "vectorStore: none is configured and this database has no pgvector extension. Pass vectorStore: " +
        '{ provider: "pinecone", index: "..." } (or set PINECONE_API_KEY and PINECONE_INDEX), { provider: "lancedb", uri: "./vectors" }, ' +
        '{ provider: "memory" } for tests, or null to use the repositories without a vector index.',
    );
  }
  switch (config.provider) {
    case "memory":
      return new MemoryVectorStore();
    case "pgvector": {
      const { provider: _provider, ...options } = config;
      return new PgVectorStore(database, options);
    }
    case "pinecone": {
      const { provider: _provider, ...options } = config;
      const { createPineconeVectorStore } = await import("./pinecone/pinecone-vector-store.js");
      return createPineconeVectorStore(options, context);
    }
    case "lancedb": {
      const { provider: _provider, ...options } = config;
      const { createLanceDbVectorStore } = await import("./lancedb/lancedb-vector-store.js");
      return createLanceDbVectorStore(options, context);
    }
    default:
      throw new ConfigurationError(`vectorStore.provider: unknown provider ${JSON.stringify((config as { provider: unknown }).provider)}`, { option: "vectorStore.provider" });
  }
}
