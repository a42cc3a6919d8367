// An app's own Prisma setup sharing a database with dualstore, as Prisma's schema engine (the
// engine behind `prisma migrate`, in its WebAssembly build) sees it: the app's migrations
// folder, `migrate deploy`, and what `migrate dev` would do next.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQueryable } from "@prisma/driver-adapter-utils";
import type { SchemaContainer, SchemaEngine } from "@prisma/schema-engine-wasm";
import pg from "pg";
import { afterAll } from "vitest";
import { readMigrationList, withSchemaEngine } from "../../scripts/schema-engine.mjs";
import { adminQuery, TEST_DATABASE_URL } from "./db.js";
import { repoRoot, tempDir } from "./paths.js";

const noFilters = { externalTables: [], externalEnums: [] };

/** Where the app's tables live: a PGlite instance, or a database on the PostgreSQL server. */
export type AppDatabase = { readonly pglite: PGlite } | { readonly url: string };

/** What `prisma migrate` reports about the app's schema and that database. */
export interface MigrateView {
  /** SQL that would bring the database to the app's schema (drift); empty when they agree. */
  readonly drift: string;
  /** What `prisma migrate dev` would do: "createMigration" (carry on) or "reset" (wipe the database). */
  readonly devAction: string;
  /** Migrations recorded in the database that the app's folder does not know, and the reverse. */
  readonly history: unknown;
}

// What the helpers made, undone after the test file, whether they were called from a test or a hook.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `cleanup` after the test file's tests. */
export function afterTestFile(cleanup: () => Promise<unknown> | unknown): void {
  cleanups.push(cleanup);
}

/**
 * A fresh database on the PostgreSQL server, dropped after the file's tests: the tests that need
 * `public` to be the app's (as in a real app) cannot share one database.
 */
export async function freshServerDatabase(): Promise<string> {
  const name = `dualstore_app_${randomBytes(5).toString("hex")}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  afterTestFile(() => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A folder for an app's Prisma project, inside the repository (under .dualstore/, which git
 * ignores) so that the client generated in it resolves @prisma/client from node_modules as an
 * app's would, and the tests can import its TypeScript; removed after the file's tests.
 */
export function appProjectDir(): string {
  const dir = join(repoRoot, ".dualstore", "test-apps", `app-${randomBytes(5).toString("hex")}`);
  mkdirSync(dir, { recursive: true });
  afterTestFile(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The generator and datasource blocks of an app's schema.prisma: Prisma 7's TypeScript client,
 * generated into ../generated beside the schema folder, as generateAppClient() expects.
 */
export const appSchemaHeader = `generator client {
  provider               = "prisma-client"
  output                 = "../generated"
  runtime                = "nodejs"
  moduleFormat           = "esm"
  generatedFileExtension = "ts"
  importFileExtension    = "js"
}

datasource db {
  provider = "postgresql"
}
`;

/** The .prisma files of a schema folder, as Prisma and its engine read them. */
export function schemaFolderFiles(folder: string): SchemaContainer[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith(".prisma"))
    .sort()
    .map((name) => ({ path: name, content: readFileSync(join(folder, name), "utf8") }));
}

/**
 * `prisma generate` for the app's schema folder, with Prisma's own CLI. Offline, the CLI only
 * needs PRISMA_SCHEMA_ENGINE_BINARY to name an existing file: generate never runs it.
 */
export function generateAppClient(projectDir: string, schemaFolder: string): void {
  execFileSync(process.execPath, [join(repoRoot, "node_modules", "prisma", "build", "index.js"), "generate", "--schema", schemaFolder], {
    cwd: projectDir,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath },
    stdio: "pipe",
  });
}

/** Runs `use` with Prisma's schema engine for the app's schema files, connected to its database. */
export async function withAppEngine<T>(files: SchemaContainer[], database: AppDatabase, use: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  if ("pglite" in database) return withSchemaEngine({ files, pglite: database.pglite }, (engine) => use(engine));
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    return await withSchemaEngine({ files, adapter: describable(new PrismaPg(pool)) }, (engine) => use(engine));
  } finally {
    await pool.end();
  }
}

/**
 * Writes the app's first migration, as `prisma migrate dev` would generate it from the app's
 * schema files, into a new migrations folder.
 */
export async function appMigrations(files: SchemaContainer[], database: AppDatabase): Promise<string> {
  const script = await withAppEngine(files, database, async (engine) => {
    const result = await engine.diff({ from: { tag: "empty" }, to: { tag: "schemaDatamodel", files }, script: true, exitCode: null, filters: noFilters });
    return (result.stdout ?? "").replace(/-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/, "");
  });
  const dir = join(tempDir("app-migrations-"), "migrations");
  mkdirSync(join(dir, "20250101000000_init"), { recursive: true });
  writeFileSync(join(dir, "20250101000000_init", "migration.sql"), script);
  writeFileSync(join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
  return dir;
}

/** `prisma migrate deploy` of the app's migrations folder; returns the names applied. */
export async function deployAppMigrations(files: SchemaContainer[], database: AppDatabase, migrationsDir: string): Promise<string[]> {
  return withAppEngine(files, database, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList: readMigrationList(migrationsDir), filters: noFilters });
    return result.appliedMigrationNames;
  });
}

/** Everything `prisma migrate` would say about the app's schema, its migrations folder and the database. */
export async function migrateView(files: SchemaContainer[], database: AppDatabase, migrationsDir: string): Promise<MigrateView> {
  return withAppEngine(files, database, async (engine) => {
    const migrationsList = readMigrationList(migrationsDir);
    const diff = await engine.diff({
      from: { tag: "schemaDatasource", files, configDir: "." },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: true,
      filters: noFilters,
    });
    const dev = await engine.devDiagnostic({ migrationsList, filters: noFilters });
    const diagnosis = await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: noFilters });
    return {
      drift: diff.exitCode === 0 ? "" : (diff.stdout ?? ""),
      devAction: dev.action.tag,
      history: diagnosis.history,
    };
  });
}

/**
 * @prisma/adapter-pg cannot read the `"char"` columns of the catalog queries the engine
 * describes a database with ("Column type 'char' could not be deserialized"); they are text.
 */
function describable(factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  const asText = <Q extends SqlQueryable>(queryable: Q): Q => {
    const io = queryable as unknown as { performIO(query: unknown): Promise<{ fields: Array<{ dataTypeID: number }> }> };
    const perform = io.performIO.bind(io);
    io.performIO = async (query) => {
      const result = await perform(query);
      for (const field of result.fields) if (field.dataTypeID === 18) field.dataTypeID = 25;
      return result;
    };
    return queryable;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter: SqlDriverAdapter = asText(await factory.connect());
      const start = adapter.startTransaction.bind(adapter);
      adapter.startTransaction = async (...args) => asText(await start(...args));
      return adapter;
    },
  };
}
