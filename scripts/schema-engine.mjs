// Prisma's own schema engine (the WebAssembly build), driven offline over PGlite.
//
// The Prisma 7 CLI downloads a native schema-engine binary before `migrate diff`; this machine
// has no route to that download. The same engine ships on npm as @prisma/schema-engine-wasm and
// talks to the database through a driver adapter, so dualstore uses it to write new migrations
// and to prove that prisma/migrations produces exactly what prisma/schema.prisma describes.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";

const require = createRequire(import.meta.url);
let engineModule;

async function loadEngineModule() {
  if (engineModule) return engineModule;
  const bindings = await import("@prisma/schema-engine-wasm/schema_engine_bg");
  const wasmPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg").replace(/\.js$/, ".wasm");
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {
    "./schema_engine_bg.js": bindings,
  });
  bindings.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  engineModule = bindings;
  return bindings;
}

// pglite-prisma-adapter runs every statement as a prepared statement, which PostgreSQL refuses
// for multi-statement migration scripts; PGlite's exec() runs them, so scripts go there.
function scriptCapable(adapter, pglite) {
  return new Proxy(adapter, {
    get(target, property) {
      if (property === "executeScript") return (script) => pglite.exec(script).then(() => undefined);
      if (property === "executeRaw") {
        return async (query) => {
          if (query.args.length > 0) return target.executeRaw(query);
          await pglite.exec(query.sql);
          return 0;
        };
      }
      const value = target[property];
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A shadow database for the engine (it replays migrations there): a fresh in-memory PGlite. */
async function pgliteShadow(opened) {
  const shadow = new PGlite();
  opened.push(shadow);
  return scriptCapable(await new PrismaPGlite(shadow).connect(), shadow);
}

// The engine works in `schema` when one is named: its queries are qualified by the adapter's
// schemaName (which the PGlite adapter's factory cannot set), its history table found through
// the search_path (which the engine leaves to the connection, as a URL's ?schema= would set it).
async function inSchema(adapter, pglite, schema) {
  if (schema === undefined) return adapter;
  await pglite.exec(`SET search_path TO "${schema.replace(/"/g, '""')}"`);
  return new Proxy(adapter, {
    get(target, property) {
      if (property === "getConnectionInfo") return () => ({ ...target.getConnectionInfo?.(), schemaName: schema });
      const value = target[property];
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function pgliteAdapterFactory(existing, schema) {
  const main = existing ?? new PGlite();
  const factory = new PrismaPGlite(main);
  const opened = existing ? [] : [main];
  return {
    opened,
    // An instance the caller shares keeps its own search_path.
    release: () => (existing && schema !== undefined ? existing.exec("RESET search_path") : undefined),
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => inSchema(scriptCapable(await factory.connect(), main), main, schema),
      connectToShadowDb: () => pgliteShadow(opened),
    },
  };
}

/**
 * A driver adapter factory for the engine over another database (e.g. node-postgres), with a
 * PGlite shadow database for the commands that replay migrations.
 */
function withPgliteShadow(factory) {
  const opened = [];
  return {
    opened,
    release: () => undefined,
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: () => factory.connect(),
      connectToShadowDb: () => pgliteShadow(opened),
    },
  };
}

/** Reads a Prisma migrations folder into the engine's MigrationList shape. */
export function readMigrationList(migrationsDir) {
  const lockPath = join(migrationsDir, "migration_lock.toml");
  const directories = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : [];
  return {
    baseDir: migrationsDir,
    lockfile: {
      path: "migration_lock.toml",
      content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null,
    },
    shadowDbInitScript: "",
    migrationDirectories: directories.map((name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok", value: readFileSync(join(migrationsDir, name, "migration.sql"), "utf8") },
      },
    })),
  };
}

/**
 * Runs `use(engine, files)` with Prisma's schema engine for the schema in `schemaPath` (or the
 * multi-file schema `files`), connected to `pglite` (a fresh in-memory PGlite when absent; its
 * `schema` when named) or to the database behind the driver adapter factory `adapter`. The
 * engine's API is @prisma/schema-engine-wasm's SchemaEngine.
 */
export async function withSchemaEngine({ schemaPath, files, pglite, schema, adapter }, use) {
  const { SchemaEngine } = await loadEngineModule();
  const { bindMigrationAwareSqlAdapterFactory } = await import("@prisma/driver-adapter-utils");
  const schemaFiles = files ?? [{ path: "schema.prisma", content: readFileSync(schemaPath, "utf8") }];
  const { factory, opened, release } = adapter ? withPgliteShadow(adapter) : pgliteAdapterFactory(pglite, schema);
  const engine = await SchemaEngine.new(
    { datamodels: schemaFiles.map((file) => [file.path, file.content]) },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  try {
    return await use(engine, schemaFiles);
  } finally {
    engine.free();
    await release();
    await Promise.all(opened.map((db) => db.close()));
  }
}

/**
 * SQL that takes a database built by `migrationsDir` to the schema in `schemaPath`
 * (empty when they agree), computed by Prisma's schema engine against PGlite.
 */
export function diffMigrationsToSchema({ migrationsDir, schemaPath }) {
  return withSchemaEngine({ schemaPath }, async (engine, files) => {
    const migrations = readMigrationList(migrationsDir);
    const from =
      migrations.migrationDirectories.length === 0 ? { tag: "empty" } : { tag: "migrations", ...migrations };
    const result = await engine.diff({
      from,
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    const sql = (result.stdout ?? "")
      // A diff from nothing creates "public"; a migration must not: it runs in whatever schema
      // the connection's search_path names.
      .replace(/-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n/, "");
    return { changed: result.exitCode === 2, sql };
  });
}
