import { RecursiveChunker, type RecursiveChunkerOptions } from "../chunking/recursive-chunker.js";
import type { Chunker } from "../chunking/chunker.js";
import { probe, type ComponentHealth } from "../core/health.js";
import type { Logger } from "../core/logger.js";
import { redact } from "../core/redact.js";
import type { RetryPolicy } from "../core/retry.js";
import type { Database } from "../db/database.js";
import type { TransactionClient } from "../db/prisma.js";
import { checkEmbedderConfig, createEmbedder, type EmbedderConfig } from "../embedders/create-embedder.js";
import { ManagedEmbedder } from "../embedders/managed-embedder.js";
import type { DocumentSync, SyncMode } from "../repository/hooks.js";
import { checkVectorStoreConfig, createVectorStore, type VectorStoreConfig } from "../vector-stores/create-vector-store.js";
import { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import { Deleter } from "./deleter.js";
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
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
  health(): Promise<{ vectorStore: ComponentHealth; embedder: ComponentHealth }>;
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
  const namespacing = sync.namespacing ?? "single";
  const inner = await createEmbedder(options.embedder, context);
  // The limit is the provider's, per model: every worker on this database shares one bucket.
  const limiter = sync.rateLimit ? new SharedRateLimit(database.prisma, database.schema, inner.id, sync.rateLimit) : unlimited;
  const embedder = new ManagedEmbedder(inner, {
    retry,
    limiter,
    concurrency: sync.embedConcurrency ?? 4,
    logger,
  });
  const store = new ManagedVectorStore(await createVectorStore(options.vectorStore, context), embedder.dimension, {
    retry,
    concurrency: sync.storeConcurrency ?? 4,
    logger,
  });
  await store.ready();
  const chunker = isChunker(options.chunker) ? options.chunker : new RecursiveChunker(options.chunker);
  const table = new DocumentStateTable(database.prisma, database.schema);
  const queue = new JobQueue(database.prisma, database.schema);
  const usage = new UsageLedger(database.prisma, database.schema);
  const indexer = new Indexer({
    table,
    queue,
    usage,
    embedder,
    store,
    chunker,
    namespacing,
    contentLoader: sync.contentLoader,
    sourceTexts: context.sourceTexts,
    leaseMs,
    logger,
  });
  const deleter = new Deleter({ table, queue, store, namespacing, leaseMs, logger });
  const sweeper = new Sweeper({ prisma: database.prisma, table, store, queue, leaseMs });
  const engine = new SyncEngine({ prisma: database.prisma, indexer, deleter, leaseMs });
  const worker = new SyncWorker({ queue, indexer, deleter, sweeper, logger, leaseMs, retry: sync.jobs ?? {}, maintain: () => store.maintain() });
  const reconciler = new Reconciler({ prisma: database.prisma, schema: database.schema, store, table, queue, leaseMs });

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
    deleteNow: (documentId) =>
      engine.deleteDocument(documentId).catch(async (error: unknown) => {
        await handOver("DELETE", [documentId], error);
        throw error;
      }),
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

  return {
    engine,
    namespacing,
    queue,
    worker,
    embedder,
    store,
    documentSync,
    reconcile: (reconcileOptions) => reconciler.run(reconcileOptions),
    async health() {
      const [vectorStore, embedderHealth] = await Promise.all([
        probe(store.name, () => store.describe(), redact),
        probe(embedder.id, () => (embedder.inner.ping ? embedder.inner.ping() : embedder.embedQuery("health check")), redact),
      ]);
      return { vectorStore, embedder: embedderHealth };
    },
    async close() {
      await Promise.allSettled([store.close(), embedder.inner.close?.()]);
    },
  };
}

function isChunker(value: unknown): value is Chunker {
  return typeof value === "object" && value !== null && typeof (value as Chunker).chunk === "function";
}
