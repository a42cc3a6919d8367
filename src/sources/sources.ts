import { createHash } from "node:crypto";
import { z } from "zod";
import { qualifiedName, quoteIdentifier } from "../db/driver.js";
import type { PrismaClient } from "../db/prisma.js";
import { fromPrismaError } from "../db/prisma-errors.js";
import { DualstoreError, IndexingError, SourceError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { shapeOf, sourceText, type AnySource, type SourceRow } from "./source.js";
import {
  backfillSql,
  COLUMN_PREFIX,
  dropTriggerSql,
  functionName,
  retireAllSql,
  retireOrphansSql,
  rowsForMirrorsSql,
  statusSql,
  triggerFunctionSql,
  triggerName,
  type ResolvedSource,
} from "./source-sql.js";

/** What `install()` did for one source. */
export interface SourceInstallReport {
  readonly name: string;
  /** The table, as `schema.table`. */
  readonly table: string;
  /** Rows of the table looked at by the backfill. */
  readonly rows: number;
  /** INDEX jobs enqueued for rows without an up-to-date mirror (0 when re-installed over a current one). */
  readonly enqueued: number;
  /** Mirrors of rows that no longer exist, retired with their DELETE jobs. */
  readonly retired: number;
}

/** Where a source stands. */
export interface SourceStatus {
  readonly name: string;
  /** Its trigger is on its table, and its trigger function is the one this dualstore writes for its definition. */
  readonly installed: boolean;
  /** Its trigger is on its table but was written for another definition (or dualstore version): install() again. */
  readonly outdated: boolean;
  /** Rows mirrored (searchable once indexed). */
  readonly rows: number;
  readonly indexed: number;
  /** Waiting for (or in) an index run. */
  readonly pending: number;
  readonly failed: number;
  /** Rows deleted whose vectors are still being removed. */
  readonly deleting: number;
  /** Why the source cannot be installed as declared (its table or a column is missing, its key is not unique). */
  readonly problem?: SourceError;
}

const installOptions = z.strictObject({
  /** Only these sources. Default: every declared source. */
  names: z.array(z.string()).min(1).optional(),
  /** Rows per backfill statement, 1..10,000. Default 1,000. */
  batchSize: z.number().int().min(1).max(10_000).optional(),
});

export type SourceInstallOptions = z.input<typeof installOptions>;

/**
 * The sources an instance was created with: their tables as the database knows them (looked up
 * once), their triggers, and the app rows behind their mirrors.
 */
export class SourceRegistry {
  private readonly byName = new Map<string, AnySource>();
  private readonly resolved = new Map<string, Promise<ResolvedSource>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly schema: string | undefined,
    sources: readonly AnySource[],
  ) {
    for (const source of sources) this.byName.set(source.name, source);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The declared source `name`, or SOURCE_UNKNOWN. */
  get(name: string): AnySource {
    const source = this.byName.get(name);
    if (!source) {
      throw new SourceError("SOURCE_UNKNOWN", name, `source "${name}" is not declared (declared: ${this.names.join(", ") || "none"}); pass it in createDualstore({ sources })`);
    }
    return source;
  }

  /** The source bound to its table; the catalog is read once per source. */
  resolve(name: string): Promise<ResolvedSource> {
    const source = this.get(name);
    let resolved = this.resolved.get(name);
    if (!resolved) {
      resolved = this.lookUp(source);
      // A failed lookup (a table not created yet) is tried again next time.
      resolved.catch(() => this.resolved.delete(name));
      this.resolved.set(name, resolved);
    }
    return resolved;
  }

  private async lookUp(source: AnySource): Promise<ResolvedSource> {
    const shape = shapeOf(source);
    const [schemaName, tableName] = source.table.includes(".") ? source.table.split(".", 2) : [undefined, source.table];
    const rows = await this.prisma
      .$queryRawUnsafe<Array<{ dualstoreSchema: string; schema: string | null; table: string | null; columns: Array<{ name: string; type: string }> | null; uniqueKey: boolean }>>(
        `SELECT COALESCE($2::text, current_schema()) AS "dualstoreSchema", n.nspname AS schema, c.relname AS table,
                (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)))
                   FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
                EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                         WHERE i.indrelid = c.oid AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $3) AS "uniqueKey"
           FROM (SELECT to_regclass($1::text) AS oid) r LEFT JOIN pg_class c ON c.oid = r.oid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace`,
        // A built-in source's table is dualstore's own; another's is the app's, found through the search path unless qualified.
        qualifiedName(shape.inDualstoreSchema ? this.schema : schemaName, tableName!),
        this.schema ?? null,
        source.key,
      )
      .catch((error: unknown) => {
        throw fromPrismaError(error, { entity: `source ${source.name}` });
      });
    const found = rows[0];
    if (!found || found.table === null || found.schema === null) {
      throw new SourceError("SOURCE_TABLE_MISSING", source.name, `source "${source.name}": table "${source.table}" does not exist (or is not on the connection's search path)`);
    }
    const displayName = `${found.schema}.${found.table}`;
    const types = new Map((found.columns ?? []).map((c) => [c.name, c.type]));
    const named = [
      source.key,
      ...(source.owner ? [source.owner] : []),
      ...source.metadata,
      ...(typeof source.text === "function" ? [] : source.text),
      ...(shape.conditionColumns ?? []),
    ];
    const missing = [...new Set(named)].filter((name) => !types.has(name));
    if (missing.length > 0) {
      throw new SourceError(
        "SOURCE_TABLE_MISSING",
        source.name,
        `source "${source.name}": table ${displayName} has no column ${missing.map((name) => `"${name}"`).join(", ")}`,
      );
    }
    if (!found.uniqueKey) {
      throw new SourceError(
        "SOURCE_KEY_NOT_UNIQUE",
        source.name,
        `source "${source.name}": key column "${source.key}" of ${displayName} has no unique index or primary key of its own`,
      );
    }
    return {
      source,
      shape,
      table: `${quoteIdentifier(found.schema)}.${quoteIdentifier(found.table)}`,
      displayName,
      keyType: types.get(source.key)!,
      dualstoreSchema: quoteIdentifier(found.dualstoreSchema),
    };
  }

  /**
   * Installs (or brings up to date) each source's trigger, then backfills: every existing row
   * without a current mirror gets one and an INDEX job, `batchSize` rows per statement, and
   * mirrors of rows deleted meanwhile are retired. Idempotent; safe while the app writes (a row
   * written during the backfill is mirrored by the trigger, and the backfill skips it).
   */
  async install(options: SourceInstallOptions = {}): Promise<SourceInstallReport[]> {
    const opts = parseInput(installOptions, options, "sources.install options");
    const names = opts.names ?? this.names;
    for (const name of names) this.get(name);
    const reports: SourceInstallReport[] = [];
    for (const name of names) {
      const resolved = await this.resolve(name);
      await this.run(name, () =>
        this.prisma.$transaction(async (tx) => {
          // Two processes installing at once take turns (CREATE OR REPLACE FUNCTION is not safe concurrently).
          await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, triggerName(name));
          for (const statement of triggerFunctionSql(resolved, versionOf(resolved))) await tx.$executeRawUnsafe(statement);
        }),
      );
      const [{ retired }] = (await this.run(name, () => this.prisma.$queryRawUnsafe<Array<{ retired: number }>>(retireOrphansSql(resolved)))) as [
        { retired: number },
      ];
      let lastKey: string | null = null;
      let rows = 0;
      let enqueued = 0;
      const batch = backfillSql(resolved);
      for (;;) {
        const [step] = await this.run(name, () =>
          this.prisma.$queryRawUnsafe<Array<{ lastKey: string | null; rows: number; enqueued: number }>>(batch, lastKey, opts.batchSize ?? 1_000),
        );
        rows += step!.rows;
        enqueued += step!.enqueued;
        if (step!.lastKey === null) break;
        lastKey = step!.lastKey;
      }
      reports.push({ name, table: resolved.displayName, rows, enqueued, retired });
    }
    return reports;
  }

  /** Each declared source's state: its trigger, and its mirrors by state. One statement per source. */
  async status(): Promise<SourceStatus[]> {
    const statuses: SourceStatus[] = [];
    for (const name of this.names) {
      let problem: SourceError | undefined;
      const resolved = await this.resolve(name).catch((error: unknown) => {
        if (!(error instanceof SourceError)) throw error;
        problem = error;
        return undefined;
      });
      const dualstoreSchema = resolved?.dualstoreSchema ?? quoteIdentifier(this.schema ?? "public");
      const [row] = await this.run(name, () =>
        this.prisma.$queryRawUnsafe<Array<{ rows: number; indexed: number; pending: number; failed: number; deleting: number; triggerTable: string | null; version: string | null }>>(
          statusSql(dualstoreSchema),
          name,
          triggerName(name),
          `${functionName({ dualstoreSchema, source: this.get(name) })}()`,
        ),
      );
      const onTable = row!.triggerTable !== null && resolved !== undefined;
      const current = onTable && row!.version === versionOf(resolved);
      statuses.push({
        name,
        installed: current,
        outdated: onTable && !current,
        rows: row!.rows,
        indexed: row!.indexed,
        pending: row!.pending,
        failed: row!.failed,
        deleting: row!.deleting,
        ...(problem ? { problem } : {}),
      });
    }
    return statuses;
  }

  /**
   * Removes a source's trigger and function, and retires all its mirrors (the worker deletes
   * their vectors and rows). The app's table is left as it was. Returns the mirrors retired.
   */
  async remove(name: string): Promise<{ name: string; retired: number }> {
    const source = this.get(name);
    const resolved = await this.resolve(name).catch((error: unknown) => {
      if (error instanceof SourceError && error.code === "SOURCE_TABLE_MISSING") return undefined;
      throw error;
    });
    const dualstoreSchema = resolved?.dualstoreSchema ?? quoteIdentifier(this.schema ?? "public");
    const retired = await this.run(name, () =>
      this.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, triggerName(name));
        for (const statement of dropTriggerSql({ dualstoreSchema, source }, resolved?.table)) await tx.$executeRawUnsafe(statement);
        const [row] = await tx.$queryRawUnsafe<Array<{ retired: number }>>(retireAllSql({ dualstoreSchema, source }));
        return row!.retired;
      }),
    );
    return { name, retired };
  }

  /**
   * The text of each mirror in `mirrors`, read from the app's rows: one statement per source.
   * A mirror whose row is gone gets "" (its DELETE job is on its way); a mirror of a source this
   * process does not know, or whose text function throws, gets the error to record.
   */
  async texts(mirrors: ReadonlyArray<{ id: string; sourceName: string }>): Promise<Map<string, string | DualstoreError>> {
    const texts = new Map<string, string | DualstoreError>();
    const bySource = new Map<string, string[]>();
    for (const mirror of mirrors) bySource.set(mirror.sourceName, [...(bySource.get(mirror.sourceName) ?? []), mirror.id]);
    for (const [name, ids] of bySource) {
      let resolved: ResolvedSource;
      try {
        resolved = await this.resolve(name);
      } catch (error) {
        for (const id of ids) texts.set(id, error instanceof DualstoreError ? error : new IndexingError(id, String(error), { cause: error }));
        continue;
      }
      const rows = await this.prisma.$queryRawUnsafe<SourceRow[]>(rowsForMirrorsSql(resolved), ids);
      for (const row of rows) {
        const id = row[`${COLUMN_PREFIX}id`] as string;
        delete row[`${COLUMN_PREFIX}id`];
        try {
          texts.set(id, sourceText(resolved.source, row));
        } catch (error) {
          texts.set(id, new IndexingError(id, `source "${name}": its text function threw: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        }
      }
      for (const id of ids) if (!texts.has(id)) texts.set(id, "");
    }
    return texts;
  }

  private run<T>(name: string, work: () => Promise<T>): Promise<T> {
    return work().catch((error: unknown) => {
      if (error instanceof DualstoreError) throw error;
      throw fromPrismaError(error, { entity: `source ${name}` });
    });
  }
}

/** What a source's trigger function is written from: a change of definition makes it outdated. */
function versionOf(resolved: ResolvedSource): string {
  const { source, shape } = resolved;
  const definition = JSON.stringify([
    source.table,
    source.key,
    source.owner ?? null,
    source.metadata,
    typeof source.text === "function" ? "function" : source.text,
    source.language ?? null,
    shape.ownerSql?.("r", "s") ?? null,
    shape.condition?.("r") ?? null,
  ]);
  return `dualstore source ${createHash("sha256").update(definition).digest("hex").slice(0, 16)}`;
}
