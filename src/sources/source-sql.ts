import { quoteIdentifier } from "../db/driver.js";
import type { AnySource, SourceShape } from "./source.js";

/**
 * A source bound to its table as the database knows it. Every identifier is quoted and every
 * literal is either validated by the source's definition (its name) or escaped (its language);
 * `keyType` comes from the catalog (format_type), so the SQL built from it is safe to inline.
 */
export interface ResolvedSource {
  readonly source: AnySource;
  readonly shape: SourceShape;
  /** Quoted, schema-qualified table, e.g. `"public"."Product"`. */
  readonly table: string;
  /** The table as a reader names it, e.g. `public.Product`. */
  readonly displayName: string;
  /** The key column's type, e.g. `integer` or `text`. */
  readonly keyType: string;
  /** dualstore's schema, quoted. */
  readonly dualstoreSchema: string;
}

/** The name of a source's trigger, and of its trigger function. */
export function triggerName(sourceName: string): string {
  return `dualstore_source_${sourceName}`;
}

export function functionName(resolved: Pick<ResolvedSource, "dualstoreSchema" | "source">): string {
  return `${resolved.dualstoreSchema}.${quoteIdentifier(triggerName(resolved.source.name))}`;
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** A mirror is a Document row that is not a document: `source` says so, sourceName/sourceKey say whose row it is. */
export const MIRROR_DOCUMENT_SOURCE = "source";

function tables(resolved: ResolvedSource) {
  const schema = resolved.dualstoreSchema;
  return { document: `${schema}."Document"`, job: `${schema}."SyncJob"` };
}

const column = (alias: string, name: string) => `${alias}.${quoteIdentifier(name)}`;

function keyOf(resolved: ResolvedSource, alias: string): string {
  return `${column(alias, resolved.source.key)}::text`;
}

function ownerOf(resolved: ResolvedSource, alias: string): string {
  if (resolved.shape.ownerSql) return `${resolved.shape.ownerSql(alias, resolved.dualstoreSchema)}::text`;
  return resolved.source.owner === undefined ? "NULL::text" : `${column(alias, resolved.source.owner)}::text`;
}

function metadataOf(resolved: ResolvedSource, alias: string): string {
  const { metadata } = resolved.source;
  if (metadata.length === 0) return "NULL::jsonb";
  return `jsonb_build_object(${metadata.map((name) => `${literal(name)}, ${column(alias, name)}`).join(", ")})`;
}

function conditionOf(resolved: ResolvedSource, alias: string): string {
  return resolved.shape.condition?.(alias) ?? "true";
}

/** The columns whose change can change what is indexed; undefined when any column can (a text function reads the whole row). */
function watchedColumns(resolved: ResolvedSource): string[] | undefined {
  const { source, shape } = resolved;
  if (typeof source.text === "function" || shape.ownerSql) return undefined;
  return [...new Set([source.key, ...(source.owner ? [source.owner] : []), ...source.metadata, ...source.text, ...(shape.conditionColumns ?? [])])];
}

/** The columns a mirror row is written with, and the values for the app row `alias`. */
function mirrorInsert(resolved: ResolvedSource, alias: string): { columns: string; values: string } {
  const name = literal(resolved.source.name);
  const language = resolved.source.language === undefined ? "NULL::text" : literal(resolved.source.language);
  return {
    columns: `id, "userId", title, source, "sourceName", "sourceKey", metadata, language, tags, "vectorIds", "updatedAt"`,
    values: `gen_random_uuid()::text, ${ownerOf(resolved, alias)}, ${name}, '${MIRROR_DOCUMENT_SOURCE}', ${name}, ${keyOf(resolved, alias)},
             ${metadataOf(resolved, alias)}, ${language}, '{}'::text[], '{}'::text[], clock_timestamp()`,
  };
}

/** Marks for deletion (hiding them at once, and freeing their key for a new row) the mirrors `where` selects. */
function retireMirrors(resolved: ResolvedSource, where: string): string {
  return `UPDATE ${tables(resolved).document} d SET "indexStatus" = 'DELETING', indexed = false, "indexStatusAt" = now(), "sourceKey" = NULL,
                 "updatedAt" = clock_timestamp()
           WHERE d."sourceName" = ${literal(resolved.source.name)} AND ${where}`;
}

/**
 * The trigger function: in the writer's transaction, an insert or a relevant update upserts the
 * row's mirror (PENDING) and enqueues its INDEX job; a delete, a key change or a row leaving the
 * source's condition retires the old mirror and enqueues its DELETE job. An update that changes
 * nothing the index reads does nothing.
 */
export function triggerFunctionSql(resolved: ResolvedSource, version: string): string[] {
  const { document, job } = tables(resolved);
  const watched = watchedColumns(resolved);
  const unchanged = watched
    ? watched.map((name) => `(OLD.${quoteIdentifier(name)})::text IS NOT DISTINCT FROM (NEW.${quoteIdentifier(name)})::text`).join(" AND ")
    : "OLD::text IS NOT DISTINCT FROM NEW::text";
  const insert = mirrorInsert(resolved, "NEW");
  const fn = functionName(resolved);
  return [
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $dualstore$
DECLARE
  mirror text;
BEGIN
  IF TG_OP = 'UPDATE' AND ${unchanged} THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (${keyOf(resolved, "OLD")} IS DISTINCT FROM ${keyOf(resolved, "NEW")} OR NOT (${conditionOf(resolved, "NEW")}))) THEN
    ${retireMirrors(resolved, `d."sourceKey" = ${keyOf(resolved, "OLD")}`)}
    RETURNING d.id INTO mirror;
    IF mirror IS NOT NULL THEN
      INSERT INTO ${job} (id, kind, "documentId", "updatedAt") VALUES (gen_random_uuid()::text, 'DELETE', mirror, now());
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN NULL;
    END IF;
  END IF;
  IF ${conditionOf(resolved, "NEW")} THEN
    INSERT INTO ${document} AS d (${insert.columns}) SELECT ${insert.values}
    ON CONFLICT ("sourceName", "sourceKey") DO UPDATE SET "userId" = EXCLUDED."userId", metadata = EXCLUDED.metadata,
      language = EXCLUDED.language, "indexStatus" = 'PENDING', indexed = false, "indexStatusAt" = now(), "updatedAt" = clock_timestamp()
    RETURNING d.id INTO mirror;
    INSERT INTO ${job} (id, kind, "documentId", "updatedAt") VALUES (gen_random_uuid()::text, 'INDEX', mirror, now());
  END IF;
  RETURN NULL;
END
$dualstore$`,
    `COMMENT ON FUNCTION ${fn}() IS ${literal(version)}`,
    `DROP TRIGGER IF EXISTS ${quoteIdentifier(triggerName(resolved.source.name))} ON ${resolved.table}`,
    `CREATE TRIGGER ${quoteIdentifier(triggerName(resolved.source.name))} AFTER INSERT OR UPDATE OR DELETE ON ${resolved.table}
       FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
  ];
}

/** Drops the trigger and its function. */
export function dropTriggerSql(resolved: Pick<ResolvedSource, "dualstoreSchema" | "source">, table: string | undefined): string[] {
  return [
    ...(table === undefined ? [] : [`DROP TRIGGER IF EXISTS ${quoteIdentifier(triggerName(resolved.source.name))} ON ${table}`]),
    `DROP FUNCTION IF EXISTS ${functionName(resolved)}()`,
  ];
}

/**
 * One backfill batch: the next `$2` rows after key `$1` (null: from the start) get a mirror and
 * an INDEX job, unless a mirror with the same owner, metadata and language already exists.
 * Returns the batch's last key (null when the table is done) and how many jobs it enqueued.
 */
export function backfillSql(resolved: ResolvedSource): string {
  const { document, job } = tables(resolved);
  const key = column("t", resolved.source.key);
  const insert = mirrorInsert(resolved, "b");
  return `WITH batch AS (
      SELECT t.* FROM ${resolved.table} t
       WHERE ${conditionOf(resolved, "t")} AND ($1::text IS NULL OR ${key} > ($1::text)::${resolved.keyType})
       ORDER BY ${key} LIMIT $2
    ), mirrors AS (
      INSERT INTO ${document} AS d (${insert.columns}) SELECT ${insert.values} FROM batch b
      ON CONFLICT ("sourceName", "sourceKey") DO UPDATE SET "userId" = EXCLUDED."userId", metadata = EXCLUDED.metadata,
        language = EXCLUDED.language, "indexStatus" = 'PENDING', indexed = false, "indexStatusAt" = now(), "updatedAt" = clock_timestamp()
      WHERE (d."userId", d.metadata::text, d.language) IS DISTINCT FROM (EXCLUDED."userId", EXCLUDED.metadata::text, EXCLUDED.language)
      RETURNING d.id
    ), jobs AS (
      INSERT INTO ${job} (id, kind, "documentId", "updatedAt") SELECT gen_random_uuid()::text, 'INDEX', id, now() FROM mirrors RETURNING 1
    )
    SELECT (SELECT ${column("b", resolved.source.key)}::text FROM batch b ORDER BY ${column("b", resolved.source.key)} DESC LIMIT 1) AS "lastKey",
           (SELECT count(*) FROM batch)::int AS rows, (SELECT count(*) FROM jobs)::int AS enqueued`;
}

/** Retires the mirrors whose row is gone (or no longer meets the condition), with their DELETE jobs; returns how many. */
export function retireOrphansSql(resolved: ResolvedSource): string {
  const where = `d."sourceKey" IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM ${resolved.table} t WHERE ${column("t", resolved.source.key)} = d."sourceKey"::${resolved.keyType} AND ${conditionOf(resolved, "t")})`;
  return retiredWithJobs(resolved, where);
}

/** Retires every mirror of the source, with their DELETE jobs; returns how many. */
export function retireAllSql(resolved: Pick<ResolvedSource, "dualstoreSchema" | "source">): string {
  return retiredWithJobs(resolved as ResolvedSource, `d."indexStatus" <> 'DELETING'`);
}

function retiredWithJobs(resolved: ResolvedSource, where: string): string {
  return `WITH retired AS (${retireMirrors(resolved, where)} RETURNING d.id), jobs AS (
      INSERT INTO ${tables(resolved).job} (id, kind, "documentId", "updatedAt") SELECT gen_random_uuid()::text, 'DELETE', id, now() FROM retired RETURNING 1
    ) SELECT count(*)::int AS retired FROM jobs`;
}

/** Prefix of the columns dualstore adds to an app row it reads, so they cannot collide with the app's. */
export const COLUMN_PREFIX = "__dualstore_";

/** The app rows behind mirrors `$1` (document ids), each with its mirror's id. */
export function rowsForMirrorsSql(resolved: ResolvedSource): string {
  return `SELECT d.id AS "${COLUMN_PREFIX}id", t.* FROM ${tables(resolved).document} d
            JOIN ${resolved.table} t ON ${column("t", resolved.source.key)} = d."sourceKey"::${resolved.keyType}
           WHERE d.id = ANY($1::text[])`;
}

/**
 * Search hydration for one source, in one statement: the chunks behind vector ids `$1` that
 * belong to this source's live mirrors visible to owner `$2` (null: public rows only), with the
 * app's row each came from.
 */
export function hydrateSql(resolved: ResolvedSource): string {
  const schema = resolved.dualstoreSchema;
  return `SELECT k."vectorId" AS "${COLUMN_PREFIX}vectorId", k.index AS "${COLUMN_PREFIX}index", k.text AS "${COLUMN_PREFIX}text",
                 k.start AS "${COLUMN_PREFIX}start", k."end" AS "${COLUMN_PREFIX}end", d."sourceKey" AS "${COLUMN_PREFIX}key", t.*
            FROM ${schema}."DocumentChunk" k JOIN ${schema}."Document" d ON d.id = k."documentId"
            JOIN ${resolved.table} t ON ${column("t", resolved.source.key)} = d."sourceKey"::${resolved.keyType}
           WHERE k."vectorId" = ANY($1::text[]) AND d."sourceName" = ${literal(resolved.source.name)} AND d."indexStatus" <> 'DELETING'
             AND (d."userId" IS NULL OR d."userId" = $2::text) AND ${conditionOf(resolved, "t")}`;
}

/** Counts of a source's mirrors by state, whether its trigger is on its table, and its function's version. */
export function statusSql(dualstoreSchema: string): string {
  return `SELECT count(*) FILTER (WHERE "indexStatus" <> 'DELETING')::int AS rows,
                 count(*) FILTER (WHERE "indexStatus" = 'INDEXED')::int AS indexed,
                 count(*) FILTER (WHERE "indexStatus" IN ('PENDING', 'INDEXING'))::int AS pending,
                 count(*) FILTER (WHERE "indexStatus" = 'FAILED')::int AS failed,
                 count(*) FILTER (WHERE "indexStatus" = 'DELETING')::int AS deleting,
                 (SELECT t.tgrelid::regclass::text FROM pg_trigger t WHERE t.tgname = $2 AND NOT t.tgisinternal LIMIT 1) AS "triggerTable",
                 obj_description(to_regprocedure($3), 'pg_proc') AS version
            FROM ${dualstoreSchema}."Document" WHERE "sourceName" = $1`;
}
