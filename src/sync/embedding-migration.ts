import type { Chunker } from "../chunking/chunker.js";
import type { Logger } from "../core/logger.js";
import { sleep, throwIfAborted } from "../core/retry.js";
import { qualifiedName } from "../db/driver.js";
import type { PrismaClient } from "../db/prisma.js";
import type { EmbedderConfig } from "../embedders/create-embedder.js";
import type { ManagedEmbedder } from "../embedders/managed-embedder.js";
import { ConfigurationError } from "../errors.js";
import type { VectorStoreConfig } from "../vector-stores/create-vector-store.js";
import type { VectorRecord } from "../vector-stores/vector-store.js";
import type { EmbeddingCache } from "./embedding-cache.js";
import { embedderRecord, storeConfigFor, storeRecord, storeTarget, type GenerationTable, type IndexGeneration, type IndexLayout, type StoreRecord } from "./index-generation.js";
import { asIndexed, namespaceFor, type Namespacing } from "./indexer.js";
import type { JobQueue } from "./job-queue.js";
import type { LayoutGuard } from "./layout-guard.js";
import type { DocumentStateTable } from "./document-state.js";
import type { Pipeline } from "./vector-index.js";
import { chunkKeys, epochVectorId } from "./vector-ids.js";
import { vectorMetadata } from "./vector-metadata.js";

/** A change of embedding model. */
export interface EmbeddingChange {
  /** The new embedder: `{ provider, model, dimension }` (keys come from the options or environment, as for `embedder`). */
  readonly to: EmbedderConfig;
  /**
   * Where the new generation's vectors go. Default: the current store. pgvector's and LanceDB's
   * default tables are named by dimension, so a new dimension gets a table of its own; a model of
   * the same dimension needs another `table`, and Pinecone another `index` (another dimension)
   * or `namespacePrefix` (the same one).
   */
  readonly vectorStore?: VectorStoreConfig;
  /** US dollars per million tokens, for the plan's cost. Default: known for OpenAI's models, 0 for the local embedder. */
  readonly pricePerMillionTokens?: number;
}

/** What a model change will do, before it starts. */
export interface EmbeddingPlan {
  readonly from: string;
  readonly to: string;
  /** Where the new generation's vectors go (`<dimension>` stands for the new dimension). */
  readonly store: string;
  readonly documents: number;
  readonly chunks: number;
  /** Chunks whose text the new model embedded before: served by the embedding cache, not sent. */
  readonly cachedChunks: number;
  /** Tokens of the chunks to send, as the chunker counted them. */
  readonly estimatedTokens: number;
  /** US dollars, when the price is known or given; null otherwise. */
  readonly estimatedCostUsd: number | null;
}

export interface EmbeddingMigrationProgress {
  /** Indexed documents, and those the new generation holds as they are now. */
  readonly documents: number;
  readonly built: number;
  /** Chunk texts sent to the new embedder so far (the cache served the rest). */
  readonly embedded: number;
  readonly elapsedMs: number;
}

export interface MigrateOptions extends EmbeddingChange {
  /** Documents built per batch. Default 32. */
  readonly batchSize?: number;
  readonly onProgress?: (progress: EmbeddingMigrationProgress) => void;
  /** Stops between batches; a later migrate() with the same `to` resumes. */
  readonly signal?: AbortSignal;
}

export interface EmbeddingMigrationResult extends EmbeddingMigrationProgress {
  readonly from: string;
  readonly to: string;
  /** Vectors of the old generation deleted after the cut-over. */
  readonly removed: number;
}

export interface EmbeddingStatus {
  /** `idle`: one live generation; `building`: a model change is under way; `retiring`: cut over, the old vectors are being deleted. */
  readonly state: "idle" | "building" | "retiring";
  readonly live: string;
  readonly building: string | null;
  readonly documents: number;
  readonly built: number;
}

export interface EmbeddingMigrationDeps {
  readonly prisma: PrismaClient;
  readonly schema: string | undefined;
  readonly generations: GenerationTable;
  readonly guard: LayoutGuard;
  readonly queue: JobQueue;
  readonly table: DocumentStateTable;
  readonly cache: EmbeddingCache;
  readonly chunker: Chunker;
  readonly namespacing: Namespacing;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** This process's layout and store options (the new generation keeps everything but the embedder and, perhaps, the store's place). */
  readonly layout: IndexLayout;
  readonly storeConfig: VectorStoreConfig | undefined;
  readonly env: NodeJS.ProcessEnv;
  live(): Pipeline;
  buildEmbedder(config: EmbedderConfig): Promise<ManagedEmbedder>;
  openPipeline(generation: IndexGeneration, embedder: ManagedEmbedder, storeConfig: VectorStoreConfig | undefined): Promise<Pipeline>;
  follow(generation: IndexGeneration, next?: Pipeline): Promise<void>;
  close(pipeline: Pipeline): Promise<void>;
}

/** US dollars per million tokens of models whose price is public and stable. */
const PRICES: Record<string, number> = {
  "openai:text-embedding-3-small": 0.02,
  "openai:text-embedding-3-large": 0.13,
  "openai:text-embedding-ada-002": 0.1,
  "local:hashing-v1": 0,
};

/** How long a cut-over waits for sync runs in flight before it tries again, in ms. */
const CUT_OVER_RETRY_MS = 25;

/**
 * Changes the embedding model without downtime. The new generation is built beside the live
 * one, from the live chunk rows (the chunker does not change, so no document is read or cut
 * again): each chunk embedded by the new model (through the embedding cache) and written under a
 * new id, `<documentId>#<epoch>.<key>` with a key derived from the new embedder, into the new
 * generation's place; a GenerationDocument row records which live vectors each replaces.
 * Meanwhile search answers from the live generation, and writes keep going to it: a document
 * re-indexed since its build is built again. When every indexed document's build is current,
 * one transaction, holding writes to Document for its duration, re-points the chunk and
 * document rows at the new vectors and makes the new generation live; then the old vectors are
 * deleted. Progress is in the database: a migrate() stopped or killed at any point resumes
 * where it stopped, and abort() deletes what was built and leaves the live generation as it was.
 */
export class EmbeddingMigrations {
  private readonly documentTable: string;
  private readonly chunkTable: string;
  private readonly buildTable: string;

  constructor(private readonly deps: EmbeddingMigrationDeps) {
    this.documentTable = qualifiedName(deps.schema, "Document");
    this.chunkTable = qualifiedName(deps.schema, "DocumentChunk");
    this.buildTable = qualifiedName(deps.schema, "GenerationDocument");
  }

  /** Counts what a change to `to` would embed, and what it would cost. Writes nothing. */
  async plan(change: EmbeddingChange): Promise<EmbeddingPlan> {
    const embedder = await this.deps.buildEmbedder(change.to);
    try {
      const target = this.target(change, embedder);
      const [totals] = await this.deps.prisma.$queryRawUnsafe<Array<{ documents: number; chunks: number; tokens: number; cached: number }>>(
        `SELECT count(DISTINCT d.id)::int AS documents, count(c."vectorId")::int AS chunks, COALESCE(sum(c."tokenCount"), 0)::int AS tokens,
                count(e."textHash")::int AS cached
           FROM ${this.documentTable} d JOIN ${this.chunkTable} c ON c."vectorId" = ANY(d."vectorIds")
           LEFT JOIN ${qualifiedName(this.deps.schema, "EmbeddingCacheEntry")} e ON e.embedder = $1 AND e."textHash" = c.hash
          WHERE d."indexStatus" = 'INDEXED'`,
        embedder.id,
      );
      const price = change.pricePerMillionTokens ?? PRICES[embedder.id.split(":").slice(0, 2).join(":")];
      const live = this.deps.live().generation;
      const cachedTokens = totals!.chunks === 0 ? 0 : Math.round((totals!.tokens * totals!.cached) / totals!.chunks);
      return {
        from: live.embedder,
        to: embedder.id,
        store: target.store,
        documents: totals!.documents,
        chunks: totals!.chunks,
        cachedChunks: totals!.cached,
        estimatedTokens: totals!.tokens - cachedTokens,
        estimatedCostUsd: price === undefined ? null : Math.round(((totals!.tokens - cachedTokens) / 1_000_000) * price * 10_000) / 10_000,
      };
    } finally {
      await embedder.inner.close?.();
    }
  }

  async status(): Promise<EmbeddingStatus> {
    const [live, building, retiring] = await Promise.all([
      this.deps.generations.live(),
      this.deps.generations.building(),
      this.deps.prisma.indexGeneration.findFirst({ where: { state: "RETIRING" }, select: { id: true } }),
    ]);
    const { documents, built } = building ? await this.progress(building.id) : { documents: await this.indexedCount(), built: 0 };
    return {
      state: building ? "building" : retiring ? "retiring" : "idle",
      live: live?.embedder ?? this.deps.layout.embedder,
      building: building?.embedder ?? null,
      documents,
      built,
    };
  }

  /**
   * Builds the new generation (or resumes building it), cuts over when it is complete, and
   * deletes the old vectors. Search keeps answering from the old generation until the cut-over.
   */
  async migrate(options: MigrateOptions): Promise<EmbeddingMigrationResult> {
    const started = performance.now();
    await this.finishRetiring();
    const embedder = await this.deps.buildEmbedder(options.to);
    const from = this.deps.live().generation.embedder;
    let next: Pipeline | undefined;
    let cutOver = false;
    try {
      const generation = await this.begin(options, embedder);
      next = await this.deps.openPipeline(generation, embedder, options.vectorStore);
      const batchSize = options.batchSize ?? 32;
      let embedded = 0;
      const report = async () => {
        const { documents, built } = await this.progress(generation.id);
        const progress = { documents, built, embedded, elapsedMs: Math.round(performance.now() - started) };
        options.onProgress?.(progress);
        return progress;
      };
      for (;;) {
        throwIfAborted(options.signal);
        const stale = await this.staleDocuments(generation.id, batchSize);
        if (stale.length > 0) {
          embedded += await this.build(next, stale, options.signal);
          await report();
          continue;
        }
        this.deps.guard.expect(generation);
        const outcome = await this.cutOver(generation);
        if (outcome === "done") break;
        // Sync runs hold documents, or wrote since the last look: build what changed, then try again.
        await sleep(CUT_OVER_RETRY_MS, options.signal);
      }
      cutOver = true;
      await this.deps.follow(generation, next);
      // (A search here may have followed the cut-over first, with a pipeline of its own.)
      if (this.deps.live() !== next) await this.deps.close(next);
      const removed = await this.finishRetiring();
      // Every indexed document was built: the cut-over checked it.
      const documents = await this.indexedCount();
      const progress = { documents, built: documents, embedded, elapsedMs: Math.round(performance.now() - started) };
      options.onProgress?.(progress);
      return { ...progress, from, to: embedder.id, removed };
    } finally {
      if (!cutOver) {
        this.deps.guard.expect(undefined);
        if (next) await this.deps.close(next);
        else await embedder.inner.close?.();
      }
      await this.deps.guard.reread();
    }
  }

  /** Stops a model change: deletes every vector built for it and its records; the live generation is left as it was. */
  async abort(options: { vectorStore?: VectorStoreConfig } = {}): Promise<{ aborted: boolean; removed: number }> {
    const building = await this.deps.generations.building();
    if (!building) return { aborted: false, removed: 0 };
    const live = this.deps.live();
    const pipeline = await this.deps.openPipeline(building, live.embedder, options.vectorStore ?? storeConfigFor(building.storeConfig, this.deps.storeConfig));
    try {
      const removed = await this.deleteBuilt(building.id, pipeline, "vectorIds");
      await this.deps.prisma.$transaction([
        this.deps.prisma.generationDocument.deleteMany({ where: { generationId: building.id } }),
        this.deps.prisma.indexGeneration.delete({ where: { id: building.id } }),
      ]);
      return { aborted: true, removed };
    } finally {
      // Not close(): the pipeline shares the live embedder.
      await pipeline.store.close();
      await this.deps.guard.reread();
    }
  }

  /** The new generation's layout: this process's, with the new embedder and the store's new place. */
  private target(change: EmbeddingChange, embedder: ManagedEmbedder): IndexLayout {
    const live = this.deps.live();
    if (embedder.id === live.generation.embedder) throw new ConfigurationError(`to: the index is already built by ${embedder.id}`);
    const config = change.vectorStore;
    const record = config === undefined ? live.generation.storeConfig : storeRecord(config);
    const store = config === undefined ? live.generation.store : storeTarget("provider" in config ? config.provider : config.name, record, this.deps.env);
    const samePlace = store.replace("<dimension>", String(embedder.dimension)) === live.generation.store.replace("<dimension>", String(live.generation.dimension));
    const sameObject = config !== undefined && !("provider" in config) && config === live.store.inner;
    if ((samePlace && !(config !== undefined && !("provider" in config))) || sameObject) {
      throw new ConfigurationError(
        `vectorStore: the new generation needs a place of its own beside ${live.generation.store}: pass vectorStore with another table (pgvector, LanceDB), ` +
          "or another index or namespacePrefix (Pinecone)",
      );
    }
    return { ...this.deps.layout, embedder: embedder.id, embedderConfig: embedderRecord(change.to), dimension: embedder.dimension, store, storeConfig: record };
  }

  /** The BUILDING generation for `to`: the one under way (resumed), or a new one. */
  private async begin(change: EmbeddingChange, embedder: ManagedEmbedder): Promise<IndexGeneration> {
    const building = await this.deps.generations.building();
    if (building) {
      if (building.embedder !== embedder.id) {
        throw new ConfigurationError(`to: a change to ${building.embedder} is under way; finish it (migrate with that model) or abort it first`);
      }
      return building;
    }
    const layout = this.target(change, embedder);
    return this.deps.generations.create(layout, "BUILDING");
  }

  /** Indexed documents whose build is missing or no longer matches their live vectors. */
  private async staleDocuments(generationId: number, limit: number): Promise<string[]> {
    const rows = await this.deps.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT d.id FROM ${this.documentTable} d ${STALE_JOIN(this.buildTable)} WHERE ${STALE} ORDER BY d.id LIMIT $2`,
      generationId,
      limit,
    );
    return rows.map((row) => row.id);
  }

  private async progress(generationId: number): Promise<{ documents: number; built: number }> {
    const [row] = await this.deps.prisma.$queryRawUnsafe<Array<{ documents: number; stale: number }>>(
      `SELECT count(*)::int AS documents, count(*) FILTER (WHERE ${STALE})::int AS stale
         FROM ${this.documentTable} d ${STALE_JOIN(this.buildTable)} WHERE d."indexStatus" = 'INDEXED' AND cardinality(d."vectorIds") > 0`,
      generationId,
    );
    return { documents: row!.documents, built: row!.documents - row!.stale };
  }

  private async indexedCount(): Promise<number> {
    return this.deps.prisma.document.count({ where: { indexStatus: "INDEXED", chunkCount: { gt: 0 } } });
  }

  /** Builds these documents in the new generation: their live chunks embedded by the new model. Returns the texts sent to the provider. */
  private async build(next: Pipeline, ids: string[], signal: AbortSignal | undefined): Promise<number> {
    const { prisma, table, cache, namespacing } = this.deps;
    const candidates = new Map((await table.candidates(ids)).map((row) => [row.id, row]));
    const documents = await prisma.document.findMany({
      where: { id: { in: ids }, indexStatus: "INDEXED" },
      select: { id: true, vectorIds: true, syncEpoch: true, chunks: { select: { vectorId: true, text: true, hash: true, index: true } } },
    });
    const builds: Array<{ documentId: string; sourceHash: string; indexedHash: string; namespace: string; liveIds: string[]; records: VectorRecord[] }> = [];
    const texts: Array<{ text: string; hash: string; id: string; metadata: VectorRecord["metadata"]; build: { records: VectorRecord[] } }> = [];
    for (const document of documents) {
      const row = candidates.get(document.id);
      const byId = new Map(document.chunks.map((chunk) => [chunk.vectorId, chunk]));
      const chunks = document.vectorIds.map((vectorId) => byId.get(vectorId));
      if (!row || row.indexedHash === null || chunks.some((chunk) => chunk === undefined)) continue;
      const keys = chunkKeys(next.embedder.id, chunks.map((chunk) => chunk!.text));
      const build = {
        documentId: document.id,
        sourceHash: row.indexedHash,
        indexedHash: next.indexer.fingerprint(row),
        namespace: row.vectorNamespace ?? namespaceFor(namespacing, row.userId),
        liveIds: document.vectorIds,
        records: [] as VectorRecord[],
      };
      chunks.forEach((chunk, i) => {
        const { metadata } = vectorMetadata(asIndexed(row), chunk!, next.store.limits.maxMetadataBytes);
        texts.push({ text: chunk!.text, hash: chunk!.hash, id: epochVectorId(document.id, document.syncEpoch, keys[i]!), metadata, build });
      });
      builds.push(build);
    }
    const { vectors, cached } = await cache.embed(next.embedder.id, texts, (missing) => next.embedder.embedDocuments(missing.map((item) => item.text), { signal }));
    texts.forEach((item, i) => item.build.records.push({ id: item.id, values: vectors[i]!, metadata: item.metadata }));
    const byNamespace = new Map<string, VectorRecord[]>();
    for (const build of builds) byNamespace.set(build.namespace, [...(byNamespace.get(build.namespace) ?? []), ...build.records]);
    for (const [namespace, group] of byNamespace) await next.store.upsert(group, namespace, { signal });

    const previous = await prisma.generationDocument.findMany({
      where: { generationId: next.generation.id, documentId: { in: builds.map((build) => build.documentId) } },
      select: { documentId: true, namespace: true, vectorIds: true },
    });
    await prisma.$transaction(
      builds.map((build) => {
        const data = {
          sourceHash: build.sourceHash,
          indexedHash: build.indexedHash,
          namespace: build.namespace,
          liveIds: build.liveIds,
          vectorIds: build.records.map((record) => record.id),
        };
        return prisma.generationDocument.upsert({
          where: { generationId_documentId: { generationId: next.generation.id, documentId: build.documentId } },
          create: { generationId: next.generation.id, documentId: build.documentId, ...data },
          update: data,
        });
      }),
    );
    // A document built before, and changed since: its earlier build's vectors are now listed by nothing.
    const kept = new Set(builds.flatMap((build) => build.records.map((record) => record.id)));
    for (const earlier of previous) {
      const gone = earlier.vectorIds.filter((id) => !kept.has(id));
      if (gone.length > 0) await next.store.delete(gone, earlier.namespace, { signal });
    }
    return texts.length - cached.size;
  }

  /**
   * Makes the new generation live in one transaction, if every indexed document's build is
   * current and no sync run holds a document; "retry" otherwise. Writes to Document wait for it.
   */
  private async cutOver(generation: IndexGeneration): Promise<"done" | "retry"> {
    const { prisma, queue, namespacing } = this.deps;
    const D = this.documentTable;
    const G = this.buildTable;
    return prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe(`LOCK TABLE ${D} IN SHARE ROW EXCLUSIVE MODE`);
        const [check] = await tx.$queryRawUnsafe<Array<{ leased: number; stale: number }>>(
          `SELECT (SELECT count(*)::int FROM ${D} WHERE "syncLeaseUntil" > now()) AS leased,
                  (SELECT count(*)::int FROM ${D} d ${STALE_JOIN(G)} WHERE ${STALE}) AS stale`,
          generation.id,
        );
        if (check!.leased > 0 || check!.stale > 0) return "retry" as const;
        // Documents listing vectors that were not built (not INDEXED: failed, being deleted):
        // their old vectors go with the old generation, and they are indexed again in the new one.
        const unbuilt = await tx.$queryRawUnsafe<Array<{ id: string; status: string }>>(
          `INSERT INTO ${G} ("generationId", "documentId", "sourceHash", "indexedHash", namespace, "liveIds", "vectorIds", "updatedAt")
           SELECT $1, d.id, '', '', COALESCE(d."vectorNamespace", CASE WHEN $2 = 'single' THEN '' ELSE COALESCE(d."userId", $3) END), d."vectorIds", '{}', now()
             FROM ${D} d ${STALE_JOIN(G)}
            WHERE cardinality(d."vectorIds") > 0 AND (d."indexStatus" <> 'INDEXED' OR ${STALE})
           ON CONFLICT ("generationId", "documentId") DO UPDATE SET "liveIds" = EXCLUDED."liveIds", "vectorIds" = '{}', "sourceHash" = ''
           RETURNING "documentId" AS id, (SELECT "indexStatus"::text FROM ${D} WHERE id = "documentId") AS status`,
          generation.id,
          namespacing,
          PUBLIC_NAMESPACE_VALUE,
        );
        if (unbuilt.length > 0) {
          const ids = unbuilt.map((row) => row.id);
          await tx.documentChunk.deleteMany({ where: { documentId: { in: ids } } });
          await tx.document.updateMany({ where: { id: { in: ids } }, data: { vectorIds: [], chunkCount: 0, indexed: false, indexedHash: null } });
          const reindex = unbuilt.filter((row) => row.status !== "DELETING").map((row) => row.id);
          await tx.document.updateMany({ where: { id: { in: reindex } }, data: { indexStatus: "PENDING" } });
          await queue.enqueue(tx, "INDEX", reindex);
        }
        const built = `SELECT g.* FROM ${G} g JOIN ${D} d ON d.id = g."documentId"
                        WHERE g."generationId" = $1 AND cardinality(g."vectorIds") > 0 AND g."sourceHash" = d."indexedHash" AND g."liveIds" = d."vectorIds"`;
        await tx.$executeRawUnsafe(
          `UPDATE ${this.chunkTable} c SET "vectorId" = m.new, embedder = $2
             FROM (SELECT unnest(b."liveIds") AS old, unnest(b."vectorIds") AS new FROM (${built}) b) m WHERE c."vectorId" = m.old`,
          generation.id,
          generation.embedder,
        );
        await tx.$executeRawUnsafe(
          `UPDATE ${D} d SET "vectorIds" = b."vectorIds", embedder = $2, "indexedHash" = b."indexedHash" FROM (${built}) b WHERE d.id = b."documentId"`,
          generation.id,
          generation.embedder,
        );
        await tx.indexGeneration.updateMany({ where: { state: "LIVE" }, data: { state: "RETIRING" } });
        await tx.indexGeneration.update({ where: { id: generation.id }, data: { state: "LIVE" } });
        return "done" as const;
      },
      { timeout: 120_000, maxWait: 30_000 },
    );
  }

  /**
   * Deletes the vectors of a generation replaced at a cut-over (those the builds replaced, and
   * those of documents that were not built), then its records. Run after every cut-over, and
   * again by the next migrate() when a crash interrupted it. Returns the vectors deleted.
   */
  private async finishRetiring(): Promise<number> {
    const { prisma, generations } = this.deps;
    const retiring = await prisma.indexGeneration.findFirst({ where: { state: "RETIRING" } });
    const live = await generations.live();
    if (!retiring || !live) return 0;
    const pipeline = this.deps.live();
    const old = await this.deps.openPipeline(
      { ...pipeline.generation, id: retiring.id, dimension: retiring.dimension, store: retiring.store },
      pipeline.embedder,
      storeConfigFor(retiring.storeConfig as StoreRecord | null, this.deps.storeConfig),
    );
    try {
      let removed = await this.deleteBuilt(live.id, old, "liveIds");
      // A table of its own (pgvector, LanceDB) holds nothing but the old generation: what a run
      // fenced out at the cut-over wrote there goes too. (A Pinecone index may hold other
      // prefixes' namespaces: only the recorded ids are deleted there.)
      if (TABLE_STORES.has(old.store.name)) {
        for (const namespace of await old.store.listNamespaces()) {
          for await (const page of old.store.allIds("", namespace)) {
            await old.store.delete(page, namespace);
            removed += page.length;
          }
        }
      }
      await prisma.$transaction([prisma.generationDocument.deleteMany({ where: { generationId: live.id } }), prisma.indexGeneration.delete({ where: { id: retiring.id } })]);
      return removed;
    } finally {
      // Not close(): the pipeline shares the live embedder.
      await old.store.close();
    }
  }

  /** Deletes, from `pipeline`'s store, the `column` ids of every build of `generationId`, a namespace at a time. */
  private async deleteBuilt(generationId: number, pipeline: Pipeline, column: "liveIds" | "vectorIds"): Promise<number> {
    const rows = await this.deps.prisma.generationDocument.findMany({ where: { generationId }, select: { namespace: true, liveIds: true, vectorIds: true } });
    const byNamespace = new Map<string, string[]>();
    for (const row of rows) byNamespace.set(row.namespace, [...(byNamespace.get(row.namespace) ?? []), ...row[column]]);
    let removed = 0;
    for (const [namespace, ids] of byNamespace) {
      await pipeline.store.delete(ids, namespace);
      removed += ids.length;
    }
    return removed;
  }
}

const PUBLIC_NAMESPACE_VALUE = "__public__";
/** Stores whose default place is a table named by dimension. */
const TABLE_STORES = new Set(["pgvector", "lancedb"]);

/** Joins each document to its build in generation $1. */
const STALE_JOIN = (buildTable: string) => `LEFT JOIN ${buildTable} g ON g."generationId" = $1 AND g."documentId" = d.id`;
/** An indexed document whose build is missing, or was made from other live vectors than it lists now. */
const STALE = `d."indexStatus" = 'INDEXED' AND cardinality(d."vectorIds") > 0
  AND (g."documentId" IS NULL OR g."sourceHash" IS DISTINCT FROM d."indexedHash" OR g."liveIds" IS DISTINCT FROM d."vectorIds")`;
