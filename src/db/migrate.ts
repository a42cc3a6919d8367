import { randomUUID } from "node:crypto";
import type { Logger } from "../core/logger.js";
import { redactAndClip } from "../core/redact.js";
import { DualstoreError, MigrationError } from "../errors.js";
import { quoteIdentifier } from "./driver.js";
import { checksumMatches, migrationChecksum, type MigrationSource } from "./migrations.js";
import type { PrismaClient, TransactionClient } from "./prisma.js";
import { splitSqlStatements } from "./sql-script.js";

/** Prisma Migrate's advisory lock key: holding the same one makes us and `prisma migrate deploy` take turns. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export interface MigrateOptions {
  readonly migrations: readonly MigrationSource[];
  /** Schema to create (if missing) and migrate; default: the connection's current schema. */
  readonly schema?: string | undefined;
  /** How long to wait for another process's migration before giving up. Default 60 s. */
  readonly lockTimeoutMs?: number | undefined;
  readonly logger: Logger;
}

export interface MigrateResult {
  /** Migrations this call applied, in order. */
  readonly applied: string[];
  /** Migrations that were already recorded as applied. */
  readonly alreadyApplied: string[];
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/**
 * Applies the migrations the database lacks and records each in `_prisma_migrations` the way
 * `prisma migrate deploy` does (same table, columns, checksum), so Prisma's CLI sees the same
 * history. Unlike deploy, the whole run is one transaction holding Prisma's advisory lock: two
 * processes take turns, and a failed script leaves nothing behind, not even a failed record.
 */
export async function migrate(prisma: PrismaClient, options: MigrateOptions): Promise<MigrateResult> {
  const lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  try {
    return await prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
        if (options.schema !== undefined) {
          await tx.$executeRawUnsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(options.schema)}`);
          // Migration scripts name tables without a schema. A pooler in transaction mode (Neon's
          // -pooler hosts, PgBouncer) may not keep a connection's search_path; SET LOCAL holds
          // for exactly this transaction whatever connection it lands on.
          await tx.$executeRawUnsafe(`SET LOCAL search_path TO ${quoteIdentifier(options.schema)}`);
        }
        await ensureMigrationsTable(tx);
        const rows = await tx.$queryRawUnsafe<MigrationRow[]>(
          `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs
             FROM _prisma_migrations ORDER BY started_at, migration_name`,
        );
        const live = rows.filter((row) => row.rolled_back_at === null);
        refuseFailedMigrations(live);
        const pending = pendingMigrations(options.migrations, live, options.logger);
        for (const migration of pending) await applyOne(tx, migration);
        return {
          applied: pending.map((m) => m.name),
          alreadyApplied: options.migrations.filter((m) => !pending.includes(m)).map((m) => m.name),
        };
      },
      // Waiting for the lock happens inside the transaction, so its timeout must cover it.
      { timeout: lockTimeoutMs + 10 * 60_000, maxWait: lockTimeoutMs },
    );
  } catch (error) {
    throw toMigrationError(error);
  }
}

async function ensureMigrationsTable(tx: TransactionClient): Promise<void> {
  const [found] = await tx.$queryRawUnsafe<Array<{ name: string | null }>>(
    `SELECT to_regclass('_prisma_migrations')::text AS name`,
  );
  if (found?.name) return;
  // Like Prisma, refuse to take over a schema that already holds tables it did not migrate.
  const tables = await tx.$queryRawUnsafe<Array<{ table_name: string }>>(
    `SELECT table_name::text FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
      ORDER BY table_name LIMIT 5`,
  );
  if (tables.length > 0) {
    throw new MigrationError(
      "MIGRATION_SCHEMA_NOT_EMPTY",
      `The database schema is not empty and has no migration history (found tables: ${tables
        .map((t) => t.table_name)
        .join(", ")}). Give dualstore its own schema (database.schema or ?schema= in the URL), ` +
        "or baseline the existing one with `prisma migrate resolve --applied`.",
    );
  }
  // Prisma's own definition of the table, column for column.
  await tx.$executeRawUnsafe(`CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
  )`);
}

function refuseFailedMigrations(rows: MigrationRow[]): void {
  const failed = rows.filter((row) => row.finished_at === null);
  if (failed.length === 0) return;
  const first = failed[0]!;
  throw new MigrationError(
    "MIGRATION_PREVIOUSLY_FAILED",
    `Migration ${first.migration_name} was started but never finished` +
      (first.logs ? ` (${redactAndClip(first.logs.trim(), 500)})` : "") +
      ". Repair the database, then mark it with `prisma migrate resolve --applied` or `--rolled-back`.",
    { migration: first.migration_name },
  );
}

function pendingMigrations(migrations: readonly MigrationSource[], live: MigrationRow[], logger: Logger): MigrationSource[] {
  const recorded = new Map(live.map((row) => [row.migration_name, row]));
  if (live.length > 0 && !migrations.some((migration) => recorded.has(migration.name))) {
    // A history without a single migration of ours is an app's: adding ours would show up in its
    // `prisma migrate dev` as migrations it does not know, and it would offer to reset the database.
    throw new MigrationError(
      "MIGRATION_SCHEMA_NOT_EMPTY",
      `This schema's _prisma_migrations holds another project's migrations (${live
        .slice(0, 3)
        .map((row) => row.migration_name)
        .join(", ")}${live.length > 3 ? ", ..." : ""}). Give dualstore a schema of its own (database.schema or ?schema= in the URL), ` +
        "or adopt its models into your Prisma schema (`dualstore schema`, then database.managedBy: \"app\").",
    );
  }
  for (const migration of migrations) {
    const row = recorded.get(migration.name);
    if (row && !checksumMatches(migration.sql, row.checksum)) {
      throw new MigrationError(
        "MIGRATION_CHECKSUM_MISMATCH",
        `Migration ${migration.name} was modified after it was applied: its migration.sql no longer matches ` +
          "the checksum recorded in _prisma_migrations. Restore the original file; never edit an applied migration.",
        { migration: migration.name },
      );
    }
  }
  const known = new Set(migrations.map((m) => m.name));
  const unknown = live.filter((row) => !known.has(row.migration_name)).map((row) => row.migration_name);
  if (unknown.length > 0) {
    logger.warn("the database has migrations this version of dualstore does not know (is it newer?)", { unknown });
  }
  return migrations.filter((migration) => !recorded.has(migration.name));
}

async function applyOne(tx: TransactionClient, migration: MigrationSource): Promise<void> {
  const id = randomUUID();
  await tx.$executeRawUnsafe(
    `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, clock_timestamp())`,
    id,
    migrationChecksum(migration.sql),
    migration.name,
  );
  for (const statement of splitSqlStatements(migration.sql)) {
    try {
      await tx.$executeRawUnsafe(statement);
    } catch (cause) {
      throw new MigrationError("MIGRATION_FAILED", `Migration ${migration.name} failed: ${errorText(cause)}`, {
        migration: migration.name,
        cause,
      });
    }
  }
  await tx.$executeRawUnsafe(
    `UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp() WHERE id = $1`,
    id,
  );
}

function toMigrationError(error: unknown): unknown {
  if (error instanceof DualstoreError) return error;
  const text = errorText(error);
  if (/lock timeout|canceling statement due to lock timeout|55P03/i.test(text)) {
    return new MigrationError(
      "MIGRATION_LOCK_TIMEOUT",
      "Another process held the migration lock for longer than lockTimeoutMs; is a migration still running?",
      { cause: error },
    );
  }
  return new MigrationError("MIGRATION_FAILED", `Migration run failed: ${text}`, { cause: error });
}

function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Prisma prefixes raw-query errors with its invocation context; the database's own words suffice.
  const database = /Message: `([\s\S]*?)`/.exec(message)?.[1] ?? /message: "([^"]*)"/.exec(message)?.[1];
  return redactAndClip((database ?? message).trim(), 1_000);
}
