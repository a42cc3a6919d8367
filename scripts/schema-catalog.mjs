// What dualstore's migrations build, object by object: every table, column (with its type),
// index and enum value, each with the migration that made it so. An app that adopts dualstore's
// models migrates them itself; dualstore then checks its database against this catalog.
//
// The catalog is read from a real database (PGlite) after each migration, so it covers whatever
// the migrations hold, including SQL that schema.prisma cannot express.
import { PGlite } from "@electric-sql/pglite";
import { indexShape } from "../src/schema/catalog.ts";

async function snapshot(db) {
  const columns = await db.query(
    `SELECT table_name AS "table", column_name AS name, udt_name AS type FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, ordinal_position`,
  );
  const indexes = await db.query(
    `SELECT tablename AS "table", indexname AS name, indexdef AS definition FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename, indexname`,
  );
  const enums = await db.query(
    `SELECT t.typname AS name, e.enumlabel AS value FROM pg_enum e
       JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`,
  );
  return {
    columns: columns.rows,
    indexes: indexes.rows.map((row) => ({ table: row.table, name: row.name, shape: indexShape(row.definition) })),
    enums: enums.rows,
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
    let catalog = { tables: [], enums: [] };
    for (const migration of migrations) {
      await db.exec(migration.sql);
      const now = await snapshot(db);
      const tables = new Map();
      const table = (name) => {
        if (!tables.has(name)) tables.set(name, { name, migration: note(`table ${name}`, migration.name), columns: [], indexes: [] });
        return tables.get(name);
      };
      for (const column of now.columns) {
        table(column.table).columns.push({
          name: column.name,
          type: column.type,
          migration: note(`column ${column.table}.${column.name} ${column.type}`, migration.name),
        });
      }
      for (const index of now.indexes) {
        table(index.table).indexes.push({ name: index.name, shape: index.shape, migration: note(`index ${index.table} ${index.shape}`, migration.name) });
      }
      const enums = new Map();
      for (const { name, value } of now.enums) {
        if (!enums.has(name)) enums.set(name, { name, migration: note(`enum ${name}`, migration.name), values: [] });
        enums.get(name).values.push({ value, migration: note(`enum ${name} ${value}`, migration.name) });
      }
      catalog = { tables: [...tables.values()], enums: [...enums.values()] };
    }
    return catalog;
  } finally {
    await db.close();
  }
}
