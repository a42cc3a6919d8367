import { abortable } from "../../core/call-context.js";
import { showAs } from "../../core/inspect.js";
import type { Logger } from "../../core/logger.js";
import { sanitizedError } from "../../core/provider-errors.js";
import { redactAndClip, redactUrl } from "../../core/redact.js";
import { throwIfAborted } from "../../core/retry.js";
import { ClosedError, ConfigurationError, DimensionMismatchError, DualstoreError, ProviderError } from "../../errors.js";
import { importOptional } from "../../internal/optional-import.js";
import { checkFilter } from "../filter.js";
import type {
  VectorMatch,
  VectorMetadata,
  VectorRecord,
  VectorStore,
  VectorStoreCallOptions,
  VectorStoreInfo,
  VectorStoreLimits,
} from "../vector-store.js";
import { checkLanceDbConfig, type LanceDbVectorStoreConfig } from "./lancedb-config.js";
import { and, filterPredicate, filterTerms, inNamespace, sqlString, withPrefix } from "./lancedb-sql.js";

// The slice of @lancedb/lancedb this store uses, declared here so the SDK's types stay out of dualstore's.

interface LanceDbModule {
  connect(uri: string, options?: LanceDbConnectOptions): Promise<LanceDbConnection>;
}

interface LanceDbConnectOptions {
  readConsistencyInterval?: number;
  apiKey?: string;
  region?: string;
  clientConfig?: { retryConfig: { retries: number; connectRetries: number; readRetries: number } };
}

interface LanceDbConnection {
  openTable(name: string): Promise<LanceDbTable>;
  createEmptyTable(name: string, schema: SchemaDescription, options: { mode: "create"; existOk: boolean }): Promise<LanceDbTable>;
  close(): void;
}

interface LanceDbTable {
  schema(): Promise<{ fields: ReadonlyArray<{ name: string; type: unknown; metadata: ReadonlyMap<string, string> }> }>;
  setUnenforcedPrimaryKey(column: string): Promise<void>;
  mergeInsert(on: string): LanceDbMergeInsert;
  delete(predicate: string): Promise<unknown>;
  countRows(): Promise<number>;
  optimize(options?: { cleanupOlderThan?: Date }): Promise<unknown>;
  query(): LanceDbQuery;
  vectorSearch(vector: number[]): LanceDbVectorQuery;
  close(): void;
}

interface LanceDbMergeInsert {
  whenMatchedUpdateAll(): LanceDbMergeInsert;
  whenNotMatchedInsertAll(): LanceDbMergeInsert;
  execute(rows: Array<Record<string, unknown>>): Promise<unknown>;
}

interface LanceDbQuery extends AsyncIterable<{ getChild(name: string): Iterable<unknown> | null }> {
  where(predicate: string): this;
  select(columns: string[]): this;
  orderBy(ordering: { columnName: string; ascending: boolean }): this;
  limit(limit: number): this;
  toArray(): Promise<Row[]>;
}

interface LanceDbVectorQuery extends LanceDbQuery {
  distanceType(distanceType: "cosine"): LanceDbVectorQuery;
}

type Row = Readonly<Record<string, unknown>>;

/** A table schema as plain data; LanceDB builds the Arrow schema from it with its own apache-arrow. */
interface SchemaDescription {
  readonly metadata: ReadonlyMap<string, string>;
  readonly fields: readonly FieldDescription[];
}

interface FieldDescription {
  readonly name: string;
  readonly nullable: boolean;
  readonly type: string | { readonly typeId: number; readonly listSize?: number; readonly children: readonly FieldDescription[] };
}

export interface LanceDbVectorStoreSettings {
  readonly uri: string;
  /** Table name; absent: `vectors_<dimension>`. */
  readonly table?: string | undefined;
  readonly connectOptions: LanceDbConnectOptions;
}

/** One column keys a row, so LanceDB can treat it as the (single-column) primary key of its merges. */
const KEY = "record_key";
// Type ids of the Arrow format (Schema.fbs), which LanceDB's schema reader accepts as plain data.
const ARROW_LIST = 12;
const ARROW_FIXED_SIZE_LIST = 16;

/**
 * Vectors in a LanceDB table: a local directory, object storage or LanceDB Cloud. Each namespace
 * is a column value; every write is an upsert keyed by (namespace, id). Search is exact cosine
 * (no ANN index is built), so scores and topK are exact under any filter.
 *
 * Metadata is kept twice: whole, as a JSON string returned to callers untouched, and as filter
 * terms, a list column holding one JSON term `["field", value]` per field (one per element for a
 * list). A dualstore filter becomes `array_has_any(filter_terms, ...)` over the terms it accepts,
 * which is exactly the reference semantics for any field name: JSON keeps 2024, "2024" and true
 * apart, and a list matches when any element does. LanceDB applies the predicate before the
 * vector search, so a selective filter still yields topK matches. Unlike a column per field, a
 * new metadata field needs no schema change; and field names only ever reach SQL inside an
 * escaped string literal.
 */
export class LanceDbVectorStore implements VectorStore {
  readonly name = "lancedb";
  readonly consistency = "strong" as const;
  readonly limits: VectorStoreLimits = { maxUpsertRecords: 1_000, maxIdsPerRequest: 1_000, maxIdLength: 1_024 };
  private connection: LanceDbConnection | undefined;
  private table: LanceDbTable | undefined;
  private dimension: number | undefined;
  private closed = false;

  constructor(
    private readonly lancedb: LanceDbModule,
    private readonly settings: LanceDbVectorStoreSettings,
    private readonly logger: Logger,
  ) {
    // Its client and settings hold the API key: inspect shows what it is, not how it connects.
    showAs(this, "LanceDbVectorStore", () => ({ uri: redactUrl(this.settings.uri), table: this.settings.table }));
  }

  /** Opens the table, creating it when missing; refuses a table (or an earlier init) of another dimension. */
  async init({ dimension }: { dimension: number }): Promise<void> {
    if (this.dimension !== undefined && this.dimension !== dimension) {
      throw new DimensionMismatchError("lancedb vector store", this.dimension, dimension);
    }
    const name = this.settings.table ?? `vectors_${dimension}`;
    await this.run(async () => {
      this.connection ??= await this.lancedb.connect(this.settings.uri, this.settings.connectOptions);
      const table = await this.openOrCreate(this.connection, name, dimension);
      this.table?.close();
      this.table = table;
      this.dimension = dimension;
      this.closed = false;
    }, undefined);
  }

  async upsert(records: readonly VectorRecord[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    const table = this.opened();
    for (const record of records) this.checkDimension(`vector ${record.id}`, record.values);
    // The last record for an id wins, as if upserted one by one: a merge whose input repeats a key would insert it twice.
    const latest = new Map(records.map((record) => [record.id, record]));
    const rows = [...latest.values()].map((record) => ({
      [KEY]: JSON.stringify([namespace, record.id]),
      namespace,
      id: record.id,
      vector: record.values,
      metadata: JSON.stringify(record.metadata),
      filter_terms: filterTerms(record.metadata),
    }));
    await this.run(() => table.mergeInsert(KEY).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows), options);
  }

  async delete(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    const table = this.opened();
    await this.run(() => table.delete(`${inNamespace(namespace)} AND id IN (${ids.map(sqlString).join(", ")})`), options);
  }

  async deletePrefix(prefix: string, namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    const table = this.opened();
    await this.run(() => table.delete(and(inNamespace(namespace), withPrefix(prefix))), options);
  }

  async query({ vector, topK, filter, namespace }: Parameters<VectorStore["query"]>[0], options?: VectorStoreCallOptions): Promise<VectorMatch[]> {
    const table = this.opened();
    this.checkDimension("query vector", vector);
    if (filter) checkFilter(filter);
    const where = and(inNamespace(namespace), filter && filterPredicate(filter));
    const rows = await this.run(
      () => table.vectorSearch(vector).distanceType("cosine").where(where).select(["id", "metadata", "_distance"]).limit(topK).toArray(),
      options,
    );
    // LanceDB's cosine distance is 1 - cosine similarity.
    return rows.map((row) => ({ id: String(row.id), score: 1 - Number(row._distance), metadata: parseMetadata(row) }));
  }

  async fetch(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<VectorRecord[]> {
    const table = this.opened();
    const rows = await this.run(() =>
      table
        .query()
        .where(`${inNamespace(namespace)} AND id IN (${ids.map(sqlString).join(", ")})`)
        .select(["id", "vector", "metadata"])
        .limit(ids.length)
        .toArray(),
      options,
    );
    return rows.map((row) => ({ id: String(row.id), values: Array.from(row.vector as Iterable<number>), metadata: parseMetadata(row) }));
  }

  /**
   * One page in UTF-8 byte order (how Arrow compares strings, for both the sort and the cursor).
   * LanceDB sorts with a top-k of `limit + 1` rows, so memory stays bounded by the page.
   */
  async listIds({ prefix, namespace, limit, cursor }: Parameters<VectorStore["listIds"]>[0], options?: VectorStoreCallOptions) {
    const table = this.opened();
    const where = and(inNamespace(namespace), withPrefix(prefix), cursor === undefined ? undefined : `id > ${sqlString(cursor)}`);
    const rows = await this.run(
      () => table.query().where(where).select(["id"]).orderBy({ columnName: "id", ascending: true }).limit(limit + 1).toArray(),
      options,
    );
    const ids = rows.slice(0, limit).map((row) => String(row.id));
    return { ids, next: rows.length > limit ? ids.at(-1) : undefined };
  }

  /** Reads the namespace column batch by batch (LanceDB has no DISTINCT): memory grows with namespaces, not rows. */
  async listNamespaces(options?: VectorStoreCallOptions): Promise<string[]> {
    const table = this.opened();
    return this.run(async () => {
      const namespaces = new Set<string>();
      for await (const batch of table.query().select(["namespace"])) {
        for (const namespace of batch.getChild("namespace") ?? []) namespaces.add(String(namespace));
      }
      return [...namespaces].sort();
    }, options);
  }

  async describe(options?: VectorStoreCallOptions): Promise<VectorStoreInfo> {
    const table = this.opened();
    const count = await this.run(() => table.countRows(), options);
    return { dimension: this.dimension ?? 0, count };
  }

  /** Compacts the table's fragments and drops versions older than an hour: every LanceDB write adds a version. */
  async maintain(): Promise<void> {
    const table = this.opened();
    await this.run(() => table.optimize({ cleanupOlderThan: new Date(Date.now() - 3_600_000) }), undefined);
  }

  async close(): Promise<void> {
    this.table?.close();
    this.connection?.close();
    this.table = undefined;
    this.connection = undefined;
    this.closed = true;
  }

  private async openOrCreate(connection: LanceDbConnection, name: string, dimension: number): Promise<LanceDbTable> {
    let table: LanceDbTable;
    try {
      table = await connection.openTable(name);
    } catch (error) {
      if (!/was not found/i.test(errorText(error))) throw error;
      // existOk: another process may create the same table between our open and create.
      table = await connection.createEmptyTable(name, tableSchema(dimension), { mode: "create", existOk: true });
      this.logger.info("lancedb: created vector table", { table: name, dimension });
    }
    try {
      await this.checkTable(table, name, dimension);
      return table;
    } catch (error) {
      table.close();
      throw error;
    }
  }

  /** Refuses a table of another dimension or shape, and marks the merge key as the primary key when it is not yet. */
  private async checkTable(table: LanceDbTable, name: string, dimension: number): Promise<void> {
    const columns = new Map((await table.schema()).fields.map((field) => [field.name, field]));
    const wanted = tableSchema(dimension).fields.map((field) => field.name);
    const vectorSize = (columns.get("vector")?.type as { listSize?: unknown } | undefined)?.listSize;
    if (wanted.some((column) => !columns.has(column)) || typeof vectorSize !== "number") {
      throw new ConfigurationError(
        `vectorStore.table: LanceDB table "${name}" was not created by dualstore (it needs the columns ${wanted.join(", ")}); choose another table name`,
      );
    }
    if (vectorSize !== dimension) throw new DimensionMismatchError(`lancedb table ${name}`, vectorSize, dimension);
    const key = columns.get(KEY)!;
    if ([...key.metadata.keys()].some((entry) => entry.startsWith("lance-schema:unenforced-primary-key"))) return;
    // With a primary key, LanceDB detects concurrent merges inserting the same key (and retries one)
    // instead of keeping both rows. A new table gets it here, as does one a crash left without it.
    try {
      await table.setUnenforcedPrimaryKey(KEY);
    } catch (error) {
      this.logger.warn("lancedb: could not set the table's primary key; concurrent upserts of one id from several writers may duplicate it", {
        table: name,
        error: errorText(error),
      });
    }
  }

  private opened(): LanceDbTable {
    if (this.table) return this.table;
    throw this.closed ? new ClosedError() : new ConfigurationError("LanceDbVectorStore: call init({ dimension }) before using the store");
  }

  private checkDimension(what: string, values: readonly number[]): void {
    if (values.length !== this.dimension) throw new DimensionMismatchError(what, this.dimension ?? values.length, values.length);
  }

  /**
   * LanceDB failures become ProviderErrors of this store; dualstore's own errors pass through.
   * LanceDB's API takes no AbortSignal: an abort stops the wait, not the operation.
   */
  private async run<T>(work: () => Promise<T>, options: VectorStoreCallOptions | undefined): Promise<T> {
    throwIfAborted(options?.signal);
    try {
      return await abortable(work(), options?.signal);
    } catch (error) {
      if (error instanceof DualstoreError) throw error;
      const text = errorText(error);
      throw new ProviderError("lancedb", redactAndClip(conciseMessage(text), 500), {
        retryable: TRANSIENT.test(text),
        requestId: /request_id=([\w-]+)/.exec(text)?.[1],
        cause: sanitizedError(error),
      });
    }
  }
}

/**
 * Builds the LanceDB store from its options, loading @lancedb/lancedb only now. Options are
 * checked here; the connection opens on init().
 */
export async function createLanceDbVectorStore(
  config: LanceDbVectorStoreConfig,
  context: { env: NodeJS.ProcessEnv; logger: Logger },
): Promise<LanceDbVectorStore> {
  const { apiKey } = checkLanceDbConfig(config, context.env);
  // Retries off in LanceDB's HTTP client: dualstore's retry policy is the only one. Locally,
  // every read checks for commits from other processes (a cheap manifest lookup): "strong" consistency.
  const connectOptions: LanceDbConnectOptions =
    apiKey === undefined
      ? { readConsistencyInterval: 0 }
      : { apiKey, region: config.region, clientConfig: { retryConfig: { retries: 0, connectRetries: 0, readRetries: 0 } } };
  const lancedb: LanceDbModule = await importOptional("@lancedb/lancedb", () => import("@lancedb/lancedb"), 'vectorStore (provider "lancedb")');
  return new LanceDbVectorStore(lancedb, { uri: config.uri, table: config.table, connectOptions }, context.logger);
}

function tableSchema(dimension: number): SchemaDescription {
  const text = (name: string): FieldDescription => ({ name, type: "utf8", nullable: false });
  return {
    metadata: new Map(),
    fields: [
      text(KEY),
      text("namespace"),
      text("id"),
      {
        name: "vector",
        nullable: false,
        type: { typeId: ARROW_FIXED_SIZE_LIST, listSize: dimension, children: [{ name: "item", type: "float32", nullable: true }] },
      },
      text("metadata"),
      { name: "filter_terms", nullable: false, type: { typeId: ARROW_LIST, children: [{ name: "item", type: "utf8", nullable: true }] } },
    ],
  };
}

function parseMetadata(row: Row): VectorMetadata {
  return JSON.parse(String(row.metadata)) as VectorMetadata;
}

// LanceDB Cloud: with the client's retries off, a retryable HTTP status or a failed connect or read
// surfaces as "Hit retry limit", a timeout as "Timeout error". Local and object storage: a commit
// that lost a race with a concurrent writer, and I/O that may succeed a moment later.
const TRANSIENT = new RegExp(
  [
    "Hit retry limit",
    "Timeout error",
    "timed out",
    "Retryable commit conflict",
    "Too many concurrent writ",
    "connection (?:reset|refused|closed|aborted)",
    "ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAGAIN",
    "Resource temporarily unavailable",
    "Too many open files",
  ].join("|"),
  "i",
);

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first line without the Rust source locations LanceDB appends. */
function conciseMessage(text: string): string {
  return text
    .split("\n")[0]!
    .replace(/,?\s*\/\S+\.rs:\d+:\d+/g, "")
    .trim();
}
