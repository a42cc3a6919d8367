// What dualstore's migrations build, object by object: every table, column (with its type),
// index, enum value, function and trigger, each with the migration that made it so; and, per
// migration, the statements Prisma's schema cannot express (functions, triggers, and the data
// statements that go with them). An app that adopts dualstore's models migrates the tables
// itself; dualstore then checks its database against this catalog and installs those statements.
//
// The catalog is read from a real database (PGlite) after each migration, so it covers whatever
// the migrations hold, including SQL that schema.prisma cannot express.
import { PGlite } from "@electric-sql/pglite";
import { splitSqlStatements } from "../src/db/sql-script.ts";
import { indexShape } from "../src/schema/catalog.ts";

/** Statements that make what a Prisma schema cannot describe, so an app's migrations never hold them. */
const BEYOND_PRISMA = /^(CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|TRIGGER)|DROP\s+(FUNCTION|PROCEDURE|TRIGGER))\b/i;
/** Data statements: they go with the functions and triggers of their migration (a backfill, say). */
const DATA = /^(UPDATE|INSERT|DELETE)\b/i;

function withoutComments(statement) {
  return statement.replace(/^(\s*--[^\n]*\n|\s*\/\*[\s\S]*?\*\/)*/, "").trim();
}

async function snapshot(db) {
  const rows = async (sql) => (await db.query(sql)).rows;
  const [columns, indexes, enums, routines, triggers] = await Promise.all([
    rows(`SELECT table_name AS "table", column_name AS name, udt_name AS type FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, ordinal_position`),
    rows(`SELECT tablename AS "table", indexname AS name, indexdef AS definition FROM pg_indexes
           WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename, indexname`),
    rows(`SELECT t.typname AS name, e.enumlabel AS value FROM pg_enum e
            JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`),
    // A function is its name and its body: a migration that replaces the body makes a new one.
    rows(`SELECT p.proname AS name, md5(p.prosrc) AS body FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' ORDER BY 1, 2`),
    rows(`SELECT c.relname AS "table", t.tgname AS name FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE NOT t.tgisinternal AND n.nspname = 'public' ORDER BY 1, 2`),
  ]);
  return {
    columns,
    indexes: indexes.map((row) => ({ table: row.table, name: row.name, shape: indexShape(row.definition) })),
    enums,
    routines,
    triggers,
  };
}

/** Applies `migrations` ({ name, sql }, in order) to an empty database and returns the catalog. */
export async function buildSchemaCatalog(migrations) {
  const db = new PGlite();
  try {
    const firstSeen = new Map();
    const note = (key, migration) => {
      if (!firstSeen.has(key)) firstSeen.set(key, migration);
      return firstSeen.get(key);
    };
    let now = { columns: [], indexes: [], enums: [], routines: [], triggers: [] };
    const extras = [];
    for (const migration of migrations) {
      const before = now;
      await db.exec(migration.sql);
      now = await snapshot(db);
      for (const column of now.columns) note(`column ${column.table}.${column.name} ${column.type}`, migration.name);
      for (const index of now.indexes) note(`index ${index.table} ${index.shape}`, migration.name);
      for (const { name, value } of now.enums) note(`enum ${name} ${value}`, migration.name);
      for (const table of new Set(now.columns.map((column) => column.table))) note(`table ${table}`, migration.name);
      for (const name of new Set(now.enums.map((row) => row.name))) note(`enum ${name}`, migration.name);
      for (const routine of now.routines) note(`routine ${routine.name} ${routine.body}`, migration.name);
      for (const trigger of now.triggers) note(`trigger ${trigger.table}.${trigger.name}`, migration.name);

      const statements = splitSqlStatements(migration.sql).map(withoutComments);
      const beyond = statements.filter((statement) => BEYOND_PRISMA.test(statement));
      if (beyond.length > 0) {
        const made = (list, key) => list.filter((item) => !before[key].some((old) => JSON.stringify(old) === JSON.stringify(item)));
        extras.push({
          migration: migration.name,
          statements: statements.filter((statement) => BEYOND_PRISMA.test(statement) || DATA.test(statement)),
          routines: made(now.routines, "routines"),
          triggers: made(now.triggers, "triggers"),
        });
      }
    }

    const tables = [...new Set(now.columns.map((column) => column.table))].map((name) => ({
      name,
      migration: firstSeen.get(`table ${name}`),
      columns: now.columns
        .filter((column) => column.table === name)
        .map((column) => ({ name: column.name, type: column.type, migration: firstSeen.get(`column ${name}.${column.name} ${column.type}`) })),
      indexes: now.indexes
        .filter((index) => index.table === name)
        .map((index) => ({ name: index.name, shape: index.shape, migration: firstSeen.get(`index ${name} ${index.shape}`) })),
    }));
    const enums = [...new Set(now.enums.map((row) => row.name))].map((name) => ({
      name,
      migration: firstSeen.get(`enum ${name}`),
      values: now.enums.filter((row) => row.name === name).map(({ value }) => ({ value, migration: firstSeen.get(`enum ${name} ${value}`) })),
    }));
    return {
      tables,
      enums,
      routines: now.routines.map((routine) => ({ ...routine, migration: firstSeen.get(`routine ${routine.name} ${routine.body}`) })),
      triggers: now.triggers.map((trigger) => ({ ...trigger, migration: firstSeen.get(`trigger ${trigger.table}.${trigger.name}`) })),
      extras,
    };
  } finally {
    await db.close();
  }
}
