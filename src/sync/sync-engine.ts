import { z } from "zod";
import { sleep, throwIfAborted } from "../core/retry.js";
import type { PrismaClient, Prisma } from "../db/prisma.js";
import { BusyError, NotFoundError } from "../errors.js";
import { parseInput, type Covered, type Unchecked } from "../internal/validate.js";
import { IndexStatus } from "../db/prisma.js";
import { abortSignal, callback, id, idList, text } from "../repository/fields.js";
import type { Deleter } from "./deleter.js";
import type { IndexOutcome, Indexer } from "./indexer.js";

export interface IndexProgress {
  /** Documents to go through (known up front for id lists and filters). */
  readonly total: number;
  readonly done: number;
  readonly indexed: number;
  readonly unchanged: number;
  readonly failed: number;
  /** Held by another sync run (or being deleted): left for that run, or a later one. */
  readonly skipped: number;
  readonly chunks: number;
  /** Chunk texts sent to the embedder so far. */
  readonly embedded: number;
  readonly elapsedMs: number;
}

export interface IndexDocumentsOptions {
  /** Documents per batch: their chunks are embedded and upserted together. Default 32. */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (progress: IndexProgress) => void;
  /** Re-index even documents whose fingerprint says nothing changed. */
  force?: boolean;
  signal?: AbortSignal;
}

/** Which documents `indexDocuments()` goes through, when not given ids. */
export interface IndexDocumentsFilter {
  userId?: string | null;
  status?: IndexStatus | readonly IndexStatus[];
  tags?: string[];
}

export interface IndexDocumentsResult extends IndexProgress {
  readonly outcomes: IndexOutcome[];
}

/** Runs the indexer one document at a time or in batches, and waits out other runs' leases. */
export class SyncEngine {
  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      /** The live generation's indexer and deleter (they change at a cut-over). */
      indexer: Indexer;
      deleter: Deleter;
      leaseMs: number;
      /** Reads the recorded generations again, and switches to one made live since. */
      followCutOver: () => Promise<void>;
    },
  ) {}

  /**
   * Indexes one document now. Waits (up to the lease length) for another run that holds it.
   * Throws NotFoundError for an unknown document and the indexing error when it fails; the
   * document row records that error too.
   */
  async indexDocument(documentId: string, options: { force?: boolean; signal?: AbortSignal } = {}): Promise<IndexOutcome> {
    const key = parseInput(id, documentId, "document id");
    options = parseInput(indexDocumentOptions, options, "indexDocument options") ?? {};
    const deadline = Date.now() + this.deps.leaseMs + 1_000;
    for (let pause = 25; ; pause = Math.min(pause * 2, 1_000)) {
      const [outcome] = await this.run([key], options);
      if (outcome!.status === "missing") throw new NotFoundError("Document", key);
      if (outcome!.status === "failed") throw outcome!.error!;
      if (outcome!.status !== "busy") return outcome!;
      if (Date.now() > deadline) throw new BusyError(key, "another sync run still holds it");
      await sleep(pause, options.signal);
    }
  }

  /** Indexes many documents in batches, reporting progress; failures are recorded per document, not thrown. */
  async indexDocuments(target: readonly string[] | IndexDocumentsFilter, options: IndexDocumentsOptions = {}): Promise<IndexDocumentsResult> {
    const { batchSize } = parseInput(indexDocumentsOptions, options, "indexDocuments options");
    const started = performance.now();
    const outcomes: IndexOutcome[] = [];
    const ids = Array.isArray(target) ? [...new Set(parseInput(idList, target, "document ids"))] : undefined;
    const where = ids ? undefined : toWhere(parseInput(indexDocumentsFilter, target, "indexDocuments filter"));
    const total = ids?.length ?? (await this.deps.prisma.document.count({ where }));
    const progress = { total, done: 0, indexed: 0, unchanged: 0, failed: 0, skipped: 0, chunks: 0, embedded: 0, elapsedMs: 0 };
    for await (const batch of ids ? chunksOf(ids, batchSize) : this.pagesOf(where!, batchSize)) {
      // Stop between batches: what is done stays done, and a later call carries on from there.
      throwIfAborted(options.signal);
      const results = await this.run(batch, options);
      outcomes.push(...results);
      for (const result of results) {
        progress.done++;
        if (result.status === "indexed" || result.status === "pending") progress.indexed++;
        else if (result.status === "unchanged") progress.unchanged++;
        else if (result.status === "failed") progress.failed++;
        else progress.skipped++;
        progress.chunks += result.chunks;
        progress.embedded += result.embedded;
      }
      progress.elapsedMs = Math.round(performance.now() - started);
      options.onProgress?.({ ...progress });
      // Embedded stores (PGlite, the local embedder) never wait on I/O: let signals and timers in.
      await yieldToEventLoop();
    }
    return { ...progress, elapsedMs: Math.round(performance.now() - started), outcomes };
  }

  /**
   * Runs the live generation's indexer. A run that chose its generation before a cut-over and
   * claims after it claims nothing (its documents come back busy): they are run again at once
   * by the generation made live, not left waiting or unindexed.
   */
  private async run(ids: readonly string[], options: { force?: boolean; signal?: AbortSignal }): Promise<IndexOutcome[]> {
    const indexer = this.deps.indexer;
    const outcomes = await indexer.run(ids, options);
    const busy = outcomes.filter((outcome) => outcome.status === "busy").map((outcome) => outcome.documentId);
    if (busy.length === 0) return outcomes;
    await this.deps.followCutOver();
    if (this.deps.indexer === indexer) return outcomes;
    const again = new Map((await this.deps.indexer.run(busy, options)).map((outcome) => [outcome.documentId, outcome]));
    return outcomes.map((outcome) => again.get(outcome.documentId) ?? outcome);
  }

  async deleteDocument(documentId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const key = parseInput(id, documentId, "document id");
    options = parseInput(deleteOptions, options, "deleteDocument options") ?? {};
    const { missing } = await this.deleteMany([key], options);
    if (missing.length > 0) throw new NotFoundError("Document", key);
  }

  /** Deletes many documents in one pass (see Deleter.deleteMany); unknown ids come back as `missing`. */
  deleteDocuments(documentIds: readonly string[], options: { signal?: AbortSignal } = {}): Promise<{ deleted: string[]; missing: string[] }> {
    const ids = parseInput(idList, documentIds, "document ids");
    options = parseInput(deleteOptions, options, "deleteDocuments options") ?? {};
    return ids.length === 0 ? Promise.resolve({ deleted: [], missing: [] }) : this.deleteMany(ids, options);
  }

  /** As `run`: a delete that chose its generation before a cut-over is done again by the one made live. */
  private async deleteMany(ids: readonly string[], options: { signal?: AbortSignal }): Promise<{ deleted: string[]; missing: string[] }> {
    const deleter = this.deps.deleter;
    try {
      return await deleter.deleteMany(ids, options);
    } catch (error) {
      if (!(error instanceof BusyError)) throw error;
      await this.deps.followCutOver();
      if (this.deps.deleter === deleter) throw error;
      return this.deps.deleter.deleteMany(ids, options);
    }
  }

  /** Ids matching `where`, a page at a time, in id order (keyset, so rows changing status do not shift pages). */
  private async *pagesOf(where: Prisma.DocumentWhereInput, size: number): AsyncGenerator<string[]> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.deps.prisma.document.findMany({
        where: after === undefined ? where : { AND: [where, { id: { gt: after } }] },
        select: { id: true },
        orderBy: { id: "asc" },
        take: size,
      });
      if (rows.length === 0) return;
      yield rows.map((row) => row.id);
      after = rows.at(-1)!.id;
    }
  }
}

const indexDocumentOptions = z.strictObject({ force: z.boolean().optional(), signal: abortSignal.optional() }).optional();
const deleteOptions = z.strictObject({ signal: abortSignal.optional() }).optional();
const indexDocumentsOptions = z
  .strictObject({
    batchSize: z.number().int().min(1).max(1_000).default(32),
    onProgress: callback.optional(),
    force: z.boolean().optional(),
    signal: abortSignal.optional(),
  })
  .default({ batchSize: 32 });
/** Every option and filter the types declare has its line in the schemas (see Covered). */
export type IndexOptionsCovered = [
  Covered<Unchecked<IndexDocumentsOptions, typeof indexDocumentsOptions>>,
  Covered<Unchecked<IndexDocumentsFilter, typeof indexDocumentsFilter>>,
];
/** Checked before Prisma sees it: a bad status or a non-string tag is the caller's error, named. */
const indexDocumentsFilter = z.strictObject({
  userId: id.nullable().optional(),
  status: z.union([z.enum(IndexStatus), z.array(z.enum(IndexStatus)).min(1)]).optional(),
  tags: z.array(text({ min: 1, max: 100 })).max(50).optional(),
});

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function* chunksOf<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function toWhere(filter: z.output<typeof indexDocumentsFilter>): Prisma.DocumentWhereInput {
  const statuses = filter.status === undefined ? undefined : Array.isArray(filter.status) ? filter.status : [filter.status];
  return {
    AND: [
      filter.userId === undefined ? {} : { userId: filter.userId },
      statuses ? { indexStatus: { in: statuses } } : {},
      filter.tags?.length ? { tags: { hasEvery: filter.tags } } : {},
    ],
  };
}
