import { z } from "zod";
import { parseConfig } from "../internal/validate.js";

/** A row of a source's table as the driver returns it: column name to value. */
export type SourceRow = Record<string, unknown>;

/** What `defineSource()` takes. Column names are PostgreSQL's (a Prisma field mapped with `@map` has its column's name). */
export interface SourceDefinition<Row extends object = SourceRow, Name extends string = string> {
  /** The source's name: lowercase letters, digits and `_`, starting with a letter, up to 40 characters. Hits carry it. */
  readonly name: Name;
  /**
   * The table: `"Product"` (found through the connection's search path: dualstore's schema, then
   * `public`) or `"shop.Product"`. Give `table` or `model`.
   */
  readonly table?: string;
  /** The Prisma model whose table this is, when the table has the model's name (no `@@map`). */
  readonly model?: string;
  /** The column that identifies a row (the primary key, or any column with a unique index of its own). */
  readonly key: string;
  /**
   * The text to index: columns joined by blank lines (empty ones left out), or a function that
   * builds it from the row. A function runs where the index job runs: every worker process must
   * be created with the same `sources`.
   */
  readonly text: readonly string[] | ((row: Row) => string);
  /** The column holding the row's owner (an app user or tenant id). None: every row is public. */
  readonly owner?: string;
  /** Columns copied with each row's vectors, to filter a search on (`filter: { column: value }`). */
  readonly metadata?: readonly string[];
  /** The language of the rows' text (a BCP 47 code such as `en`), stored with their vectors. */
  readonly language?: string;
}

/** A declared source: pass it in `createDualstore({ sources })` and to `ds.sources.search()`. */
export interface Source<Row extends object = SourceRow, Name extends string = string> {
  readonly name: Name;
  /** The table as declared (`table`, or the model's name). */
  readonly table: string;
  readonly key: string;
  readonly text: readonly string[] | ((row: Row) => string);
  readonly owner: string | undefined;
  readonly metadata: readonly string[];
  readonly language: string | undefined;
}

/** A source whatever its row type (a function of `never` accepts every row type's text function). */
export type AnySource = Source<never, string>;

const identifier = z.string().min(1).max(63);
const definitionShape = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, "must be lowercase letters, digits and _, starting with a letter, at most 40 characters"),
    table: z
      .string()
      .regex(/^([^."]{1,63}\.)?[^."]{1,63}$/, 'must be a table name or "schema.table"')
      .optional(),
    model: identifier.optional(),
    key: identifier,
    text: z.union([z.array(identifier).min(1).max(50), z.function()]),
    owner: identifier.optional(),
    metadata: z.array(identifier).max(50).optional(),
    language: z.string().min(1).max(35).optional(),
  })
  .refine((definition) => (definition.table === undefined) !== (definition.model === undefined), {
    message: "give either table or model",
    path: ["table"],
  });

/**
 * Declares a source: a table of the app whose rows become searchable. `ds.sources.install()`
 * puts a trigger on the table that mirrors every insert, update and delete into dualstore's
 * outbox in the writer's own transaction; the worker indexes the text, and `ds.sources.search()`
 * returns the app's own rows. Checked at once: a bad definition is a ConfigurationError naming
 * the field.
 */
export function defineSource<Row extends object = SourceRow, const Name extends string = string>(
  definition: SourceDefinition<Row, Name>,
): Source<Row, Name> {
  parseConfig(definitionShape, definition, `sources.${typeof definition?.name === "string" ? definition.name : "?"}`);
  return Object.freeze({
    name: definition.name,
    table: (definition.table ?? definition.model)!,
    key: definition.key,
    text: typeof definition.text === "function" ? definition.text : Object.freeze([...definition.text]),
    owner: definition.owner,
    metadata: Object.freeze([...(definition.metadata ?? [])]),
    language: definition.language,
  });
}

/** The text of one row: the function's, or the columns' values joined by blank lines. */
export function sourceText(source: AnySource, row: SourceRow): string {
  if (typeof source.text === "function") return String((source.text as (row: SourceRow) => unknown)(row) ?? "");
  return source.text
    .map((column) => row[column])
    .filter((value) => value !== null && value !== undefined && value !== "")
    .map((value) => (value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value)))
    .join("\n\n");
}

/** Where a source's rows live and how its trigger reads them, beyond what a definition can say (built-in sources). */
export interface SourceShape {
  /** The table lives in dualstore's own schema. */
  readonly inDualstoreSchema: boolean;
  /** SQL for the owner of the row `alias`, given dualstore's schema (quoted); undefined: the owner column, if any. */
  readonly ownerSql?: (alias: string, dualstoreSchema: string) => string;
  /** SQL condition a row `alias` meets to be mirrored; undefined: every row. */
  readonly condition?: (alias: string) => string;
  /** Columns the condition reads: an update of one of them is looked at. */
  readonly conditionColumns?: readonly string[];
}

const shapes = new WeakMap<AnySource, SourceShape>();

/** Records the shape of a built-in source. */
export function withShape<S extends AnySource>(source: S, shape: SourceShape): S {
  shapes.set(source, shape);
  return source;
}

export function shapeOf(source: AnySource): SourceShape {
  return shapes.get(source) ?? { inDualstoreSchema: false };
}
