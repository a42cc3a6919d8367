import { z } from "zod";
import type { HealthReport } from "./core/health.js";
import { probe } from "./core/health.js";
import { showAs } from "./core/inspect.js";
import { redactingLogger, silentLogger, type Logger } from "./core/logger.js";
import { redact } from "./core/redact.js";
import { inSpan, loadTelemetry, metric } from "./core/telemetry.js";
import { openDatabase } from "./db/database.js";
import type { DatabaseDriverName, SharedDatabaseHolder } from "./db/driver.js";
import { migrate, type MigrateResult } from "./db/migrate.js";
import { readMigrationsDir, type MigrationSource } from "./db/migrations.js";
import type { DualstorePrismaClient } from "./db/dualstore-prisma-client.js";
// By its subpath, so the published declarations import it rather than include it.
import type { PrismaClient as DualstoreClient } from "dualstore/prisma";
import type { PrismaClient } from "./db/prisma.js";
import { fromPrismaError } from "./db/prisma-errors.js";
import { ClosedError, ConfigurationError, NotFoundError } from "./errors.js";
import { bundledMigrations } from "./generated/migrations.js";
import { dualstoreVersion, schemaCatalog } from "./generated/schema-catalog.js";
import { parseInput } from "./internal/validate.js";
import { checkOptions, type DualstoreOptions } from "./options.js";
import { visibleTo } from "./repository/documents.js";
import { id, idList } from "./repository/fields.js";
import type { DocumentSync } from "./repository/hooks.js";
import { createRepositories, inTransaction, standaloneContext, type Repositories } from "./repository/repositories.js";
import type { Scope } from "./repository/scope.js";
import { installExtras } from "./schema/extras.js";
import { checkSchema } from "./schema/schema-check.js";
import { searchSources, type SourceHitOf, type SourceSearchOptions } from "./sources/source-search.js";
import type { AnySource } from "./sources/source.js";
import { SourceRegistry, type SourceInstallOptions, type SourceInstallReport, type SourceStatus } from "./sources/sources.js";
import { ChunkQuery } from "./search/chunk-query.js";
import { evaluate, type EvaluateOptions, type EvaluationQuery, type EvaluationReport } from "./search/evaluate.js";
import { search, type DocumentResults, type SearchOptions, type SearchResults } from "./search/search.js";
import type { Embedder } from "./embedders/embedder.js";
import type { VectorStore } from "./vector-stores/vector-store.js";
import type { VectorStoreConfig } from "./vector-stores/create-vector-store.js";
import type { EmbeddingChange, EmbeddingMigrationResult, EmbeddingPlan, EmbeddingStatus, MigrateOptions } from "./sync/embedding-migration.js";
import type { IndexOutcome } from "./sync/indexer.js";
import { rowOnlySync } from "./sync/row-only-sync.js";
import { UsageLedger, type UsageQuery, type UsageRow } from "./sync/usage-ledger.js";
import type { SyncStats } from "./sync/job-queue.js";
import type { ReconcileOptions, ReconcileReport } from "./sync/reconcile.js";
import type { IndexDocumentsFilter, IndexDocumentsOptions, IndexDocumentsResult } from "./sync/sync-engine.js";
import type { DrainOptions, DrainResult, WorkerOptions } from "./sync/worker.js";
import { checkVectorIndexOptions, openVectorIndex, type VectorIndex } from "./sync/vector-index.js";
import { checkRerankerConfig, createReranker } from "./rerankers/create-reranker.js";
import { ManagedReranker } from "./rerankers/managed-reranker.js";
import type { SearchDeps } from "./search/search.js";

/** What the index half of dualstore offers, for one user or for the whole store. */
interface IndexOperations {
  /**
   * Indexes one document now: chunks it, embeds only chunks whose text changed, writes the
   * vectors and records them on the row. Waits for another run holding the document.
   */
  indexDocument(documentId: string, options?: { force?: boolean; signal?: AbortSignal }): Promise<IndexOutcome>;
  /** Deletes a document: its vectors first, then its row (see documents.delete). */
  deleteDocument(documentId: string, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Deletes many documents together: one statement hides and claims them, one vector-store
   * request per namespace deletes their vectors, one statement deletes the rows. Ids that do not
   * exist (or, through a scope, are not the user's own) come back as `missing`.
   */
  deleteDocuments(documentIds: readonly string[], options?: { signal?: AbortSignal }): Promise<{ deleted: string[]; missing: string[] }>;
}

/** The sync outbox: jobs written with document changes, and the workers that run them. */
export interface SyncQueue {
  /** Enqueues index (default) or delete jobs for documents. */
  enqueue(documentIds: readonly string[], kind?: "index" | "delete"): Promise<void>;
  /** Runs every due job now, in this process; see {@link DrainOptions}. */
  drain(options?: DrainOptions): Promise<DrainResult>;
  /**
   * Runs jobs until `options.signal` aborts. On PostgreSQL any number of workers, in any number
   * of processes, may run at once. An on-disk PGlite is one process's database: other processes
   * use it through the process that opened it first, while that process runs.
   */
  runWorker(options?: WorkerOptions): Promise<DrainResult>;
  /** Pending, running, retrying and dead jobs, the sync lag and the failure rate (ADR-002's monitoring figures). */
  stats(): Promise<SyncStats>;
  /** Puts dead jobs back in the queue (all, or those of some documents). */
  retryDead(documentIds?: readonly string[]): Promise<number>;
  /** Deletes finished jobs older than `olderThanMs` (default one day). */
  prune(olderThanMs?: number): Promise<number>;
}

/** Searching sources: the app's own tables made searchable (see `defineSource`). */
export interface SourceSearch {
  /**
   * Searches the rows of one or several sources the caller may see, each hit hydrated from the
   * app's own row (one SQL statement per source). Typed rows for sources passed as declared.
   */
  search<const S extends readonly (string | AnySource)[]>(query: string, options: SourceSearchOptions<S>): Promise<Array<SourceHitOf<S[number]>>>;
}

/** The sources an instance was created with (`createDualstore({ sources })`). */
export interface Sources extends SourceSearch {
  /**
   * Installs or updates each source's trigger (its table's writes, by anyone, enqueue index and
   * delete jobs in the writer's transaction), then backfills existing rows through the outbox.
   * Idempotent; run it at deploy time, after the app's migrations.
   */
  install(options?: SourceInstallOptions): Promise<SourceInstallReport[]>;
  /** Each source's trigger and the state of its mirrored rows. */
  status(): Promise<SourceStatus[]>;
  /** Drops a source's trigger and deletes what dualstore holds of its rows (the worker removes their vectors). */
  remove(name: string): Promise<{ name: string; retired: number }>;
}

/** `ds.embeddings`: changing the embedding model. */
export interface EmbeddingOperations {
  plan(change: EmbeddingChange): Promise<EmbeddingPlan>;
  migrate(options: MigrateOptions): Promise<EmbeddingMigrationResult>;
  status(): Promise<EmbeddingStatus>;
  abort(options?: { vectorStore?: VectorStoreConfig }): Promise<{ aborted: boolean; removed: number }>;
}

/** The repositories as one user sees them: another user's rows are invisible. */
export interface ScopedDualstore extends Repositories, IndexOperations {
  readonly userId: string;
  /** Runs `work` in one database transaction, with repositories scoped to this user. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Searches this user's documents and public ones. */
  search(query: string, options: Omit<SearchOptions, "userId"> & { group: "documents" }): Promise<DocumentResults>;
  search(query: string, options?: Omit<SearchOptions, "userId">): Promise<SearchResults>;
  /** Searches this user's rows of sources, and public ones. */
  readonly sources: {
    search<const S extends readonly (string | AnySource)[]>(query: string, options: Omit<SourceSearchOptions<S>, "userId">): Promise<Array<SourceHitOf<S[number]>>>;
  };
}

/**
 * The object `createDualstore()` returns: one typed data layer over PostgreSQL and a vector index.
 * `Client` is the type of `ds.prisma`: the app's own PrismaClient when it passed one.
 */
export interface Dualstore<Client extends DualstorePrismaClient = DualstoreClient> extends Repositories, IndexOperations {
  /**
   * The Prisma client dualstore works through, for queries the repositories do not cover: the
   * one passed as `database.prisma`, with its type, or dualstore's own.
   */
  readonly prisma: Client;
  /** Which driver the database was opened with, and where it lives (no secrets). */
  readonly database: {
    readonly driver: DatabaseDriverName;
    readonly location: string;
    readonly schema: string | undefined;
    /** Set when the database is an on-disk PGlite that another process holds and shares with this one. */
    readonly holder: SharedDatabaseHolder | undefined;
  };
  /** The vector store in use (undefined with `vectorStore: null`), for direct reads such as listing ids. */
  readonly vectorStore: VectorStore | undefined;
  /** The embedder in use (undefined with `vectorStore: null`). */
  readonly embedder: Embedder | undefined;
  /** The same repositories seen by one user: their rows (and public documents) only. */
  as(userId: string): ScopedDualstore;
  /** Runs `work` in one database transaction: every write in it commits together or not at all. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Indexes many documents (ids, or a filter) in batches whose cost follows chunks, not round trips. */
  indexDocuments(target: readonly string[] | IndexDocumentsFilter, options?: IndexDocumentsOptions): Promise<IndexDocumentsResult>;
  /**
   * Hybrid search (words and meaning; see `mode`) over the documents `options.userId` may see
   * (null: public documents only). `group: "documents"` returns documents with their best chunks.
   */
  search(query: string, options: SearchOptions & { group: "documents" }): Promise<DocumentResults>;
  search(query: string, options: SearchOptions): Promise<SearchResults>;
  /**
   * Measures search on your own data: runs each query in each mode (default all three) and
   * reports recall@1, recall@10, MRR@10 and nDCG@10 against the documents you expected.
   */
  evaluate(queries: readonly EvaluationQuery[], options: EvaluateOptions): Promise<EvaluationReport>;
  /** The sync outbox and its workers. */
  readonly sync: SyncQueue;
  /** The app tables made searchable, declared in `sources`: install, status, remove, search. */
  readonly sources: Sources;
  /**
   * Changing the embedding model without downtime (see README, "Changing the embedding model"):
   * `plan({ to })` counts documents, chunks, tokens and cost; `migrate({ to })` builds the new
   * generation beside the live one, cuts over in one transaction and deletes the old vectors
   * (resumable: call it again after a crash); `status()`; `abort()` deletes what was built.
   */
  readonly embeddings: EmbeddingOperations;
  /**
   * Compares every document's recorded vectors with what the store holds, page by page; reports
   * orphans, missing vectors and stuck documents, and with `fix` repairs them (see ReconcileReport).
   */
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
  /**
   * Applies pending migrations; see {@link MigrateResult}. Safe to call from several processes
   * at once: they take turns on Prisma Migrate's own advisory lock. Refused (ConfigurationError)
   * with `database.managedBy: "app"`, where the app's migrations own the tables.
   */
  migrate(options?: { lockTimeoutMs?: number }): Promise<MigrateResult>;
  /**
   * The usage ledger: tokens embedded, texts and embedding requests per owner, embedder and UTC
   * day, as the sync pipeline recorded them (for billing or capping tenants).
   */
  usage(query?: UsageQuery): Promise<UsageRow[]>;
  /** Probes every store and reports its status and latency. Never throws. */
  health(): Promise<HealthReport>;
  /** Releases every connection and handle dualstore opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the database (and, unless `migrate: false`, brings its schema up to date), then the
 * embedder and vector store, and returns the dualstore instance. Call `close()` when done.
 */
export async function createDualstore<Client extends DualstorePrismaClient = DualstoreClient>(
  options: DualstoreOptions<Client> = {},
): Promise<Dualstore<Client>> {
  checkOptions(options);
  await loadTelemetry();
  const env = options.env ?? process.env;
  const logger: Logger = redactingLogger(options.logger ?? silentLogger);
  const migrations: readonly MigrationSource[] = options.migrationsDir ? readMigrationsDir(options.migrationsDir) : bundledMigrations;
  const repositoryOptions = { transactions: options.transactions ?? {}, owners: options.owners ?? "users" };
  // A missing key or bad provider option fails now, not after the database was opened and migrated.
  if (options.vectorStore !== null) checkVectorIndexOptions({ ...options, vectorStore: options.vectorStore }, env);
  const rerankerConfig = options.search?.reranker;
  if (rerankerConfig !== undefined) checkRerankerConfig(rerankerConfig, env);

  const database = await openDatabase(options.database ?? {}, { env, logger, migrationNames: migrations.map((m) => m.name) });
  const { prisma } = database;
  const sources = new SourceRegistry(prisma, database.schema, options.sources ?? []);
  let index: VectorIndex | undefined;
  let rerank: SearchDeps["rerank"];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await index?.close();
    await database.close();
  };
  const appManaged = options.database?.managedBy === "app";
  const runMigrations = async (migrateOptions: { lockTimeoutMs?: number } = {}) => {
    if (appManaged) {
      throw new ConfigurationError('migrate(): with database.managedBy: "app" your own Prisma migrations create dualstore\'s tables');
    }
    // An unreachable server is a connection failure, said as one, not a failed migration.
    await database.verify();
    const result = await migrate(prisma, { ...migrateOptions, migrations, schema: database.schema, logger });
    if (result.applied.length > 0) logger.info("applied migrations", { applied: result.applied });
    return result;
  };
  try {
    if (appManaged) {
      await database.verify();
      const extras = await checkSchema(prisma, { schema: database.schema, catalog: schemaCatalog, version: dualstoreVersion }).catch((error: unknown) => {
        throw fromPrismaError(error, { entity: "schema check" });
      });
      await installExtras(prisma, { schema: database.schema, extras, logger });
    } else if (options.migrate ?? true) await runMigrations();
    if (options.vectorStore !== null) index = await openVectorIndex(
        { ...options, vectorStore: options.vectorStore },
        { database, env, logger, sourceTexts: (mirrors) => sources.texts(mirrors) },
      );
    if (rerankerConfig !== undefined) {
      const { reranker: _config, ...settings } = options.search!;
      // Searches retry as the embedder's query does: one policy, set in `sync.retry`.
      rerank = { reranker: new ManagedReranker(await createReranker(rerankerConfig, env), { retry: options.sync?.retry ?? {}, logger }), settings };
    }
  } catch (error) {
    await close();
    throw error;
  }

  const sync: DocumentSync = index?.documentSync ?? rowOnlySync(prisma);
  const usageLedger = new UsageLedger(prisma, database.schema);
  // Search spans start here, at the facade: the search module's own files stay free of them.
  const tracedSearch = (query: string, searchOptions: SearchOptions): Promise<SearchResults | DocumentResults> => {
    const started = performance.now();
    // search() checks the options; the span must neither fail on nor record what it has not checked yet.
    const options = (searchOptions ?? {}) as Partial<Record<keyof SearchOptions, unknown>>;
    const attributes = {
      "dualstore.user.id": typeof options.userId === "string" ? options.userId : "public",
      "dualstore.top_k": typeof options.topK === "number" ? options.topK : undefined,
    };
    return inSpan("dualstore.search", attributes, async (span) => {
      let outcome = "error";
      try {
        const hits = await runSearch(query, searchOptions);
        outcome = "ok";
        span.set({ "dualstore.hits": hits.length, "dualstore.document.ids": [...new Set(hits.map((hit) => hit.document.id))] });
        return hits;
      } finally {
        metric.duration("dualstore.search.duration", performance.now() - started, { outcome });
      }
    });
  };
  const ensureOpen = () => {
    if (closed) throw new ClosedError();
  };
  const requireIndex = (): VectorIndex => {
    ensureOpen();
    if (!index) throw new ConfigurationError("vectorStore: this instance was created with vectorStore: null; indexing and search need one");
    return index;
  };
  /** The sync engine, once this process's index layout is known to be the recorded one. */
  const requireSync = async () => {
    const vectorIndex = requireIndex();
    await vectorIndex.checkLayout();
    return vectorIndex.engine;
  };
  const chunkQuery = new ChunkQuery(prisma, database.schema);
  const runSearch = (query: string, searchOptions: SearchOptions) => {
    const vectorIndex = requireIndex();
    return vectorIndex.withLiveVectors(({ embedder, store }) =>
      search({ prisma, chunks: chunkQuery, vectors: { embedder, store, namespacing: vectorIndex.namespacing }, logger, rerank }, query, searchOptions),
    );
  };
  const repositoriesFor = (scope: Scope) => createRepositories(standaloneContext(prisma, scope, repositoryOptions), sync);
  const transactionFor = (scope: Scope) => <T>(work: (tx: Repositories) => Promise<T>) => {
    ensureOpen();
    return inTransaction(prisma, scope, sync, repositoryOptions, work);
  };
  const searchOfSources = <const S extends readonly (string | AnySource)[]>(query: string, searchOptions: SourceSearchOptions<S>) => {
    const vectorIndex = requireIndex();
    return searchSources(
      { prisma, embedder: vectorIndex.embedder, store: vectorIndex.store, namespacing: vectorIndex.namespacing, registry: sources },
      query,
      searchOptions,
    );
  };
  const indexOperations = (scope: Scope): IndexOperations => ({
    async indexDocument(documentId, indexOptions) {
      const engine = await requireSync();
      const key = parseInput(id, documentId, "document id");
      if (scope) await requireOwned(prisma, scope, key);
      return engine.indexDocument(key, indexOptions);
    },
    async deleteDocument(documentId, deleteOptions) {
      const engine = await requireSync();
      const key = parseInput(id, documentId, "document id");
      if (scope) await requireOwned(prisma, scope, key);
      return engine.deleteDocument(key, deleteOptions);
    },
    async deleteDocuments(documentIds, deleteOptions) {
      const engine = await requireSync();
      if (!scope) return engine.deleteDocuments(documentIds, deleteOptions);
      const ids = parseInput(idList, documentIds, "document ids");
      const owned = new Set(
        (await prisma.document.findMany({ where: { id: { in: ids }, userId: scope.userId }, select: { id: true } })).map((d) => d.id),
      );
      const result = await engine.deleteDocuments([...owned], deleteOptions);
      return { deleted: result.deleted, missing: [...result.missing, ...ids.filter((documentId) => !owned.has(documentId))] };
    },
  });

  // What util.inspect() shows of the instance and its scopes: where the data lives, never a client (they hold secrets).
  const summary = () => ({
    driver: database.driver,
    location: database.location,
    schema: database.schema,
    vectorStore: index ? index.store.inner.name : null,
    embedder: index ? index.embedder.inner.id : null,
  });
  const instance: Dualstore<Client> = {
    ...repositoriesFor(null),
    ...indexOperations(null),
    // The client passed in, or dualstore's own, which has every model the type requires.
    prisma: prisma as unknown as Client,
    database: { driver: database.driver, location: database.location, schema: database.schema, holder: database.holder },
    vectorStore: index?.store.inner,
    embedder: index?.embedder.inner,
    as(userId) {
      const key = parseInput(id, userId, "user id");
      const scope = { userId: key };
      return showAs(
        {
          ...repositoriesFor(scope),
          ...indexOperations(scope),
          userId: key,
          transaction: transactionFor(scope),
          search: ((query: string, searchOptions: Omit<SearchOptions, "userId"> = {}) => tracedSearch(query, { ...searchOptions, userId: key })) as ScopedDualstore["search"],
          sources: { search: (query, searchOptions) => searchOfSources(query, { ...searchOptions, userId: key }) },
        },
        "ScopedDualstore",
        () => ({ userId: key, ...summary() }),
      );
    },
    transaction: transactionFor(null),
    indexDocuments: async (target, indexOptions) => (await requireSync()).indexDocuments(target, indexOptions),
    search: ((query: string, searchOptions: SearchOptions) => tracedSearch(query, searchOptions)) as Dualstore["search"],
    // Evaluation never groups (its options leave `group` out): its searches return chunk hits.
    evaluate: (queries, evaluateOptions) => evaluate((query, options) => runSearch(query, options) as Promise<SearchResults>, queries, evaluateOptions),
    sync: {
      enqueue: async (documentIds, kind = "index") => {
        const ids = parseInput(idList, documentIds, "document ids");
        // Any other kind once became an index job: a delete request must never turn into an index.
        const jobKind = parseInput(enqueueKind, kind, "job kind") === "delete" ? "DELETE" : "INDEX";
        await asDatabaseError(requireIndex().queue.enqueue(prisma, jobKind, ids));
      },
      drain: async (drainOptions) => {
        await requireSync();
        return asDatabaseError(requireIndex().worker.drain(drainOptions));
      },
      runWorker: (workerOptions) => asDatabaseError(requireIndex().worker.run(workerOptions)),
      stats: () => asDatabaseError(requireIndex().queue.stats()),
      retryDead: async (documentIds) => {
        const ids = documentIds === undefined ? undefined : parseInput(idList, documentIds, "document ids");
        return asDatabaseError(requireIndex().queue.revive(ids));
      },
      prune: async (olderThanMs = 86_400_000) => asDatabaseError(requireIndex().queue.prune(parseInput(pruneAge, olderThanMs, "olderThanMs"))),
    },
    sources: {
      install: (installOptions) => {
        ensureOpen();
        return sources.install(installOptions);
      },
      status: () => {
        ensureOpen();
        return sources.status();
      },
      remove: (name) => {
        ensureOpen();
        return sources.remove(name);
      },
      search: searchOfSources,
    },
    embeddings: {
      plan: (change) => asDatabaseError(requireIndex().embeddings.plan(change)),
      migrate: async (migrateOptions) => {
        await requireSync();
        return asDatabaseError(requireIndex().embeddings.migrate(migrateOptions));
      },
      status: () => asDatabaseError(requireIndex().embeddings.status()),
      abort: (abortOptions) => asDatabaseError(requireIndex().embeddings.abort(abortOptions)),
    },
    reconcile: (reconcileOptions) => requireIndex().reconcile(reconcileOptions),
    usage(query) {
      ensureOpen();
      return asDatabaseError(usageLedger.read(query));
    },
    async migrate(migrateOptions) {
      ensureOpen();
      return runMigrations(parseInput(migrateCallOptions, migrateOptions, "migrate options"));
    },
    async health() {
      const db = await probe(database.location, () => prisma.$executeRawUnsafe("SELECT 1"), redact);
      const stores = index ? await index.health() : undefined;
      const degraded = stores && (stores.vectorStore.status === "down" || stores.embedder.status === "down" || stores.index.status === "down");
      return {
        status: db.status === "down" ? "down" : degraded ? "degraded" : "up",
        database: db,
        ...(stores ?? {}),
      };
    },
    close,
  };
  return showAs(instance, "Dualstore", summary);
}

const enqueueKind = z.enum(["index", "delete"]);
/** Finished jobs' age, in ms: 0 (all of them) up to 100 years. */
const pruneAge = z.number().int().min(0).max(100 * 365 * 86_400_000);
const migrateCallOptions = z.strictObject({ lockTimeoutMs: z.number().int().min(1).max(3_600_000).optional() }).default({});

/** Outbox calls surface database failures as DatabaseError (other DualstoreErrors pass through). */
function asDatabaseError<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw fromPrismaError(error, { entity: "SyncJob" });
  });
}

/** A scoped caller may index or delete only its own documents (public ones are read-only to it). */
async function requireOwned(prisma: PrismaClient, scope: NonNullable<Scope>, documentId: string): Promise<void> {
  const document = await prisma.document.findFirst({ where: { id: documentId, ...visibleTo(scope) }, select: { userId: true } });
  if (!document || document.userId !== scope.userId) throw new NotFoundError("Document", documentId);
}
