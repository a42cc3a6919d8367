import { probe, type HealthReport } from "./core/health.js";
import { redactingLogger, silentLogger, type Logger } from "./core/logger.js";
import { redact } from "./core/redact.js";
import { openDatabase, type Database } from "./db/database.js";
import { migrate, type MigrateResult } from "./db/migrate.js";
import { readMigrationsDir, type MigrationSource } from "./db/migrations.js";
import type { PrismaClient } from "./db/prisma.js";
import { ClosedError } from "./errors.js";
import { bundledMigrations } from "./generated/migrations.js";
import { checkOptions, type DualstoreOptions } from "./options.js";

/** The object `createDualstore()` returns: one typed data layer over PostgreSQL and a vector index. */
export interface Dualstore {
  /** The Prisma client dualstore works through, for queries the repositories do not cover. */
  readonly prisma: PrismaClient;
  /** Which driver the database was opened with, and where it lives (no secrets). */
  readonly database: { readonly driver: Database["driver"]; readonly location: string; readonly schema: string | undefined };
  /** Applies pending migrations; see {@link MigrateResult}. Safe to call from several processes at once. */
  migrate(): Promise<MigrateResult>;
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

  const database = await openDatabase(options.database ?? {}, { env, logger });
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new ClosedError();
  };

  const instance: Dualstore = {
    prisma: database.prisma,
    database: { driver: database.driver, location: database.location, schema: database.schema },
    async migrate() {
      ensureOpen();
      const result = await migrate(database.prisma, { migrations, schema: database.schema, logger });
      if (result.applied.length > 0) logger.info("applied migrations", { applied: result.applied });
      return result;
    },
    async health() {
      const db = await probe(database.location, () => database.prisma.$executeRawUnsafe("SELECT 1"), redact);
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
