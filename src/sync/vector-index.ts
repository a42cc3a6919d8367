import { RecursiveChunker, type RecursiveChunkerOptions } from "../chunking/recursive-chunker.js";
import type { Chunker } from "../chunking/chunker.js";
import { probe, type ComponentHealth } from "../core/health.js";
import type { Logger } from "../core/logger.js";
import { redact } from "../core/redact.js";
import type { RetryPolicy } from "../core/retry.js";
import type { Database } from "../db/database.js";
import type { TransactionClient } from "../db/prisma.js";
import { checkEmbedderConfig, createEmbedder, defaultEmbedderConfig, type EmbedderConfig } from "../embedders/create-embedder.js";
import { ManagedEmbedder } from "../embedders/managed-embedder.js";
import type { DocumentSync, SyncMode } from "../repository/hooks.js";
import { checkVectorStoreConfig, createVectorStore, type VectorStoreConfig } from "../vector-stores/create-vector-store.js";
import { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { VectorStore } from "../vector-stores/vector-store.js";
import type { Embedder } from "../embedders/embedder.js";
import { EmbedderMismatchError } from "../errors.js";
import { fromPrismaError } from "../db/prisma-errors.js";
import { Deleter } from "./deleter.js";
import { EmbeddingCache, type EmbeddingCacheOptions } from "./embedding-cache.js";
import { chunkerRecord, embedderRecord, GenerationTable, storeConfigFor, storeRecord, storeTarget, type IndexGeneration, type IndexLayout, type StoreRecord } from "./index-generation.js";
import { LayoutGuard, type LayoutState } from "./layout-guard.js";
import { EmbeddingMigrations } from "./embedding-migration.js";
import { DocumentStateTable } from "./document-state.js";
import { Indexer, namespaceFor, type ContentLoader, type Namespacing, type SourceTexts } from "./indexer.js";
import { JobQueue } from "./job-queue.js";
import { Reconciler, type ReconcileOptions, type ReconcileReport } from "./reconcile.js";
import { Sweeper } from "./sweeper.js";
import { SharedRateLimit, unlimited, type RateLimitOptions } from "./shared-rate-limit.js";
import { SyncEngine } from "./sync-engine.js";
import { UsageLedger } from "./usage-ledger.js";
import { isTransient, SyncWorker, type JobRetryPolicy } from "./worker.js";

export interface SyncOptions {
  /**
   * How document creates and updates reach the index when a call does not say. Default
   * "enqueue": a job in the same transaction, run by `ds.sync.drain()` or a worker.
   * (Deletes run at once outside a transaction, and are enqueued inside one.)
   */
  onWrite?: SyncMode;
  /** One namespace for every vector (filtered by owner), or one per owner. Default "single". */
  namespacing?: Namespacing;
  /** Loads the text of documents stored without content. */
  contentLoader?: ContentLoader;
  /** How long a sync run may hold a document before another may take it over, in ms. Default 300,000. */
  leaseMs?: number;
  /** Embedding requests in flight at once. Default 4. */
  embedConcurrency?: number;
  /** Vector store requests in flight at once. Default 4. */
  storeConcurrency?: number;
  /** Retry policy for embedder and vector store calls. Default: 3 retries, 250 ms doubling, jittered, up to 8 s. */
  retry?: RetryPolicy;
  /** The cache of vectors by model and chunk text, kept in PostgreSQL. Default: at most 10,000 vectors. */
  embeddingCache?: EmbeddingCacheOptions;
  /** Retry policy for outbox jobs, above the per-call one. Default: 8 attempts, 1 s doubling, jittered, up to 5 min. */
  jobs?: JobRetryPolicy;
  /**
   * The embedding provider's rate limit for this model, enforced across every worker in every
   * process through the database; a 429's Retry-After pauses all of them. Default: none.
   */
  rateLimit?: RateLimitOptions;
}

/** What the index needs of the sources an instance was created with. */
export interface VectorIndexContext {
  readonly database: Database;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** Reads the text of source rows' mirrors when they are indexed. */
  readonly sourceTexts?: SourceTexts;
}

export interface VectorIndexOptions {
  embedder?: EmbedderConfig;
  vectorStore?: VectorStoreConfig;
  chunker?: RecursiveChunkerOptions | Chunker;
  sync?: SyncOptions;
}

/** The embedder, vector store and the machinery that keeps the store in step with PostgreSQL. */
export interface VectorIndex {
  readonly engine: SyncEngine;
  readonly namespacing: Namespacing;
  readonly embedder: ManagedEmbedder;
  readonly store: ManagedVectorStore;
  readonly documentSync: DocumentSync;
  readonly queue: JobQueue;
  readonly worker: SyncWorker;
  /** Changing the embedding model: plan, migrate, status, abort. */
  readonly embeddings: EmbeddingMigrations;
  /**
   * Runs a query against the live generation's embedder and store; once more against the new
   * one when it found nothing because a cut-over committed while it ran.
   */
  withLiveVectors<T extends { readonly length: number }>(query: (vectors: { embedder: ManagedEmbedder; store: ManagedVectorStore }) => Promise<T>): Promise<T>;
  /** Throws EmbedderMismatchError or IndexLayoutMismatchError when this process may not sync or search the recorded index. */
  checkLayout(): Promise<void>;
  /** The recorded generation and this process's layout, with the mismatch if any (for health and status). */
  layout(): Promise<LayoutState>;
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
  health(): Promise<{ vectorStore: ComponentHealth; embedder: ComponentHealth; index: ComponentHealth }>;
  close(): Promise<void>;
}

/** Checks every provider's configuration (keys included) without loading an SDK or opening anything. */
export function checkVectorIndexOptions(options: VectorIndexOptions, env: NodeJS.ProcessEnv): void {
  checkEmbedderConfig(options.embedder, env);
  checkVectorStoreConfig(options.vectorStore, env);
}

export async function openVectorIndex(
  options: VectorIndexOptions,
  context: VectorIndexContext,
): Promise<VectorIndex> {
  const { database, logger } = context;
  const sync = options.sync ?? {};
  const retry = sync.retry ?? {};
  const leaseMs = sync.leaseMs ?? 300_000;
  const generations = new GenerationTable(database.prisma);
  // Options left unset follow the recorded index rather than the defaults.
  const recorded = await generations.live().catch((error: unknown) => {
    throw fromPrismaError(error, { entity: "IndexGeneration" });
  });
  const namespacing = sync.namespacing ?? recorded?.namespacing ?? "single";
  const embedderConfig: EmbedderConfig = options.embedder ?? (recorded?.embedderConfig as EmbedderConfig | null) ?? defaultEmbedderConfig(context.env);
  // The rate limit is the provider's, per model: every worker on this database shares one bucket.
  const manage = (inner: Embedder) =>
    new ManagedEmbedder(inner, {
      retry,
      limiter: sync.rateLimit ? new SharedRateLimit(database.prisma, database.schema, inner.id, sync.rateLimit) : unlimited,
      concurrency: sync.embedConcurrency ?? 4,
      logger,
    });
  let configured = manage(await createEmbedder(embedderConfig, context));
  const storeConfig = options.vectorStore ?? (recorded?.storeConfig as VectorStoreConfig | null) ?? undefined;
  const firstStore = await createVectorStore(storeConfig, context);
  const chunkerOptions = options.chunker ?? recorded?.chunkerConfig ?? undefined;
  const chunker = isChunker(chunkerOptions) ? chunkerOptions : new RecursiveChunker(chunkerOptions);
  const layout: IndexLayout = {
    embedder: configured.id,
    embedderConfig: embedderRecord(embedderConfig),
    dimension: configured.dimension,
    namespacing,
    chunker: chunker.id,
    chunkerConfig: isChunker(chunkerOptions) ? null : chunkerRecord(chunkerOptions),
    store: storeTarget(firstStore.name, storeRecordOf(storeConfig, firstStore.name), context.env),
    storeConfig: storeRecordOf(storeConfig, firstStore.name),
  };
  const guard = new LayoutGuard(generations, layout, await generations.bind(layout), await generations.building());
  const table = new DocumentStateTable(database.prisma, database.schema);
  const queue = new JobQueue(database.prisma, database.schema);
  const usage = new UsageLedger(database.prisma, database.schema);
  const cache = new EmbeddingCache(database.prisma, database.schema, sync.embeddingCache?.maxEntries ?? 10_000, logger);

  /** The embedder that answers for `generation`: this process's own, or the recorded one rebuilt (during a model change). */
  const embedderFor = async (generation: IndexGeneration): Promise<ManagedEmbedder> => {
    if (generation.embedder === configured.id) return configured;
    const rebuilt = await rebuildEmbedder(generation, context);
    return rebuilt ? manage(rebuilt) : configured;
  };
  /**
   * The pipeline of the live generation this process opens with. Where this process is configured
   * for another place of the same provider (another Pinecone index or prefix, another table: the
   * other side of a model change), the recorded place is opened with this process's key and host,
   * as a cut-over's follower opens it, and never created; the guard then says whether this
   * process may use it. Not the configured place: another index may not even have the recorded
   * dimension. Only when the recorded place cannot be opened, the configured one is.
   */
  const openLive = async (live: IndexGeneration, embedder: ManagedEmbedder): Promise<Pipeline> => {
    const sameProvider = storeConfig !== undefined && "provider" in storeConfig && live.storeConfig?.provider === storeConfig.provider;
    if (live.store === layout.store || !sameProvider) return pipelineFor(live, firstStore, embedder);
    const { createIfMissing: _create, ...recorded } = storeConfigFor(live.storeConfig, storeConfig) as VectorStoreConfig & { createIfMissing?: unknown };
    const store = await createVectorStore(recorded as VectorStoreConfig, context);
    try {
      const opened = await pipelineFor(live, store, embedder);
      await firstStore.close?.();
      return opened;
    } catch (error) {
      await store.close?.();
      logger.warn("could not open the recorded vector store; opening the configured one", { recorded: live.store, configured: layout.store, error });
      return pipelineFor(live, firstStore, embedder);
    }
  };
  /** The sync pipeline of one generation: its embedder and store, and the parts that use them. */
  const pipelineFor = async (generation: IndexGeneration, store: VectorStore, embedder: ManagedEmbedder): Promise<Pipeline> => {
    // The store is opened for the recorded vectors, even when this process cannot use them: it
    // must not create tables, or refuse to open, for a dimension the index does not hold.
    const managed = new ManagedVectorStore(store, generation.dimension, { retry, concurrency: sync.storeConcurrency ?? 4, logger });
    await managed.ready();
    const indexer = new Indexer({ table, queue, usage, embedder, cache, store: managed, chunker, namespacing, contentLoader: sync.contentLoader, sourceTexts: context.sourceTexts, leaseMs, logger });
    const deleter = new Deleter({ table, queue, store: managed, embedder: generation.embedder, namespacing, leaseMs, logger });
    return {
      generation,
      embedder,
      store: managed,
      indexer,
      deleter,
      sweeper: new Sweeper({ prisma: database.prisma, table, store: managed, queue, leaseMs }),
      reconciler: new Reconciler({ prisma: database.prisma, schema: database.schema, store: managed, table, queue, leaseMs }),
    };
  };
  const live = (await guard.state()).generation;
  let pipeline = await openLive(live, await embedderFor(live));
  const closePipeline = async (old: Pipeline) => {
    await Promise.allSettled([old.store.close(), old.embedder === configured ? undefined : old.embedder.inner.close?.()]);
  };
  /** Pipelines replaced by a cut-over: runs that started before it may still be using them. Closed with the index. */
  const replaced: Pipeline[] = [];
  /** Follows a cut-over (made here or by another process): the new live generation's pipeline replaces the old. */
  const follow = async (generation: IndexGeneration, next?: Pipeline) => {
    if (generation.id === pipeline.generation.id) return;
    replaced.push(pipeline);
    if (next) {
      // The process that migrated the index goes on with the model it migrated to.
      configured = next.embedder;
      guard.adopt(generation);
    }
    pipeline = next ?? (await pipelineFor(generation, await createVectorStore(storeConfigFor(generation.storeConfig, storeConfig), context), await embedderFor(generation)));
  };
  /** Throws when this process may not use the index; switches to a generation made live since. */
  const ready = async (): Promise<Pipeline> => {
    const state = await guard.state();
    if (state.mismatch) throw state.mismatch;
    if (state.generation.id !== pipeline.generation.id) await follow(state.generation);
    // During a model change, a process configured with the new model answers from the live one, if it can embed for it.
    if (pipeline.embedder.id !== pipeline.generation.embedder) throw new EmbedderMismatchError(pipeline.generation.embedder, configured.id);
    return pipeline;
  };
  // One engine and one worker for the life of the index: they reach the current pipeline's parts
  // through these getters, so a run retried after a cut-over goes to the new generation.
  const engine = new SyncEngine({
    prisma: database.prisma,
    get indexer() {
      return pipeline.indexer;
    },
    get deleter() {
      return pipeline.deleter;
    },
    leaseMs,
    followCutOver: async () => {
      await guard.reread();
      await ready();
    },
  });
  const worker = new SyncWorker({
    queue,
    get indexer() {
      return pipeline.indexer;
    },
    get deleter() {
      return pipeline.deleter;
    },
    get sweeper() {
      return pipeline.sweeper;
    },
    logger,
    leaseMs,
    retry: sync.jobs ?? {},
    maintain: () => pipeline.store.maintain(),
    checkLayout: async () => {
      await ready();
    },
  });

  /** Purge jobs of users being deleted, between the delete's transaction and its commit. */
  const purges = new Map<string, string[]>();
  /** A direct index or delete that failed for a reason a retry could fix is handed to the outbox. */
  const handOver = async (kind: "INDEX" | "DELETE", documentIds: readonly string[], error: unknown) => {
    if (!isTransient(error)) return;
    await queue.enqueue(database.prisma, kind, documentIds).catch((enqueueError: unknown) =>
      logger.error("could not enqueue a retry", { documentIds, kind, error: enqueueError }),
    );
  };
  const documentSync: DocumentSync = {
    defaultMode: sync.onWrite ?? "enqueue",
    changed: async (tx, documents, mode) => {
      if (mode === "enqueue") await queue.enqueue(tx, "INDEX", documents.map((document) => document.id));
    },
    indexNow: async (documentIds) => {
      await ready();
      if (documentIds.length === 1) {
        await engine.indexDocument(documentIds[0]!).catch(async (error: unknown) => {
          await handOver("INDEX", documentIds, error);
          throw error;
        });
        return;
      }
      const result = await engine.indexDocuments(documentIds);
      const failed = result.outcomes.filter((outcome) => outcome.status === "failed");
      if (failed.length > 0) {
        await handOver("INDEX", failed.map((outcome) => outcome.documentId), failed[0]!.error);
        throw failed[0]!.error;
      }
    },
    deleteNow: async (documentId) => {
      await ready();
      await engine.deleteDocument(documentId).catch(async (error: unknown) => {
        await handOver("DELETE", [documentId], error);
        throw error;
      });
    },
    deleteEnqueued: async (tx: TransactionClient, document) => {
      await tx.document.update({ where: { id: document.id }, data: { indexStatus: "DELETING", indexed: false, indexStatusAt: new Date() } });
      await queue.enqueue(tx, "DELETE", [document.id]);
    },
    userDeleting: async (tx: TransactionClient, userId) => {
      purges.set(userId, await queue.enqueueUserPurge(tx, userId, (row) => row.vectorNamespace ?? namespaceFor(namespacing, userId)));
    },
    userDeleted: async (userId) => {
      const jobs = purges.get(userId) ?? [];
      purges.delete(userId);
      // One attempt now; whatever fails stays queued, with its retries, for the worker.
      if (jobs.length > 0) await worker.runOnce({ only: jobs, batchSize: jobs.length }).catch((error: unknown) => logger.warn("purge of a deleted user's vectors deferred", { userId, error }));
    },
  };
  const embeddings = new EmbeddingMigrations({
    prisma: database.prisma,
    schema: database.schema,
    generations,
    guard,
    queue,
    table,
    cache,
    chunker,
    namespacing,
    leaseMs,
    logger,
    live: () => pipeline,
    layout,
    storeConfig,
    env: context.env,
    buildEmbedder: async (config) => manage(await createEmbedder(config, context)),
    openPipeline: async (generation, embedder, config) => pipelineFor(generation, await createVectorStore(config ?? storeConfig, context), embedder),
    follow,
    close: closePipeline,
  });

  return {
    engine,
    namespacing,
    get embedder() {
      return pipeline.embedder;
    },
    get store() {
      return pipeline.store;
    },
    queue,
    worker,
    documentSync,
    embeddings,
    checkLayout: async () => {
      await ready();
    },
    layout: () => guard.state(),
    async withLiveVectors(query) {
      const used = await ready();
      const result = await query({ embedder: used.embedder, store: used.store });
      // A cut-over that committed while the query ran re-pointed the chunk rows its matches
      // would have been hydrated through: ask the new generation.
      if (result.length > 0 || (await generations.live())?.id === used.generation.id) return result;
      await guard.reread();
      const next = await ready();
      return query({ embedder: next.embedder, store: next.store });
    },
    async reconcile(reconcileOptions) {
      const live = await ready();
      const building = await generations.building();
      if (!building) return live.reconciler.run(reconcileOptions);
      // The new generation's store, opened for this check only (its embedder is not needed).
      const store = new ManagedVectorStore(await createVectorStore(storeConfigFor(building.storeConfig, storeConfig), context), building.dimension, {
        retry,
        concurrency: sync.storeConcurrency ?? 4,
        logger,
      });
      try {
        await store.ready();
        return await live.reconciler.run(reconcileOptions, { id: building.id, embedder: building.embedder, store });
      } finally {
        await store.close();
      }
    },
    async health() {
      const { embedder, store } = pipeline;
      const [vectorStore, embedderHealth, index] = await Promise.all([
        probe(store.name, () => store.describe(), redact),
        probe(embedder.id, () => (embedder.inner.ping ? embedder.inner.ping() : embedder.embedQuery("health check")), redact),
        probe(`generation ${pipeline.generation.id} (${pipeline.generation.embedder})`, () => ready(), redact),
      ]);
      return { vectorStore, embedder: embedderHealth, index };
    },
    async close() {
      await Promise.allSettled([...[pipeline, ...replaced].map(closePipeline), configured.inner.close?.()]);
    },
  };
}

/** One generation's embedder and store, and the sync parts that use them. */
export interface Pipeline {
  readonly generation: IndexGeneration;
  readonly embedder: ManagedEmbedder;
  readonly store: ManagedVectorStore;
  readonly indexer: Indexer;
  readonly deleter: Deleter;
  readonly sweeper: Sweeper;
  readonly reconciler: Reconciler;
}

/**
 * The embedder recorded for `generation`, built again from its keyless options (keys from this
 * process's environment), when that gives the very model recorded; otherwise undefined.
 */
async function rebuildEmbedder(generation: IndexGeneration, context: { env: NodeJS.ProcessEnv; logger: Logger }): Promise<Embedder | undefined> {
  if (!generation.embedderConfig) return undefined;
  const rebuilt = await createEmbedder(generation.embedderConfig as EmbedderConfig, context).catch(() => undefined);
  if (rebuilt?.id === generation.embedder) return rebuilt;
  await rebuilt?.close?.();
  return undefined;
}

/** The keyless record of the store in use: its options, or, when none were given, the default the store's name says was chosen. */
function storeRecordOf(config: VectorStoreConfig | undefined, name: string): StoreRecord | null {
  if (config !== undefined) return storeRecord(config);
  return name === "pinecone" || name === "pgvector" ? { provider: name } : null;
}

function isChunker(value: unknown): value is Chunker {
  return typeof value === "object" && value !== null && typeof (value as Chunker).chunk === "function";
}
