import { z } from "zod";
import type { Logger } from "./core/logger.js";
import type { DatabaseOptions } from "./db/database.js";
import type { DualstorePrismaClient } from "./db/dualstore-prisma-client.js";
import type { PrismaClient as DualstoreClient } from "dualstore/prisma";
import { ConfigurationError } from "./errors.js";
import { parseConfig, type Covered, type Unchecked } from "./internal/validate.js";
import type { MigrationSource } from "./db/migrations.js";
import { callback } from "./repository/fields.js";
import type { OwnerMode } from "./repository/owners.js";
import type { AnySource } from "./sources/source.js";
import type { TransactionOptions } from "./repository/repositories.js";
import type { SyncOptions, VectorIndexOptions } from "./sync/vector-index.js";
import type { RecursiveChunkerOptions } from "./chunking/recursive-chunker.js";
import type { RetryPolicy } from "./core/retry.js";
import type { NeonSettings } from "./db/drivers/neon.js";
import type { JobRetryPolicy } from "./sync/worker.js";
import type { RerankerConfig } from "./rerankers/create-reranker.js";
import type { RerankSettings } from "./search/rerank-step.js";

/** `search` in createDualstore options: how searches are reranked. */
export interface SearchSettings extends RerankSettings {
  /**
   * Reranks every search's first-stage candidates before `topK` (per call: `rerank: false`
   * turns it off): `{ provider: "cohere", ... }` (needs the `cohere-ai` package), any Reranker,
   * or a scoring function `({ query, texts, signal }) => scores`. Default: none.
   */
  reranker?: RerankerConfig;
}

export interface DualstoreOptions<Client extends DualstorePrismaClient = DualstoreClient> extends Omit<VectorIndexOptions, "vectorStore"> {
  /**
   * The vector index. Default: pgvector in dualstore's own database when it has the extension
   * (PGlite always does), Pinecone when PINECONE_API_KEY is set; otherwise createDualstore
   * fails and says how to configure one. `null`: no vector index (repositories only).
   */
  vectorStore?: VectorIndexOptions["vectorStore"] | null;
  /** The database. Default: DATABASE_URL from the environment, else PGlite in memory. */
  database?: DatabaseOptions<Client>;
  /**
   * Apply pending migrations when the instance is created. Default `true` (`false` with
   * `database.managedBy: "app"`, where dualstore never migrates): migrate() is idempotent and
   * locked, so every process may call it. Set `false` to run `ds.migrate()` (or
   * `prisma migrate deploy`) yourself, e.g. from a deploy step.
   */
  migrate?: boolean;
  /** A Prisma migrations folder to apply instead of dualstore's own (e.g. a copy you extended). */
  migrationsDir?: string;
  /** Where dualstore reports what it does. Default: silent. Secrets are masked before it sees anything. */
  logger?: Logger;
  /** Limits for the transactions dualstore opens (and `ds.transaction()`). */
  transactions?: TransactionOptions;
  /**
   * Whose ids the owners (`userId`) of chats, artifacts and settings are. Default `"users"`:
   * dualstore's own users (`ds.users.create()`). `"external"`: your app's user ids, used as they
   * are; dualstore keeps a minimal User row (no email) per owner, made on first use.
   */
  owners?: OwnerMode;
  /**
   * Tables of your app to make searchable (`defineSource()`, `messagesSource()`,
   * `artifactsSource()`); `ds.sources.install()` puts their triggers in place. Every process
   * that runs index jobs needs the same list. Default: none.
   */
  sources?: readonly AnySource[];
  /** Environment to read fallbacks from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Search settings: a reranker. Default: none. */
  search?: SearchSettings;
}

// One schema per options group, each a strict object: an unknown key (a misspelled option) is a
// ConfigurationError naming it and the nearest known key, never silently ignored. A new option
// is one line in its group here. Objects the app passes in (clients, loggers, embedders, stores,
// chunkers) are checked for the methods dualstore calls, not for their shape.

const instance = (what: string, method?: string) =>
  z.custom<object>(
    (value) => typeof value === "object" && value !== null && (method === undefined || typeof (value as Record<string, unknown>)[method] === "function"),
    { message: `must be ${what}` },
  );

export const retryPolicyOptions = z.strictObject({
  maxRetries: z.number().int().min(0).max(20).optional(),
  minDelayMs: z.number().min(0).max(3_600_000).optional(),
  maxDelayMs: z.number().min(0).max(3_600_000).optional(),
  maxRetryAfterMs: z.number().min(0).max(86_400_000).optional(),
});

export const jobRetryOptions = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).optional(),
  baseDelayMs: z.number().min(0).max(86_400_000).optional(),
  maxDelayMs: z.number().min(0).max(7 * 86_400_000).optional(),
});

export const neonOptions = z.strictObject({
  wsProxy: z.union([z.string().min(1), callback]).optional(),
  useSecureWebSocket: z.boolean().optional(),
  pipelineConnect: z.union([z.literal("password"), z.literal(false)]).optional(),
  pipelineTLS: z.boolean().optional(),
  forceDisablePgSSL: z.boolean().optional(),
  webSocketConstructor: z.unknown().optional(),
});

export const databaseOptions = z.strictObject({
  url: z.string().min(1).optional(),
  driver: z.enum(["pglite", "node-postgres", "neon"]).optional(),
  schema: z.string().min(1).max(63).optional(),
  poolSize: z.number().int().min(1).max(1_000).optional(),
  share: z.boolean().optional(),
  prisma: instance("a PrismaClient", "$queryRawUnsafe").optional(),
  managedBy: z.enum(["dualstore", "app"]).optional(),
  pglite: instance("an open PGlite instance", "query").optional(),
  neon: neonOptions.optional(),
  onQuery: callback.optional(),
});

export const syncOptions = z.strictObject({
  onWrite: z.enum(["none", "enqueue", "now"]).optional(),
  namespacing: z.enum(["single", "per-user"]).optional(),
  contentLoader: callback.optional(),
  leaseMs: z.number().int().min(100).max(86_400_000).optional(),
  embedConcurrency: z.number().int().min(1).max(64).optional(),
  storeConcurrency: z.number().int().min(1).max(64).optional(),
  embeddingCache: z.strictObject({ maxEntries: z.number().int().min(0).max(10_000_000).optional() }).optional(),
  retry: retryPolicyOptions.optional(),
  jobs: jobRetryOptions.optional(),
  rateLimit: z
    .strictObject({
      requestsPerMinute: z.number().positive().max(1e9).optional(),
      tokensPerMinute: z.number().positive().max(1e12).optional(),
    })
    .optional(),
});

export const chunkerSettings = z.strictObject({
  chunkSize: z.number().int().min(16).max(1_000_000).optional(),
  overlap: z.number().int().min(0).max(1_000_000).optional(),
  countTokens: callback.optional(),
  tokenizerName: z.string().min(1).max(100).optional(),
});

/** Every option the types declare has its line in its group's schema (see Covered). */
export type OptionGroupsCovered = [
  Covered<Unchecked<DualstoreOptions, typeof dualstoreOptions>>,
  Covered<Unchecked<DatabaseOptions, typeof databaseOptions>>,
  Covered<Unchecked<NeonSettings, typeof neonOptions>>,
  Covered<Unchecked<SyncOptions, typeof syncOptions>>,
  Covered<Unchecked<RetryPolicy, typeof retryPolicyOptions>>,
  Covered<Unchecked<JobRetryPolicy, typeof jobRetryOptions>>,
  Covered<Unchecked<TransactionOptions, typeof transactionOptions>>,
  Covered<Unchecked<RecursiveChunkerOptions, typeof chunkerSettings>>,
  Covered<Unchecked<SearchSettings, typeof searchSettings>>,
];

/** `chunker` is a Chunker object (anything with `chunk()`) or the RecursiveChunker's settings. */
function checkChunker(chunker: unknown): void {
  if (typeof chunker === "object" && chunker !== null && typeof (chunker as { chunk?: unknown }).chunk === "function") return;
  parseConfig(chunkerSettings, chunker, "chunker");
}

export const searchSettings = z.strictObject({
  // Checked by create-reranker.ts: a Reranker, a function or { provider, ... }.
  reranker: z.unknown().optional(),
  candidates: z.number().int().min(1).max(1_000).optional(),
  strict: z.boolean().optional(),
});

export const transactionOptions = z.strictObject({
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  maxWaitMs: z.number().int().min(1).max(86_400_000).optional(),
});

export const dualstoreOptions = z.strictObject({
  database: databaseOptions.optional(),
  // Provider configurations are checked by their providers (create-embedder.ts, create-vector-store.ts),
  // each against its own strict schema, before anything is opened.
  embedder: instance("an Embedder or { provider, ... }").optional(),
  vectorStore: instance("a VectorStore or { provider, ... }").nullable().optional(),
  chunker: z.unknown().optional(),
  sync: syncOptions.optional(),
  migrate: z.boolean().optional(),
  migrationsDir: z.string().min(1).optional(),
  logger: instance("a Logger (debug, info, warn and error methods)", "warn").optional(),
  transactions: transactionOptions.optional(),
  owners: z.enum(["users", "external"]).optional(),
  env: instance("an environment object such as process.env").optional(),
  search: searchSettings.optional(),
  sources: z
    .array(z.object({ name: z.string(), table: z.string(), key: z.string() }).loose(), { error: "must be a list of sources made by defineSource()" })
    .max(100)
    .refine((sources) => new Set(sources.map((source) => source.name)).size === sources.length, { message: "two sources have the same name" })
    .optional(),
});

/**
 * Checks every option before anything is opened, naming the first bad one and what it expected;
 * an unknown option is named with the nearest known one. Providers check their own groups.
 */
export function checkOptions(options: DualstoreOptions<DualstorePrismaClient>): void {
  parseConfig(dualstoreOptions, options);
  if (options.chunker !== undefined) checkChunker(options.chunker);
  if (options.database?.managedBy !== "app") return;
  // The app's migrations own the tables: dualstore's would write a second history into them.
  if (options.migrate === true || options.migrationsDir !== undefined) {
    const option = options.migrate === true ? "migrate" : "migrationsDir";
    throw new ConfigurationError(`${option}: with database.managedBy: "app" your own Prisma migrations create dualstore's tables; dualstore never migrates them`, { option });
  }
  if (options.owners === "external") {
    throw new ConfigurationError(
      'owners: "external" makes User rows, and with database.managedBy: "app" the User table is your app\'s: create users as your app does and use their ids',
      { option: "owners" },
    );
  }
}

export type { MigrationSource };
