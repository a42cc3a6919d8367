import type { PrismaClient } from "../db/prisma.js";
import { SchemaMismatchError, type SchemaProblem } from "../errors.js";
import { indexShape, type CatalogExtra, type SchemaCatalog } from "./catalog.js";

/**
 * Models an app adopting dualstore's may keep as its own: Auth.js's User, Account and Session,
 * which ADR-002 shares. dualstore reads none of Account and Session, and of User only its id
 * (the key its owners' foreign keys point at).
 */
export const APP_OWNABLE_MODELS: readonly string[] = ["User", "Account", "Session"];

interface DatabaseObject {
  kind: "schema" | "column" | "index" | "enum" | "routine" | "trigger";
  table: string;
  name: string | null;
  detail: string | null;
}

export interface SchemaCheckTarget {
  /** PostgreSQL schema holding the tables; absent: the connection's current schema. */
  readonly schema: string | undefined;
  readonly catalog: SchemaCatalog;
  /** The dualstore version the catalog belongs to, for the error message. */
  readonly version: string;
}

/**
 * Checks, in one query, that the database has every table, column (of the right type), index
 * and enum value dualstore's migrations would have made; throws SchemaMismatchError naming
 * each one missing or different, and the migration that makes it. Returns the parts of
 * migrations Prisma cannot express (functions, triggers) whose objects are missing, for
 * installExtras().
 */
export async function checkSchema(prisma: PrismaClient, target: SchemaCheckTarget): Promise<readonly CatalogExtra[]> {
  const rows = await prisma.$queryRawUnsafe<DatabaseObject[]>(
    `WITH target AS (SELECT coalesce($1::text, current_schema()) AS name)
     SELECT 'schema' AS kind, name AS "table", NULL AS name, NULL AS detail FROM target
     UNION ALL
     SELECT 'column', c.table_name::text, c.column_name::text, c.udt_name::text
       FROM information_schema.columns c, target WHERE c.table_schema = target.name
     UNION ALL
     SELECT 'index', i.tablename::text, i.indexname::text, i.indexdef FROM pg_indexes i, target WHERE i.schemaname = target.name
     UNION ALL
     SELECT 'enum', t.typname::text, e.enumlabel::text, NULL
       FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace, target
      WHERE n.nspname = target.name
     UNION ALL
     SELECT 'routine', p.proname::text, md5(p.prosrc), NULL
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, target WHERE n.nspname = target.name
     UNION ALL
     SELECT 'trigger', c.relname::text, t.tgname::text, NULL
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace, target
      WHERE NOT t.tgisinternal AND n.nspname = target.name`,
    target.schema ?? null,
  );
  const problems = findProblems(target.catalog, rows);
  if (problems.length === 0) return missingExtras(target.catalog, rows);
  const where = rows.find((row) => row.kind === "schema")?.table ?? target.schema ?? "the current schema";
  throw new SchemaMismatchError(
    `The database (schema "${where}")`,
    target.version,
    problems,
    "Write this version's models into your Prisma schema (npx dualstore schema) and migrate (npx prisma migrate dev).",
  );
}

function findProblems(catalog: SchemaCatalog, rows: readonly DatabaseObject[]): SchemaProblem[] {
  const columns = new Map<string, string>();
  const indexes = new Set<string>();
  const enumValues = new Set<string>();
  const tables = new Set<string>();
  const enums = new Set<string>();
  for (const row of rows) {
    if (row.kind === "column") {
      tables.add(row.table);
      columns.set(`${row.table}.${row.name}`, row.detail ?? "");
    } else if (row.kind === "index") {
      indexes.add(`${row.table} ${indexShape(row.detail ?? "")}`);
    } else if (row.kind === "enum") {
      enums.add(row.table);
      enumValues.add(`${row.table}.${row.name}`);
    }
  }

  const problems: SchemaProblem[] = [];
  for (const table of catalog.tables) {
    const appOwnable = APP_OWNABLE_MODELS.includes(table.name);
    // Of the models an app may keep as its own, dualstore needs only User's id.
    if (appOwnable && table.name !== "User") continue;
    if (!tables.has(table.name)) {
      problems.push({ object: `table "${table.name}"`, expected: "a table", found: undefined, migration: table.migration });
      continue;
    }
    for (const column of appOwnable ? table.columns.filter((c) => c.name === "id") : table.columns) {
      const found = columns.get(`${table.name}.${column.name}`);
      if (found === column.type) continue;
      problems.push({ object: `column "${table.name}"."${column.name}"`, expected: column.type, found, migration: column.migration });
    }
    if (appOwnable) continue;
    for (const index of table.indexes) {
      if (indexes.has(`${table.name} ${index.shape}`)) continue;
      problems.push({ object: `index "${index.name}" on "${table.name}"`, expected: index.shape, found: undefined, migration: index.migration });
    }
  }
  for (const type of catalog.enums) {
    if (!enums.has(type.name)) {
      problems.push({ object: `enum "${type.name}"`, expected: type.values.map((v) => v.value).join(", "), found: undefined, migration: type.migration });
      continue;
    }
    for (const { value, migration } of type.values) {
      if (!enumValues.has(`${type.name}.${value}`)) problems.push({ object: `enum value "${type.name}".${value}`, expected: value, found: undefined, migration });
    }
  }
  return problems;
}

/** The extras at least one of whose functions (by name and body) or triggers the database lacks. */
function missingExtras(catalog: SchemaCatalog, rows: readonly DatabaseObject[]): CatalogExtra[] {
  const present = new Set(rows.filter((row) => row.kind === "routine" || row.kind === "trigger").map((row) => `${row.kind} ${row.table} ${row.name}`));
  return catalog.extras.filter(
    (extra) =>
      extra.routines.some((routine) => !present.has(`routine ${routine.name} ${routine.body}`)) ||
      extra.triggers.some((trigger) => !present.has(`trigger ${trigger.table} ${trigger.name}`)),
  );
}
