import { randomUUID } from "node:crypto";
import { z } from "zod";
import { parseInput, type Covered, type Unchecked } from "../internal/validate.js";
import { abortSignal } from "../repository/fields.js";
import { qualifiedName } from "../db/driver.js";
import type { PrismaClient } from "../db/prisma.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { DocumentStateTable } from "./document-state.js";
import type { JobQueue } from "./job-queue.js";
import { compareBytes } from "../internal/compare.js";
import { documentIdOf } from "./vector-ids.js";
import { metadataHash } from "./vector-metadata.js";

export interface ReconcileOptions {
  /**
   * Repair what is found: delete orphans, forget missing and mismatched vectors (deleting the
   * mismatched ones) and re-enqueue their documents, re-enqueue stuck ones. Default false.
   */
  fix?: boolean;
  /**
   * Also fetch every recorded vector and compare its metadata (chunk text included) with what
   * its row recorded, finding vectors overwritten behind dualstore's back. Costs one fetch request
   * per page of vectors (Pinecone: per 100). Default true.
   */
  compareMetadata?: boolean;
  /** Ids read per page on each side, 1..10,000. Default 1,000. */
  pageSize?: number;
  /** Examples kept per finding in the report. Default 20. */
  sampleSize?: number;
  signal?: AbortSignal;
}

const reconcileOptions = z.strictObject({
  fix: z.boolean().optional(),
  compareMetadata: z.boolean().optional(),
  pageSize: z.number().int().min(1).max(10_000).optional(),
  sampleSize: z.number().int().min(0).max(10_000).optional(),
  signal: abortSignal.optional(),
});

/** Every option ReconcileOptions declares has its line in the schema (see Covered). */
export type ReconcileOptionsCovered = Covered<Unchecked<ReconcileOptions, typeof reconcileOptions>>;

export interface ReconcileReport {
  readonly namespaces: string[];
  /** Vector ids compared on the store side and on the database side. */
  readonly vectorsInStore: number;
  readonly vectorsRecorded: number;
  /** In the store, recorded by no document. */
  readonly orphans: { readonly count: number; readonly sample: string[] };
  /** Recorded by a document, absent from the store. */
  readonly missing: { readonly count: number; readonly sample: string[]; readonly documents: number };
  /** In the store and recorded, but their metadata or text differs from what the row recorded. */
  readonly mismatched: { readonly count: number; readonly sample: string[]; readonly documents: number };
  /** Documents whose sync run died (INDEXING with an expired lease) or whose delete did not finish. */
  readonly stuck: { readonly indexing: string[]; readonly deleting: string[] };
  readonly fixed: { readonly orphansDeleted: number; readonly documentsEnqueued: number };
  /**
   * During a model change, the generation being built, compared with what its build records
   * (GenerationDocument) list; null when none is. With `fix`, the build records of documents
   * with missing vectors are dropped, so `embeddings.migrate` builds them again; orphans in the
   * new place are left to `migrate` and `abort`, which own it (a build may be writing them).
   */
  readonly building: BuildingReport | null;
}

export interface BuildingReport {
  /** The new model's embedder id. */
  readonly embedder: string;
  readonly namespaces: string[];
  readonly vectorsInStore: number;
  readonly vectorsRecorded: number;
  /** In the new generation's place, listed by no build record. */
  readonly orphans: { readonly count: number; readonly sample: string[] };
  /** Listed by a build record, absent from the new generation's place. */
  readonly missing: { readonly count: number; readonly sample: string[]; readonly documents: number };
  /** Build records dropped by `fix`: their documents are built again. */
  readonly buildsForgotten: number;
}

/** The generation a model change is building, and its store. */
export interface BuildingGeneration {
  readonly id: number;
  readonly embedder: string;
  readonly store: ManagedVectorStore;
}

/**
 * Compares what the vector store holds with what PostgreSQL records, namespace by namespace,
 * as a merge of two id-ordered streams read a page at a time (the store's id listing and the
 * chunk rows in C collation order), so memory stays flat however many vectors there are; the
 * vectors on both sides are then fetched a page at a time and their metadata fingerprints
 * compared with the rows'.
 *
 * Fixing is careful about runs in flight: orphans of a document that still exists are deleted
 * only under that document's sync lease (a run holding it might be about to record them), and a
 * missing or mismatched vector is dropped from its row under the lease before the document is
 * re-indexed.
 */
export class Reconciler {
  private readonly chunkTable: string;
  private readonly documentTable: string;
  private readonly buildTable: string;

  constructor(
    private readonly deps: { prisma: PrismaClient; schema: string | undefined; store: ManagedVectorStore; table: DocumentStateTable; queue: JobQueue; leaseMs: number },
  ) {
    this.chunkTable = qualifiedName(deps.schema, "DocumentChunk");
    this.documentTable = qualifiedName(deps.schema, "Document");
    this.buildTable = qualifiedName(deps.schema, "GenerationDocument");
  }

  /**
   * `building`: the generation a model change is building. Its vectors are not orphans of the
   * live one when both share a place (a Pinecone index without a prefix holds every prefix's
   * namespaces), and its own place is compared with its build records.
   */
  async run(options: ReconcileOptions = {}, building?: BuildingGeneration): Promise<ReconcileReport> {
    // A pageSize of NaN or 0 once read no ids and, with fix, "repaired" every row to no vectors.
    options = parseInput(reconcileOptions, options, "reconcile options");
    const pageSize = options.pageSize ?? 1_000;
    const sampleSize = options.sampleSize ?? 20;
    const compareMetadata = options.compareMetadata ?? true;
    const { store, prisma } = this.deps;
    const recordedNamespaces = await prisma.$queryRawUnsafe<Array<{ namespace: string }>>(
      `SELECT DISTINCT COALESCE("vectorNamespace", '') AS namespace FROM ${this.documentTable} WHERE cardinality("vectorIds") > 0`,
    );
    const namespaces = [...new Set([...(await store.listNamespaces({ signal: options.signal })), ...recordedNamespaces.map((r) => r.namespace)])].sort();
    const report = {
      namespaces,
      vectorsInStore: 0,
      vectorsRecorded: 0,
      orphans: { count: 0, sample: [] as string[] },
      missing: { count: 0, sample: [] as string[], documents: 0 },
      mismatched: { count: 0, sample: [] as string[], documents: 0 },
      stuck: { indexing: [] as string[], deleting: [] as string[] },
      fixed: { orphansDeleted: 0, documentsEnqueued: 0 },
      building: null as BuildingReport | null,
    };
    const missingByDocument = new Map<string, string[]>();
    const mismatchedByDocument = new Map<string, { namespace: string; vectorIds: string[] }>();

    for (const namespace of namespaces) {
      // Vectors in the store that no row records, judged a page at a time.
      const unrecorded: string[] = [];
      const flushOrphans = async (force: boolean) => {
        if (unrecorded.length === 0 || (unrecorded.length < pageSize && !force)) return;
        const page = unrecorded.splice(0);
        const built = building ? await this.builtIds(building.id, page) : new Set<string>();
        const orphans = page.filter((id) => !built.has(id));
        report.vectorsInStore += orphans.length;
        report.orphans.count += orphans.length;
        report.orphans.sample.push(...orphans.slice(0, Math.max(0, sampleSize - report.orphans.sample.length)));
        if (options.fix && orphans.length > 0) report.fixed.orphansDeleted += await this.deleteOrphans(orphans, namespace, options.signal);
      };
      // Vectors on both sides, with the metadata hash their rows recorded, compared a page at a time.
      const both: Array<{ vectorId: string; metadataHash: string }> = [];
      const compareBoth = async (force: boolean) => {
        if (!compareMetadata || (both.length < pageSize && !force) || both.length === 0) return;
        const page = both.splice(0);
        const stored = new Map((await store.fetch(page.map((v) => v.vectorId), namespace, { signal: options.signal })).map((r) => [r.id, r.metadata]));
        for (const { vectorId, metadataHash: recordedHash } of page) {
          const metadata = stored.get(vectorId);
          // Deleted since it was listed (a run's cleanup), or recorded before metadata was fingerprinted.
          if (metadata === undefined || recordedHash === "" || metadataHash(metadata) === recordedHash) continue;
          report.mismatched.count++;
          if (report.mismatched.sample.length < sampleSize) report.mismatched.sample.push(vectorId);
          const documentId = documentIdOf(vectorId);
          const entry = mismatchedByDocument.get(documentId) ?? { namespace, vectorIds: [] };
          entry.vectorIds.push(vectorId);
          mismatchedByDocument.set(documentId, entry);
        }
      };
      const storeIds = store.allIds("", namespace, pageSize, { signal: options.signal })[Symbol.asyncIterator]();
      const recorded = this.recordedIds(namespace, pageSize)[Symbol.asyncIterator]();
      const inStore = new PageCursor(storeIds);
      const inDb = new PageCursor(recorded);
      for (;;) {
        const [a, recordedVector] = [await inStore.peek(), await inDb.peek()];
        const b = recordedVector?.vectorId;
        if (a === undefined && b === undefined) break;
        if (b === undefined || (a !== undefined && compareBytes(a, b) < 0)) {
          unrecorded.push(a!);
          await flushOrphans(false);
          inStore.next();
        } else if (a === undefined || compareBytes(b, a) < 0) {
          report.vectorsRecorded++;
          report.missing.count++;
          if (report.missing.sample.length < sampleSize) report.missing.sample.push(b);
          const documentId = documentIdOf(b);
          missingByDocument.set(documentId, [...(missingByDocument.get(documentId) ?? []), b]);
          inDb.next();
        } else {
          report.vectorsInStore++;
          report.vectorsRecorded++;
          both.push(recordedVector!);
          await compareBoth(false);
          inStore.next();
          inDb.next();
        }
      }
      await flushOrphans(true);
      await compareBoth(true);
    }
    report.missing.documents = missingByDocument.size;
    report.mismatched.documents = mismatchedByDocument.size;

    const stuck = await prisma.document.findMany({
      where: {
        OR: [
          { indexStatus: "INDEXING", OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: new Date() } }] },
          { indexStatus: "DELETING", OR: [{ syncLeaseUntil: null }, { syncLeaseUntil: { lt: new Date() } }] },
        ],
      },
      select: { id: true, indexStatus: true },
    });
    report.stuck.indexing = stuck.filter((d) => d.indexStatus === "INDEXING").map((d) => d.id);
    report.stuck.deleting = stuck.filter((d) => d.indexStatus === "DELETING").map((d) => d.id);

    if (options.fix) {
      for (const [documentId, vectorIds] of missingByDocument) await this.forget(documentId, vectorIds);
      for (const [documentId, { namespace, vectorIds }] of mismatchedByDocument) await this.forget(documentId, vectorIds, namespace, options.signal);
      const reindex = [...new Set([...missingByDocument.keys(), ...mismatchedByDocument.keys(), ...report.stuck.indexing])];
      await this.deps.queue.enqueue(prisma, "INDEX", reindex);
      await this.deps.queue.enqueue(prisma, "DELETE", report.stuck.deleting);
      report.fixed.documentsEnqueued = reindex.length + report.stuck.deleting.length;
    }
    if (building) report.building = await this.checkBuilding(building, pageSize, sampleSize, options.fix ?? false, options.signal);
    return report;
  }

  /** Which of `ids` a build record of generation `generationId` lists. */
  private async builtIds(generationId: number, ids: string[]): Promise<Set<string>> {
    const rows = await this.deps.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT DISTINCT v.id FROM ${this.buildTable} g CROSS JOIN LATERAL unnest(g."vectorIds") AS v(id)
        WHERE g."generationId" = $1 AND g."vectorIds" && $2::text[] AND v.id = ANY($2::text[])`,
      generationId,
      ids,
    );
    return new Set(rows.map((row) => row.id));
  }

  /** The building generation's place against its build records, namespace by namespace, as two id-ordered streams. */
  private async checkBuilding(building: BuildingGeneration, pageSize: number, sampleSize: number, fix: boolean, signal: AbortSignal | undefined): Promise<BuildingReport> {
    const recordedNamespaces = await this.deps.prisma.$queryRawUnsafe<Array<{ namespace: string }>>(
      `SELECT DISTINCT namespace FROM ${this.buildTable} WHERE "generationId" = $1 AND cardinality("vectorIds") > 0`,
      building.id,
    );
    const namespaces = [...new Set([...(await building.store.listNamespaces({ signal })), ...recordedNamespaces.map((r) => r.namespace)])].sort();
    const report = {
      embedder: building.embedder,
      namespaces,
      vectorsInStore: 0,
      vectorsRecorded: 0,
      orphans: { count: 0, sample: [] as string[] },
      missing: { count: 0, sample: [] as string[], documents: 0 },
      buildsForgotten: 0,
    };
    const missingDocuments = new Set<string>();
    for (const namespace of namespaces) {
      const inStore = new PageCursor(building.store.allIds("", namespace, pageSize, { signal })[Symbol.asyncIterator]());
      const inBuilds = new PageCursor(this.builtIdsIn(building.id, namespace, pageSize)[Symbol.asyncIterator]());
      for (;;) {
        const [a, b] = [await inStore.peek(), await inBuilds.peek()];
        if (a === undefined && b === undefined) break;
        if (b === undefined || (a !== undefined && compareBytes(a, b) < 0)) {
          report.vectorsInStore++;
          report.orphans.count++;
          if (report.orphans.sample.length < sampleSize) report.orphans.sample.push(a!);
          inStore.next();
        } else if (a === undefined || compareBytes(b, a) < 0) {
          report.vectorsRecorded++;
          report.missing.count++;
          if (report.missing.sample.length < sampleSize) report.missing.sample.push(b);
          missingDocuments.add(documentIdOf(b));
          inBuilds.next();
        } else {
          report.vectorsInStore++;
          report.vectorsRecorded++;
          inStore.next();
          inBuilds.next();
        }
      }
    }
    report.missing.documents = missingDocuments.size;
    if (fix && missingDocuments.size > 0) {
      const { count } = await this.deps.prisma.generationDocument.deleteMany({ where: { generationId: building.id, documentId: { in: [...missingDocuments] } } });
      report.buildsForgotten = count;
    }
    return report;
  }

  /** The vector ids the build records of a generation list in a namespace, in C collation order, a page at a time. */
  private async *builtIdsIn(generationId: number, namespace: string, pageSize: number): AsyncGenerator<string[]> {
    let after: string | null = null;
    for (;;) {
      const rows: Array<{ id: string }> = await this.deps.prisma.$queryRawUnsafe(
        `SELECT v.id FROM ${this.buildTable} g CROSS JOIN LATERAL unnest(g."vectorIds") AS v(id)
          WHERE g."generationId" = $1 AND g.namespace = $2 AND ($3::text IS NULL OR v.id COLLATE "C" > $3::text COLLATE "C")
          ORDER BY v.id COLLATE "C" LIMIT $4`,
        generationId,
        namespace,
        after,
        pageSize,
      );
      if (rows.length === 0) return;
      yield rows.map((row) => row.id);
      after = rows.at(-1)!.id;
    }
  }

  /** The vectors PostgreSQL records for a namespace, in C collation order of their ids, a page at a time. */
  private async *recordedIds(namespace: string, pageSize: number): AsyncGenerator<Array<{ vectorId: string; metadataHash: string }>> {
    let after: string | null = null;
    for (;;) {
      const rows: Array<{ vectorId: string; metadataHash: string }> = await this.deps.prisma.$queryRawUnsafe(
        `SELECT k."vectorId", k."metadataHash" FROM ${this.chunkTable} k JOIN ${this.documentTable} d ON d.id = k."documentId"
          WHERE COALESCE(d."vectorNamespace", '') = $1 AND ($2::text IS NULL OR k."vectorId" COLLATE "C" > $2::text COLLATE "C")
          ORDER BY k."vectorId" COLLATE "C" LIMIT $3`,
        namespace,
        after,
        pageSize,
      );
      if (rows.length === 0) return;
      yield rows;
      after = rows.at(-1)!.vectorId;
    }
  }

  /**
   * Deletes orphans. Those of deleted documents go at once (document ids are never reused);
   * those of live documents only under the document's lease, and only if the row still does not
   * list them once the lease is held.
   */
  private async deleteOrphans(ids: string[], namespace: string, signal: AbortSignal | undefined): Promise<number> {
    const { prisma, store, table, leaseMs } = this.deps;
    const documentIds = [...new Set(ids.map(documentIdOf))];
    const live = new Set(
      (await prisma.document.findMany({ where: { id: { in: documentIds } }, select: { id: true } })).map((d) => d.id),
    );
    const ofDeleted = ids.filter((id) => !live.has(documentIdOf(id)));
    await store.delete(ofDeleted, namespace, { signal });
    let deleted = ofDeleted.length;
    if (live.size === 0) return deleted;
    const token = randomUUID();
    const held = await table.leaseQuietly([...live], token, leaseMs);
    try {
      const listed = new Set(
        (await prisma.document.findMany({ where: { id: { in: held } }, select: { vectorIds: true } })).flatMap((d) => d.vectorIds),
      );
      const heldSet = new Set(held);
      const safe = ids.filter((id) => heldSet.has(documentIdOf(id)) && !listed.has(id));
      await store.delete(safe, namespace, { signal });
      deleted += safe.length;
    } finally {
      await table.release(held, token);
    }
    return deleted;
  }

  /**
   * Drops vectors from their document's row (under its lease), so the row is true again and a
   * re-index writes them anew: missing ones, or mismatched ones, which are then deleted from
   * `namespace` (no longer listed, and no run will list their ids again).
   */
  private async forget(documentId: string, vectorIds: string[], namespace?: string, signal?: AbortSignal): Promise<void> {
    const { table, store, leaseMs } = this.deps;
    const token = randomUUID();
    const held = await table.leaseQuietly([documentId], token, leaseMs);
    if (held.length === 0) return;
    try {
      await table.forgetVectors(documentId, vectorIds, token);
      if (namespace !== undefined) await store.delete(vectorIds, namespace, { signal });
    } finally {
      await table.release(held, token);
    }
  }
}

/** Walks an async stream of pages one item at a time. */
class PageCursor<T> {
  private page: T[] = [];
  private position = 0;
  private done = false;

  constructor(private readonly pages: AsyncIterator<T[]>) {}

  async peek(): Promise<T | undefined> {
    while (this.position >= this.page.length && !this.done) {
      const next = await this.pages.next();
      if (next.done) this.done = true;
      else {
        this.page = next.value;
        this.position = 0;
      }
    }
    return this.position < this.page.length ? this.page[this.position] : undefined;
  }

  next(): void {
    this.position++;
  }
}
