import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { expect, it } from "vitest";
import { createDualstore, MigrationError, type Dualstore } from "../../src/index.js";
import { readMigrationList, withSchemaEngine } from "../../scripts/schema-engine.mjs";
import { adminQuery, describeEachDatabase, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { copyOfMigrations, migrationsDir, schemaPath } from "../helpers/paths.js";
import type { PrismaClient } from "../../src/db/prisma.js";

interface MigrationRecord {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const migrationNames = readdirSync(migrationsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function records(ds: Dualstore<PrismaClient>): Promise<MigrationRecord[]> {
  const table = ds.database.schema ? `"${ds.database.schema}"._prisma_migrations` : "_prisma_migrations";
  return ds.prisma.$queryRawUnsafe<MigrationRecord[]>(
    `SELECT id, checksum, migration_name, finished_at, rolled_back_at, logs, applied_steps_count FROM ${table} ORDER BY migration_name`,
  );
}

async function expectMigrationError(promise: Promise<unknown>, code: string): Promise<MigrationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MigrationError);
  expect((error as MigrationError).code).toBe(code);
  return error as MigrationError;
}

describeEachDatabase("migrate()", (target) => {
  it("applies every migration once and records it exactly as prisma migrate deploy does", async () => {
    const ds = await target.open();
    const rows = await records(ds);
    expect(rows.map((r) => r.migration_name)).toEqual(migrationNames);
    for (const row of rows) {
      const sql = readFileSync(join(migrationsDir, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    const columns = await ds.prisma.$queryRawUnsafe<Array<{ column_name: string; data_type: string; is_nullable: string }>>(
      `SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", is_nullable: "NO" },
      { column_name: "checksum", data_type: "character varying", is_nullable: "NO" },
      { column_name: "finished_at", data_type: "timestamp with time zone", is_nullable: "YES" },
      { column_name: "migration_name", data_type: "character varying", is_nullable: "NO" },
      { column_name: "logs", data_type: "text", is_nullable: "YES" },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", is_nullable: "YES" },
      { column_name: "started_at", data_type: "timestamp with time zone", is_nullable: "NO" },
      { column_name: "applied_steps_count", data_type: "integer", is_nullable: "NO" },
    ]);
  });

  it("is idempotent: a second run applies nothing and writes nothing", async () => {
    const ds = await target.open();
    const before = await records(ds);
    const again = await ds.migrate();
    expect(again).toEqual({ applied: [], alreadyApplied: migrationNames });
    expect(await records(ds)).toEqual(before);
  });

  it("lets concurrent callers take turns: each migration is applied and recorded once", async () => {
    const database = await target.freshDatabase();
    const shared = target.name === "pglite" ? { pglite: await PGlite.create() } : database;
    const instances = await Promise.all(
      Array.from({ length: 4 }, () => createDualstore<PrismaClient>({ database: shared, migrate: false, env: {}, vectorStore: null })),
    );
    try {
      const results = await Promise.all(instances.map((ds) => ds.migrate()));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      expect(appliedCounts).toEqual([0, 0, 0, migrationNames.length]);
      expect((await records(instances[0]!)).map((r) => r.migration_name)).toEqual(migrationNames);
    } finally {
      await Promise.all(instances.map((ds) => ds.close()));
      if ("pglite" in shared && shared.pglite) await shared.pglite.close();
    }
  });

  it("refuses to run when an applied migration's file was edited, naming the migration", async () => {
    const ds = await target.open();
    const edited = copyOfMigrations();
    const first = migrationNames[0]!;
    appendFileSync(join(edited, first, "migration.sql"), "\n-- edited after it was applied\n");
    const again = await createDualstore<PrismaClient>({
      database: target.name === "pglite" ? { prisma: ds.prisma } : { url: `${TEST_DATABASE_URL}?schema=${ds.database.schema}` },
      migrationsDir: edited,
      migrate: false,
      env: {},
      vectorStore: null,
    });
    try {
      const error = await expectMigrationError(again.migrate(), "MIGRATION_CHECKSUM_MISMATCH");
      expect(error.migration).toBe(first);
      expect(error.message).toContain(first);
    } finally {
      await again.close();
    }
  });

  it("accepts a migration file whose line endings git rewrote", async () => {
    const ds = await target.open();
    const crlf = copyOfMigrations();
    for (const name of migrationNames) {
      const file = join(crlf, name, "migration.sql");
      writeFileSync(file, readFileSync(file, "utf8").replace(/\n/g, "\r\n"));
    }
    const again = await createDualstore<PrismaClient>({ database: { prisma: ds.prisma }, migrationsDir: crlf, migrate: false, env: {}, vectorStore: null });
    expect(await again.migrate()).toEqual({ applied: [], alreadyApplied: migrationNames });
  });

  it("rolls a failing migration back whole: no partial tables, no record", async () => {
    const ds = await target.open();
    const broken = copyOfMigrations();
    mkdirSync(join(broken, "29990101000000_broken"));
    writeFileSync(
      join(broken, "29990101000000_broken", "migration.sql"),
      `CREATE TABLE "Half" ("id" TEXT PRIMARY KEY);\nALTER TABLE "User" ADD COLUMN "nope" NO_SUCH_TYPE;\n`,
    );
    const again = await createDualstore<PrismaClient>({ database: { prisma: ds.prisma }, migrationsDir: broken, migrate: false, env: {}, vectorStore: null });
    const error = await expectMigrationError(again.migrate(), "MIGRATION_FAILED");
    expect(error.migration).toBe("29990101000000_broken");
    expect(error.message).toMatch(/no_such_type/i);
    const [half] = await ds.prisma.$queryRawUnsafe<Array<{ name: string | null }>>(`SELECT to_regclass('"Half"')::text AS name`);
    expect(half?.name).toBeNull();
    expect((await records(ds)).map((r) => r.migration_name)).toEqual(migrationNames);
  });

  it("refuses while a migration recorded as started never finished", async () => {
    const ds = await target.open();
    await ds.prisma.$executeRawUnsafe(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) VALUES ('00000000-0000-4000-8000-000000000000', 'x', '29990101000000_crashed', 'boom')`,
    );
    const error = await expectMigrationError(ds.migrate(), "MIGRATION_PREVIOUSLY_FAILED");
    expect(error.migration).toBe("29990101000000_crashed");
  });

  it("refuses to take over a schema that holds tables but no migration history", async () => {
    const database = await target.freshDatabase();
    const bare = await createDualstore<PrismaClient>({ database, migrate: false, env: {}, vectorStore: null });
    try {
      const schema = bare.database.schema;
      if (schema) await adminQuery(`CREATE SCHEMA "${schema}"`);
      await bare.prisma.$executeRawUnsafe(`CREATE TABLE "Legacy" ("id" INT)`);
      const error = await expectMigrationError(bare.migrate(), "MIGRATION_SCHEMA_NOT_EMPTY");
      expect(error.message).toContain("Legacy");
    } finally {
      await bare.close();
    }
  });
});

it.runIf(postgresAvailable)("waits for Prisma Migrate's advisory lock and gives up after lockTimeoutMs [postgres]", async () => {
  const schema = uniqueSchema();
  const pg = (await import("pg")).default;
  const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await holder.connect();
  const ds = await createDualstore<PrismaClient>({ database: { url: `${TEST_DATABASE_URL}?schema=${schema}` }, migrate: false, env: {}, vectorStore: null });
  try {
    await holder.query("SELECT pg_advisory_lock(72707369)");
    const started = Date.now();
    await expectMigrationError(ds.migrate({ lockTimeoutMs: 300 }), "MIGRATION_LOCK_TIMEOUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await holder.query("SELECT pg_advisory_unlock(72707369)");
    expect((await ds.migrate()).applied).toEqual(migrationNames);
  } finally {
    await holder.end();
    await ds.close();
    await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
});

it("agrees with Prisma's own schema engine in both directions [pglite]", async () => {
  const list = readMigrationList(migrationsDir);
  // dualstore migrates; Prisma's engine then finds nothing to apply and no edited or failed migration.
  const ours = await PGlite.create();
  const ds = await createDualstore<PrismaClient>({ database: { pglite: ours }, env: {}, vectorStore: null });
  const schema = ds.database.schema;
  await ds.close();
  await withSchemaEngine({ schemaPath, pglite: ours, schema }, async (engine) => {
    const diagnosis = await engine.diagnoseMigrationHistory({
      migrationsList: list,
      optInToShadowDatabase: false,
      filters: { externalTables: [], externalEnums: [] },
    });
    expect(diagnosis.failedMigrationNames).toEqual([]);
    expect(diagnosis.editedMigrationNames).toEqual([]);
    expect(diagnosis.history).toBeNull();
    const deploy = await engine.applyMigrations({ migrationsList: list, filters: { externalTables: [], externalEnums: [] } });
    expect(deploy.appliedMigrationNames).toEqual([]);
  });
  await ours.close();

  // Prisma's engine migrates; dualstore then sees every migration as applied, checksums matching.
  const theirs = await PGlite.create();
  await theirs.exec(`CREATE SCHEMA "${schema}"`);
  await withSchemaEngine({ schemaPath, pglite: theirs, schema }, async (engine) => {
    const deploy = await engine.applyMigrations({ migrationsList: list, filters: { externalTables: [], externalEnums: [] } });
    expect(deploy.appliedMigrationNames).toEqual(migrationNames);
  });
  const after = await createDualstore<PrismaClient>({ database: { pglite: theirs }, migrate: false, env: {}, vectorStore: null });
  expect(await after.migrate()).toEqual({ applied: [], alreadyApplied: migrationNames });
  await after.close();
  await theirs.close();
});
