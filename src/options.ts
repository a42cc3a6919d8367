import { z } from "zod";
import type { Logger } from "./core/logger.js";
import type { DatabaseOptions } from "./db/database.js";
import type { DualstorePrismaClient } from "./db/dualstore-prisma-client.js";
import { ConfigurationError } from "./errors.js";
import { parseConfig } from "./internal/validate.js";
import type { MigrationSource } from "./db/migrations.js";
import type { OwnerMode } from "./repository/owners.js";
import type { TransactionOptions } from "./repository/repositories.js";
import type { VectorIndexOptions } from "./sync/vector-index.js";

export interface DualstoreOptions<Client extends DualstorePrismaClient = DualstorePrismaClient> extends Omit<VectorIndexOptions, "vectorStore"> {
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
  /** Environment to read fallbacks from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const retryShape = z.object({
  maxRetries: z.number().int().min(0).max(20).optional(),
  minDelayMs: z.number().min(0).optional(),
  maxDelayMs: z.number().min(0).optional(),
  maxRetryAfterMs: z.number().min(0).optional(),
});

const optionsShape = z.object({
  database: z
    .object({
      url: z.string().min(1).optional(),
      driver: z.enum(["pglite", "node-postgres", "neon"]).optional(),
      schema: z.string().min(1).max(63).optional(),
      poolSize: z.number().int().min(1).max(1_000).optional(),
      share: z.boolean().optional(),
      managedBy: z.enum(["dualstore", "app"]).optional(),
    })
    .loose()
    .optional(),
  migrate: z.boolean().optional(),
  owners: z.enum(["users", "external"]).optional(),
  transactions: z
    .object({ timeoutMs: z.number().int().min(1).optional(), maxWaitMs: z.number().int().min(1).optional() })
    .optional(),
  migrationsDir: z.string().min(1).optional(),
  sync: z
    .object({
      onWrite: z.enum(["none", "enqueue", "now"]).optional(),
      namespacing: z.enum(["single", "per-user"]).optional(),
      leaseMs: z.number().int().min(100).optional(),
      embedConcurrency: z.number().int().min(1).max(64).optional(),
      storeConcurrency: z.number().int().min(1).max(64).optional(),
      retry: retryShape.optional(),
      jobs: z
        .object({
          maxAttempts: z.number().int().min(1).max(100).optional(),
          baseDelayMs: z.number().min(0).optional(),
          maxDelayMs: z.number().min(0).optional(),
        })
        .optional(),
    })
    .loose()
    .optional(),
});

/** Checks the plain-data options at once, naming the first bad option and what it expected. */
export function checkOptions(options: DualstoreOptions): void {
  parseConfig(optionsShape, options);
  if (options.database?.managedBy !== "app") return;
  // The app's migrations own the tables: dualstore's would write a second history into them.
  if (options.migrate === true || options.migrationsDir !== undefined) {
    throw new ConfigurationError(
      `${options.migrate === true ? "migrate" : "migrationsDir"}: with database.managedBy: "app" your own Prisma migrations create dualstore's tables; dualstore never migrates them`,
    );
  }
  if (options.owners === "external") {
    throw new ConfigurationError(
      'owners: "external" makes User rows, and with database.managedBy: "app" the User table is your app\'s: create users as your app does and use their ids',
    );
  }
}

export type { MigrationSource };
