import { probe, type HealthReport } from "./core/health.js";
import { redactingLogger, silentLogger, type Logger } from "./core/logger.js";
import { redact } from "./core/redact.js";
import { openDatabase, type Database } from "./db/database.js";
import { migrate, type MigrateResult } from "./db/migrate.js";
import { readMigrationsDir, type MigrationSource } from "./db/migrations.js";
import type { PrismaClient } from "./db/prisma.js";
import { ClosedError } from "./errors.js";
import { bundledMigrations } from "./generated/migrations.js";
import { parseInput } from "./internal/validate.js";
import { checkOptions, type DualstoreOptions } from "./options.js";
import { id } from "./repository/fields.js";
import type { DocumentSync } from "./repository/hooks.js";
import {
  createRepositories,
  inTransaction,
  standaloneContext,
  type Repositories,
} from "./repository/repositories.js";
import type { Scope } from "./repository/scope.js";
import { rowOnlySync } from "./sync/row-only-sync.js";

/** The repositories as one user sees them: another user's rows are invisible. */
export interface ScopedDualstore extends Repositories {
  readonly userId: string;
  /** Runs `work` in one database transaction, with repositories scoped to this user. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
}

/** The object `createDualstore()` returns: one typed data layer over PostgreSQL and a vector index. */
export interface Dualstore extends Repositories {
  /** The Prisma client dualstore works through, for queries the repositories do not cover. */
  readonly prisma: PrismaClient;
  /** Which driver the database was opened with, and where it lives (no secrets). */
  readonly database: { readonly driver: Database["driver"]; readonly location: string; readonly schema: string | undefined };
  /** The same repositories seen by one user: their rows (and public documents) only. */
  as(userId: string): ScopedDualstore;
  /** Runs `work` in one database transaction: every write in it commits together or not at all. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /**
   * Applies pending migrations; see {@link MigrateResult}. Safe to call from several processes
   * at once: they take turns on Prisma Migrate's own advisory lock.
   */
  migrate(options?: { lockTimeoutMs?: number }): Promise<MigrateResult>;
  /** Probes every store and reports its status and latency. Never throws. */
  health(): Promise<HealthReport>;
  /** Releases every connection and handle dualstore opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the database (and, unless `migrate: false`, brings its schema up to date) and returns
 * the dualstore instance. Call `close()` when done.
 */
export async function createDualstore(options: DualstoreOptions = {}): Promise<Dualstore> {
  checkOptions(options);
  const env = options.env ?? process.env;
  const logger: Logger = redactingLogger(options.logger ?? silentLogger);
  const migrations: readonly MigrationSource[] = options.migrationsDir
    ? readMigrationsDir(options.migrationsDir)
    : bundledMigrations;
  const transactionOptions = options.transactions ?? {};

  const database = await openDatabase(options.database ?? {}, { env, logger });
  const { prisma } = database;
  const sync: DocumentSync = rowOnlySync(prisma);
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new ClosedError();
  };
  const repositoriesFor = (scope: Scope) => createRepositories(standaloneContext(prisma, scope, transactionOptions), sync);
  const transactionFor = (scope: Scope) => <T>(work: (tx: Repositories) => Promise<T>) => {
    ensureOpen();
    return inTransaction(prisma, scope, sync, transactionOptions, work);
  };

  const instance: Dualstore = {
    ...repositoriesFor(null),
    prisma,
    database: { driver: database.driver, location: database.location, schema: database.schema },
    as(userId) {
      const key = parseInput(id, userId, "user id");
      return { ...repositoriesFor({ userId: key }), userId: key, transaction: transactionFor({ userId: key }) };
    },
    transaction: transactionFor(null),
    async migrate(migrateOptions = {}) {
      ensureOpen();
      const result = await migrate(prisma, { ...migrateOptions, migrations, schema: database.schema, logger });
      if (result.applied.length > 0) logger.info("applied migrations", { applied: result.applied });
      return result;
    },
    async health() {
      const db = await probe(database.location, () => prisma.$executeRawUnsafe("SELECT 1"), redact);
      return { status: db.status === "up" ? "up" : "down", database: db };
    },
    async close() {
      if (closed) return;
      closed = true;
      await database.close();
    },
  };

  if (options.migrate ?? true) {
    try {
      await instance.migrate();
    } catch (error) {
      await instance.close();
      throw error;
    }
  }
  return instance;
}
