import { abortable } from "../../core/call-context.js";
import { showAs } from "../../core/inspect.js";
import { throwIfAborted } from "../../core/retry.js";
import type { DatabaseDriverName } from "../../db/driver.js";
import { quoteIdentifier } from "../../db/driver.js";
import type { PrismaClient } from "../../db/prisma.js";
import { AbortedError, ConfigurationError, DimensionMismatchError, ProviderError } from "../../errors.js";
import type { QueryRequest, VectorMatch, VectorRecord, VectorStore, VectorStoreCallOptions, VectorStoreInfo, VectorStoreLimits, VectorMetadata } from "../vector-store.js";
import { filterToSql } from "./pgvector-filter.js";

export interface PgVectorStoreOptions {
  /**
   * Schema for the vector table, created if missing. Default `dualstore_vectors` (or
   * `<schema>_vectors` when dualstore's tables live in a named schema): a schema of its own keeps
   * the table out of Prisma's sight, so `prisma migrate` sees no drift.
   */
  schema?: string;
  /** Table for the vectors. Default `vectors_<dimension>`, so a new embedder dimension gets a new table. */
  table?: string;
  /** HNSW candidate list size at query time (pgvector's hnsw.ef_search). Default 100. */
  efSearch?: number;
}

interface Connection {
  readonly prisma: PrismaClient;
  readonly schema: string | undefined;
  readonly driver: DatabaseDriverName;
}

/**
 * pgvector in the same PostgreSQL database as dualstore's tables (PGlite always has it; a
 * server needs the extension installed). Cosine distance with an HNSW index; metadata in jsonb
 * with a GIN index for filters. Every statement is parameterised.
 *
 * Filtered HNSW searches use pgvector 0.8's iterative scans, so a selective filter still
 * returns topK rows instead of whatever survived the first candidate list.
 */
export class PgVectorStore implements VectorStore {
  readonly name = "pgvector";
  readonly consistency = "strong" as const;
  readonly limits: VectorStoreLimits = { maxUpsertRecords: 500, maxIdsPerRequest: 1_000, maxIdLength: 1_024 };
  private table = "";
  private dimension = 0;
  /** Rows upserted since the table's statistics were last gathered, and the table's row estimate then. */
  private upsertedSinceAnalyze = 0;
  private rowsAtAnalyze = 0;
  private analyzing: Promise<void> | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly options: PgVectorStoreOptions = {},
  ) {
    // Its client and settings hold the API key: inspect shows what it is, not how it connects.
    showAs(this, "PgVectorStore", () => ({ table: this.table, dimension: this.dimension }));
  }

  /** Whether the database can load pgvector at all (installed, if not yet created). */
  static async available(prisma: PrismaClient): Promise<boolean> {
    const rows = await prisma.$queryRawUnsafe<Array<{ ok: boolean }>>(
      `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS ok`,
    );
    return rows[0]?.ok === true;
  }

  async init({ dimension }: { dimension: number }): Promise<void> {
    const { prisma } = this.connection;
    const name = this.options.table ?? `vectors_${dimension}`;
    const schema = this.options.schema ?? (this.connection.schema ? `${this.connection.schema}_vectors` : "dualstore_vectors");
    for (const [option, value] of [["table", name], ["schema", schema]] as const) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)) throw new ConfigurationError(`vectorStore.${option}: invalid name ${JSON.stringify(value)}`);
    }
    this.table = `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
    this.dimension = dimension;
    if (!(await PgVectorStore.available(prisma))) {
      throw new ConfigurationError(
        "vectorStore: this PostgreSQL server has no pgvector extension. Install pgvector, or configure another " +
          'vector store: vectorStore: { provider: "pinecone" | "lancedb" | "memory" }',
      );
    }
    await prisma.$executeRawUnsafe(`CREATE EXTENSION IF NOT EXISTS vector`);
    await prisma.$executeRawUnsafe(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    await prisma.$executeRawUnsafe(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         namespace text COLLATE "C" NOT NULL,
         id text COLLATE "C" NOT NULL,
         embedding vector(${dimension}) NOT NULL,
         metadata jsonb NOT NULL,
         PRIMARY KEY (namespace, id))`,
    );
    const [existing] = await prisma.$queryRawUnsafe<Array<{ dims: number }>>(
      `SELECT atttypmod AS dims FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`,
      this.table,
    );
    if (existing && existing.dims !== dimension) throw new DimensionMismatchError(`pgvector table ${name}`, existing.dims, dimension);
    await prisma.$executeRawUnsafe(
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${name}_embedding_hnsw`)} ON ${this.table} USING hnsw (embedding vector_cosine_ops)`,
    );
    await prisma.$executeRawUnsafe(
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${name}_metadata_gin`)} ON ${this.table} USING gin (metadata jsonb_path_ops)`,
    );
    // A table never analyzed (PGlite runs no autovacuum) has no statistics, and without them the
    // planner scans and sorts every vector instead of walking the HNSW index.
    const [stats] = await prisma.$queryRawUnsafe<Array<{ rows: number }>>(`SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass`, this.table);
    if ((stats?.rows ?? -1) < 0) await this.analyze();
    else this.rowsAtAnalyze = stats!.rows;
    if (this.connection.driver === "pglite") {
      // One connection: session settings hold for every later query.
      for (const statement of this.searchSettings()) await prisma.$executeRawUnsafe(statement);
    }
  }

  async upsert(records: readonly VectorRecord[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    for (const record of records) {
      if (record.values.length !== this.dimension) throw new DimensionMismatchError(`vector ${record.id}`, this.dimension, record.values.length);
    }
    await this.run(() =>
      this.connection.prisma.$executeRawUnsafe(
        `INSERT INTO ${this.table} (namespace, id, embedding, metadata)
         SELECT $1, u.id, u.embedding::vector, u.metadata::jsonb
           FROM unnest($2::text[], $3::text[], $4::text[]) AS u(id, embedding, metadata)
         ON CONFLICT (namespace, id) DO UPDATE SET embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata`,
        namespace,
        records.map((r) => r.id),
        records.map((r) => vectorLiteral(r.values)),
        records.map((r) => JSON.stringify(r.metadata)),
      ),
      options,
    );
    // After a bulk load (a tenth of the table, at least 1,000 rows) the statistics are refreshed
    // at once: PostgreSQL's autovacuum would get to it eventually, PGlite's never.
    this.upsertedSinceAnalyze += records.length;
    if (this.upsertedSinceAnalyze >= Math.max(1_000, this.rowsAtAnalyze / 10)) await this.analyze();
  }

  /** Upkeep: refreshes the table's statistics, so queries keep using the HNSW index. */
  async maintain(): Promise<void> {
    await this.analyze();
  }

  private analyze(): Promise<void> {
    this.analyzing ??= (async () => {
      const upserted = this.upsertedSinceAnalyze;
      try {
        await this.run(() => this.connection.prisma.$executeRawUnsafe(`ANALYZE ${this.table}`), undefined);
        const [stats] = await this.connection.prisma.$queryRawUnsafe<Array<{ rows: number }>>(
          `SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass`,
          this.table,
        );
        this.rowsAtAnalyze = Math.max(0, stats?.rows ?? 0);
        this.upsertedSinceAnalyze -= upserted;
      } finally {
        this.analyzing = undefined;
      }
    })();
    return this.analyzing;
  }

  async delete(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    await this.run(
      () => this.connection.prisma.$executeRawUnsafe(`DELETE FROM ${this.table} WHERE namespace = $1 AND id = ANY($2::text[])`, namespace, [...ids]),
      options,
    );
  }

  async deletePrefix(prefix: string, namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    await this.run(() =>
      this.connection.prisma.$executeRawUnsafe(
        `DELETE FROM ${this.table} WHERE namespace = $1 AND id >= $2 AND starts_with(id, $2)`,
        namespace,
        prefix,
      ),
      options,
    );
  }

  async query({ vector, topK, filter, namespace, includeMetadata = true }: QueryRequest, options?: VectorStoreCallOptions): Promise<VectorMatch[]> {
    if (vector.length !== this.dimension) throw new DimensionMismatchError("query vector", this.dimension, vector.length);
    const params: unknown[] = [vectorLiteral(vector), namespace, topK];
    const where = filter ? ` AND ${filterToSql(filter, params)}` : "";
    const sql = `SELECT id, (1 - (embedding <=> $1::vector))::float8 AS score, ${includeMetadata ? "metadata" : "'{}'::jsonb AS metadata"}
                   FROM ${this.table} WHERE namespace = $2${where}
                  ORDER BY embedding <=> $1::vector LIMIT $3`;
    const { prisma } = this.connection;
    const rows = await this.run(async () => {
      if (this.connection.driver === "pglite") return prisma.$queryRawUnsafe<RowMatch[]>(sql, ...params);
      // A pool hands out any connection: the search settings must ride in the query's own transaction.
      const [, , result] = await prisma.$transaction([
        ...this.searchSettings("LOCAL").map((statement) => prisma.$executeRawUnsafe(statement)),
        prisma.$queryRawUnsafe<RowMatch[]>(sql, ...params),
      ] as const);
      return result as RowMatch[];
    }, options);
    // Iterative scans return rows in roughly distance order; the caller gets them exactly ordered.
    return rows.map((row) => ({ id: row.id, score: row.score, metadata: row.metadata })).sort((a, b) => b.score - a.score);
  }

  async fetch(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<VectorRecord[]> {
    const rows = await this.run(() =>
      this.connection.prisma.$queryRawUnsafe<Array<{ id: string; embedding: string; metadata: VectorMetadata }>>(
        `SELECT id, embedding::text AS embedding, metadata FROM ${this.table} WHERE namespace = $1 AND id = ANY($2::text[])`,
        namespace,
        [...ids],
      ),
      options,
    );
    return rows.map((row) => ({ id: row.id, values: JSON.parse(row.embedding) as number[], metadata: row.metadata }));
  }

  async listIds({ prefix, namespace, limit, cursor }: Parameters<VectorStore["listIds"]>[0], options?: VectorStoreCallOptions) {
    const rows = await this.run(() =>
      this.connection.prisma.$queryRawUnsafe<Array<{ id: string }>>(
        `SELECT id FROM ${this.table}
          WHERE namespace = $1 AND id >= $2 AND starts_with(id, $2) AND ($3::text IS NULL OR id > $3)
          ORDER BY id LIMIT $4`,
        namespace,
        prefix,
        cursor ?? null,
        limit + 1,
      ),
      options,
    );
    const ids = rows.slice(0, limit).map((row) => row.id);
    return { ids, next: rows.length > limit ? ids.at(-1) : undefined };
  }

  async listNamespaces(options?: VectorStoreCallOptions): Promise<string[]> {
    const rows = await this.run(
      () => this.connection.prisma.$queryRawUnsafe<Array<{ namespace: string }>>(`SELECT DISTINCT namespace FROM ${this.table} ORDER BY namespace`),
      options,
    );
    return rows.map((row) => row.namespace);
  }

  async describe(options?: VectorStoreCallOptions): Promise<VectorStoreInfo> {
    const [row] = await this.run(
      () => this.connection.prisma.$queryRawUnsafe<Array<{ count: number }>>(`SELECT count(*)::int AS count FROM ${this.table}`),
      options,
    );
    return { dimension: this.dimension, count: row?.count ?? 0 };
  }

  private searchSettings(scope: "" | "LOCAL" = ""): string[] {
    const efSearch = Math.max(1, Math.floor(this.options.efSearch ?? 100));
    return [`SET ${scope} hnsw.iterative_scan = 'relaxed_order'`, `SET ${scope} hnsw.ef_search = ${efSearch}`];
  }

  /**
   * Database failures become ProviderErrors of this store (retryable only for connection trouble).
   * A statement cannot be cancelled through Prisma: an abort stops the wait, not the statement.
   */
  private async run<T>(work: () => Promise<T>, options: VectorStoreCallOptions | undefined): Promise<T> {
    throwIfAborted(options?.signal);
    try {
      return await abortable(work(), options?.signal);
    } catch (error) {
      if (error instanceof DimensionMismatchError || error instanceof AbortedError) throw error;
      const message = error instanceof Error ? error.message.trim().split("\n").at(-1)! : String(error);
      const transient = /connection|ECONNRESET|ECONNREFUSED|timeout|terminat/i.test(message);
      throw new ProviderError("pgvector", message, { retryable: transient, cause: error });
    }
  }
}

interface RowMatch {
  id: string;
  score: number;
  metadata: VectorMetadata;
}

function vectorLiteral(values: readonly number[]): string {
  return `[${values.join(",")}]`;
}
