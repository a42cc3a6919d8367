// What dualstore's migrations build, as scripts/generate.mjs records it (src/generated/schema-catalog.ts):
// the tables, columns, indexes, enum values, functions and triggers dualstore relies on, each
// with the migration that made it so, and the statements of each migration that a Prisma schema
// cannot express.
// No imports: scripts/schema-catalog.mjs loads this file as it is.

export interface CatalogColumn {
  readonly name: string;
  /** PostgreSQL's udt_name: text, int4, timestamp, _text (text[]), or the enum's name. */
  readonly type: string;
  readonly migration: string;
}

export interface CatalogIndex {
  /** The name dualstore's migrations give it (Prisma's naming); an index is found by its shape, not its name. */
  readonly name: string;
  /** See indexShape(). */
  readonly shape: string;
  readonly migration: string;
}

export interface CatalogTable {
  readonly name: string;
  readonly migration: string;
  readonly columns: readonly CatalogColumn[];
  readonly indexes: readonly CatalogIndex[];
}

export interface CatalogEnum {
  readonly name: string;
  readonly migration: string;
  readonly values: ReadonlyArray<{ readonly value: string; readonly migration: string }>;
}

/** A function the migrations make; `body` is the md5 of its source, so a replaced body is a new one. */
export interface CatalogRoutine {
  readonly name: string;
  readonly body: string;
  readonly migration: string;
}

export interface CatalogTrigger {
  readonly table: string;
  readonly name: string;
  readonly migration: string;
}

/**
 * The part of one migration that a Prisma schema cannot express: its functions and triggers,
 * with the data statements that go with them (a backfill). An app that migrates dualstore's
 * tables itself gets it from dualstore, which runs it when the routines or triggers it makes
 * are missing.
 */
export interface CatalogExtra {
  readonly migration: string;
  readonly statements: readonly string[];
  readonly routines: ReadonlyArray<{ readonly name: string; readonly body: string }>;
  readonly triggers: ReadonlyArray<{ readonly table: string; readonly name: string }>;
}

export interface SchemaCatalog {
  readonly tables: readonly CatalogTable[];
  readonly enums: readonly CatalogEnum[];
  readonly routines: readonly CatalogRoutine[];
  readonly triggers: readonly CatalogTrigger[];
  readonly extras: readonly CatalogExtra[];
}

/**
 * What identifies an index, whatever its name and schema: `[UNIQUE ]<method> (<keys>)[ WHERE …]`,
 * read from PostgreSQL's own definition (pg_get_indexdef), e.g. `btree ("userId", "createdAt" DESC)`.
 */
export function indexShape(definition: string): string {
  const match = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING (\w+) \((.*)\)(.*)$/.exec(definition);
  if (!match) throw new Error(`unexpected index definition: ${definition}`);
  return `${match[1] ? "UNIQUE " : ""}${match[2]} (${match[3]})${match[4]}`;
}
