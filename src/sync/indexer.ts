import { randomUUID } from "node:crypto";
import type { Chunker } from "../chunking/chunker.js";
import type { CallContext } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { redactAndClip } from "../core/redact.js";
import { inSpan, metric, type SpanHandle } from "../core/telemetry.js";
import type { Document } from "../db/prisma.js";
import type { ManagedEmbedder } from "../embedders/managed-embedder.js";
import { AbortedError, DualstoreError, IndexingError, LeaseLostError, ProviderError } from "../errors.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { VectorRecord } from "../vector-stores/vector-store.js";
import type { CandidateRow, ChunkRow, ClaimedRow, CommitInput, DocumentStateTable } from "./document-state.js";
import type { EmbeddingCache } from "./embedding-cache.js";
import type { JobQueue } from "./job-queue.js";
import { RunLease } from "./run-lease.js";
import type { UsageEntry, UsageLedger } from "./usage-ledger.js";
import { chunkKeyOf, chunkKeys, epochVectorId, sha256, vectorIdPrefix } from "./vector-ids.js";
import { metadataHash, vectorMetadata, type IndexedDocument } from "./vector-metadata.js";

/** Loads the text of a document whose `content` column is null (e.g. from blob storage or its URL). */
export type ContentLoader = (document: Omit<Document, "content">) => Promise<string>;

/** Reads the text of source rows' mirrors from the app's rows (or the error to record for one). */
export type SourceTexts = (mirrors: ReadonlyArray<{ id: string; sourceName: string }>) => Promise<Map<string, string | DualstoreError>>;

/** Where a document's vectors live: one namespace for all, or one per owner (public documents in their own). */
export type Namespacing = "single" | "per-user";
export const PUBLIC_NAMESPACE = "__public__";

export function namespaceFor(namespacing: Namespacing, userId: string | null): string {
  return namespacing === "single" ? "" : (userId ?? PUBLIC_NAMESPACE);
}

/** What one sync run did to one document. */
export interface IndexOutcome {
  readonly documentId: string;
  /**
   * indexed: vectors and row now match the document. unchanged: they already did, nothing was
   * done. pending: vectors were written but the document changed meanwhile (another run will
   * follow). busy: another run holds the document, or a model change's cut-over replaced the
   * generation this run was for (it claimed nothing: run it again). deleting: it is being
   * deleted. missing: no such document. failed: see `error`; the row records it and still lists
   * exactly the vectors the store holds for it.
   */
  readonly status: "indexed" | "unchanged" | "pending" | "busy" | "deleting" | "missing" | "failed";
  readonly chunks: number;
  /** Chunk texts sent to the embedder. */
  readonly embedded: number;
  /** Vectors rewritten under a new id without embedding (metadata or position changed, or moved namespace). */
  readonly rewritten: number;
  /** Stale vectors deleted. */
  readonly removed: number;
  readonly error?: DualstoreError;
}

export interface IndexerDeps {
  readonly table: DocumentStateTable;
  readonly queue: JobQueue;
  readonly embedder: ManagedEmbedder;
  /** Serves texts the same model embedded before; sends the others to `embedder`. */
  readonly cache: EmbeddingCache;
  readonly store: ManagedVectorStore;
  readonly chunker: Chunker;
  readonly namespacing: Namespacing;
  readonly contentLoader: ContentLoader | undefined;
  readonly sourceTexts: SourceTexts | undefined;
  readonly leaseMs: number;
  readonly logger: Logger;
  /** Where embedding usage is added up per owner, model and day. */
  readonly usage: UsageLedger;
}

/** One document's plan: its new chunks and what each needs. */
interface Plan {
  readonly row: ClaimedRow;
  readonly namespace: string;
  readonly fingerprint: string;
  readonly chunks: ChunkRow[];
  readonly metadata: Map<string, VectorRecord["metadata"]>;
  /** Chunks to embed. */
  readonly embed: ChunkRow[];
  /** Chunks whose stored vector (`from`, in the row's namespace) is copied to a new id (new metadata, or another namespace). */
  readonly rewrite: Array<{ chunk: ChunkRow; from: string }>;
  /** Ids to delete after the commit, by namespace. */
  readonly stale: Map<string, string[]>;
  /** Whether an earlier run may have left vectors the row does not list. */
  readonly sweep: boolean;
}

/**
 * The index pipeline for a batch of documents: decide from the rows which documents changed,
 * claim those, chunk them, embed only chunks whose text (or embedder) is new, copy vectors
 * whose metadata or position changed to new ids, upsert, record the result in one fenced
 * statement, then delete stale vectors. Work is batched across the documents so cost follows
 * the number of chunks, not the number of documents.
 *
 * Order matters for consistency: new vectors are written before the row lists them, and old
 * ones are deleted only after the row stopped listing them. Every id a run writes carries its
 * epoch, so no other run's request, however late it lands, touches a vector this run records.
 * A crash at any point leaves the row listing only vectors the store holds; at worst some
 * vectors are unlisted (orphans), which search ignores (hits are hydrated through the row) and
 * the next run, a sweep or reconcile removes.
 */
export class Indexer {
  constructor(private readonly deps: IndexerDeps) {}

  /** The fingerprint a document's vectors carry when they are current. */
  fingerprint(row: CandidateRow, contentHash: string | null = row.contentHash): string {
    const { embedder, chunker, store, namespacing } = this.deps;
    return sha256(
      JSON.stringify([
        contentHash,
        metadataHash(vectorMetadata(asIndexed(row), { index: 0, text: "" }, undefined).metadata),
        embedder.id,
        chunker.id,
        store.name,
        store.limits.maxMetadataBytes ?? null,
        namespaceFor(namespacing, row.userId),
      ]),
    );
  }

  run(ids: readonly string[], options: { signal?: AbortSignal; force?: boolean } = {}): Promise<IndexOutcome[]> {
    return inSpan("dualstore.sync.index", { "dualstore.document.ids": [...ids], "dualstore.document.count": ids.length }, async (span) => {
      const outcomes = await this.runIn(span, ids, options);
      const counts = new Map<string, number>();
      for (const outcome of outcomes) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
      span.set({
        ...Object.fromEntries([...counts].map(([status, count]) => [`dualstore.documents.${status}`, count])),
        "dualstore.chunks.embedded": outcomes.reduce((sum, outcome) => sum + outcome.embedded, 0),
      });
      return outcomes;
    });
  }

  private async runIn(span: SpanHandle, ids: readonly string[], options: { signal?: AbortSignal; force?: boolean }): Promise<IndexOutcome[]> {
    const outcomes = new Map<string, IndexOutcome>();
    const candidates = await this.deps.table.candidates(ids);
    span.set({ "dualstore.owner.ids": [...new Set(candidates.map((row) => row.userId ?? "public"))] });
    const found = new Set(candidates.map((row) => row.id));
    for (const id of ids) if (!found.has(id)) outcomes.set(id, outcome(id, "missing"));

    const toClaim: string[] = [];
    for (const row of candidates) {
      if (row.indexStatus === "DELETING") outcomes.set(row.id, outcome(row.id, "deleting"));
      else if (!options.force && !row.leaseExpired && row.indexStatus === "INDEXED" && row.contentHash !== null && row.indexedHash === this.fingerprint(row)) {
        // (A lease left to run out means its run died or gave up, perhaps before deleting what it replaced: take it over.)
        outcomes.set(row.id, outcome(row.id, "unchanged"));
      } else toClaim.push(row.id);
    }
    if (toClaim.length > 0) {
      const token = randomUUID();
      const claimedAt = performance.now();
      const claimed = await this.deps.table.claim(toClaim, token, this.deps.leaseMs, this.deps.embedder.id);
      const claimedIds = new Set(claimed.map((row) => row.id));
      for (const id of toClaim) if (!claimedIds.has(id)) outcomes.set(id, outcome(id, "busy"));
      const lease = new RunLease(this.deps, token, [...claimedIds], claimedAt, options.signal);
      try {
        await this.scheduleSweeps(claimed.flatMap((row) => (row.lateWritesMs === null ? [] : [{ row, delayMs: row.lateWritesMs }])));
        for (const result of await this.process(claimed, lease)) outcomes.set(result.documentId, result);
      } finally {
        lease.end();
        // A write whose outcome is unknown may land after the run: sweep once it no longer can.
        if (lease.uncertainWrites) await this.scheduleSweeps(claimed.map((row) => ({ row, delayMs: this.deps.leaseMs })));
      }
    }
    return ids.map((id) => outcomes.get(id)!);
  }

  /**
   * Schedules SWEEP jobs for documents whose vectors may still gain writes of a run that gave up
   * or died (taken over from it, or left with unknown outcomes by this one), due once they can
   * land no more: one lease after that run stopped sending.
   */
  private async scheduleSweeps(documents: ReadonlyArray<{ row: CandidateRow; delayMs: number }>): Promise<void> {
    const sweeps = documents.map(({ row, delayMs }) => ({ documentId: row.id, namespace: namespaceFor(this.deps.namespacing, row.userId), delayMs }));
    await this.deps.queue.enqueueSweeps(sweeps).catch((error: unknown) =>
      this.deps.logger.warn("could not schedule sweeps for late vector writes; reconcile finds what they leave", { error }),
    );
  }

  private async process(rows: ClaimedRow[], lease: RunLease): Promise<IndexOutcome[]> {
    const plans: Plan[] = [];
    const failures: IndexOutcome[] = [];
    const sourceTexts = await this.loadSourceTexts(rows);
    for (const row of rows) {
      try {
        plans.push(await this.plan(row, sourceTexts.get(row.id)));
      } catch (error) {
        failures.push(await this.failOne(row, lease, error));
      }
    }
    if (plans.length === 0) return failures;
    try {
      return [...failures, ...(await this.write(plans, lease))];
    } catch (caught) {
      // A run that lost its lease reports that, whatever its aborted calls threw.
      const error: unknown = lease.lost ?? caught;
      // A batch whose embedder or store failed for good: retry each document alone, so one bad
      // document does not fail the others and the error lands on the right row. (Transient
      // failures and aborts would only fail again: every document records them.)
      const transient = (error instanceof ProviderError && error.retryable) || error instanceof AbortedError || error instanceof LeaseLostError;
      if (plans.length > 1 && !transient) {
        const alone: IndexOutcome[] = [];
        for (const plan of plans) {
          try {
            alone.push(...(await this.write([plan], lease)));
          } catch (inner) {
            alone.push(await this.failOne(plan.row, lease, inner));
          }
        }
        return [...failures, ...alone];
      }
      const failed = await Promise.all(plans.map((plan) => this.failOne(plan.row, lease, error)));
      return [...failures, ...failed];
    }
  }

  /** The texts of the source mirrors among `rows`, read from the app's rows (one statement per source). */
  private async loadSourceTexts(rows: readonly ClaimedRow[]): Promise<Map<string, string | DualstoreError>> {
    const mirrors = rows.flatMap((row) => (row.sourceName === null ? [] : [{ id: row.id, sourceName: row.sourceName }]));
    if (mirrors.length === 0) return new Map();
    if (!this.deps.sourceTexts) {
      const error = (id: string) => new IndexingError(id, "the row mirrors a source, and this instance was created without sources (createDualstore({ sources }))");
      return new Map(mirrors.map((mirror) => [mirror.id, error(mirror.id)]));
    }
    return this.deps.sourceTexts(mirrors);
  }

  private async plan(row: ClaimedRow, sourceText: string | DualstoreError | undefined): Promise<Plan> {
    const { chunker, embedder, store, namespacing, contentLoader } = this.deps;
    if (sourceText instanceof DualstoreError) throw sourceText;
    let content = row.sourceName === null ? row.content : (sourceText ?? "");
    if (content === null) {
      if (!contentLoader) throw new IndexingError(row.id, "the document has no content and no contentLoader is configured");
      const { content: _omitted, ...withoutContent } = row;
      content = await contentLoader(withoutContent as unknown as Omit<Document, "content">);
      if (typeof content !== "string") throw new IndexingError(row.id, "the contentLoader returned no text");
    }
    const namespace = namespaceFor(namespacing, row.userId);
    const previousNamespace = row.vectorNamespace ?? namespace;
    const pieces = chunker.chunk(content);
    const keys = chunkKeys(embedder.id, pieces.map((piece) => piece.text));
    const stored = new Map(row.chunks.map((chunk) => [chunkKeyOf(chunk.vectorId), chunk]));
    const plan: Plan = {
      row,
      namespace,
      fingerprint: this.fingerprint(row, row.content === null ? sha256(content) : row.contentHash),
      chunks: [],
      metadata: new Map(),
      embed: [],
      rewrite: [],
      stale: new Map(),
      sweep: row.interrupted || row.previousStatus === "FAILED",
    };
    pieces.forEach((piece, i) => {
      const { metadata, hash } = vectorMetadata(asIndexed(row), piece, store.limits.maxMetadataBytes);
      const before = stored.get(keys[i]!);
      // A vector is kept only as it is; any change is written under this run's epoch, never over a recorded id.
      const kept = before !== undefined && before.metadataHash === hash && previousNamespace === namespace;
      const vectorId = kept ? before.vectorId : epochVectorId(row.id, row.epoch, keys[i]!);
      const chunk: ChunkRow = {
        vectorId,
        documentId: row.id,
        index: piece.index,
        hash: sha256(piece.text),
        metadataHash: hash,
        text: piece.text,
        start: piece.start,
        end: piece.end,
        tokenCount: piece.tokenCount,
        embedder: embedder.id,
      };
      plan.chunks.push(chunk);
      plan.metadata.set(vectorId, metadata);
      if (!before) plan.embed.push(chunk);
      else if (!kept) plan.rewrite.push({ chunk, from: before.vectorId });
    });
    const keep = new Set(plan.chunks.map((chunk) => chunk.vectorId));
    const stale = row.vectorIds.filter((id) => !keep.has(id) || previousNamespace !== namespace);
    if (stale.length > 0) plan.stale.set(previousNamespace, stale);
    return plan;
  }

  private async write(plans: Plan[], lease: RunLease): Promise<IndexOutcome[]> {
    const { embedder, store, table } = this.deps;
    const { call, token } = lease;
    // Reuse stored vectors where only metadata or namespace changed; a vector the store lost is
    // embedded again instead.
    const values = new Map<string, number[]>();
    const copies = plans.flatMap((plan) => plan.rewrite.map((rewrite) => ({ plan, ...rewrite })));
    for (const [namespace, group] of groupBy(copies, (x) => x.plan.row.vectorNamespace ?? x.plan.namespace)) {
      const fetched = new Map((await store.fetch(group.map((x) => x.from), namespace, call)).map((record) => [record.id, record.values]));
      for (const { chunk, from } of group) if (fetched.has(from)) values.set(chunk.vectorId, fetched.get(from)!);
    }
    const rewritten = plans.flatMap((plan) => plan.rewrite.map((rewrite) => rewrite.chunk));
    const toEmbed = [...plans.flatMap((plan) => plan.embed), ...rewritten.filter((chunk) => !values.has(chunk.vectorId))];
    const { vectors, cached } = await this.deps.cache.embed(embedder.id, toEmbed, (missing) => this.embedAndRecord(plans, missing, call));
    toEmbed.forEach((chunk, i) => values.set(chunk.vectorId, vectors[i]!));
    const embedded = new Set(toEmbed.filter((_, i) => !cached.has(i)));

    const written = new Map<string, VectorRecord[]>();
    for (const plan of plans) {
      const records = [...plan.embed, ...plan.rewrite.map((rewrite) => rewrite.chunk)].map((chunk) => ({
        id: chunk.vectorId,
        values: values.get(chunk.vectorId)!,
        metadata: plan.metadata.get(chunk.vectorId)!,
      }));
      written.set(plan.namespace, [...(written.get(plan.namespace) ?? []), ...records]);
    }
    for (const [namespace, records] of written) await store.upsert(records, namespace, call);

    const commits: CommitInput[] = plans.map((plan) => ({
      id: plan.row.id,
      vectorIds: plan.chunks.map((chunk) => chunk.vectorId),
      indexedHash: plan.fingerprint,
      embedder: embedder.id,
      namespace: plan.namespace,
      readUpdatedAt: plan.row.updatedAt,
      keepLease: hasCleanup(plan),
    }));
    const changedRows = plans.flatMap((plan) => {
      const stored = new Map(plan.row.chunks.map((chunk) => [chunk.vectorId, chunk]));
      return plan.chunks.filter((chunk) => {
        const before = stored.get(chunk.vectorId);
        return (
          !before ||
          before.index !== chunk.index ||
          before.metadataHash !== chunk.metadataHash ||
          before.start !== chunk.start ||
          before.end !== chunk.end ||
          before.tokenCount !== chunk.tokenCount
        );
      });
    });
    const statuses = await table.commit(commits, changedRows, token);

    const committed = plans.filter((plan) => {
      if (statuses.has(plan.row.id)) return true;
      // Our lease expired and another run took the document, or its row is gone: what we wrote is
      // listed by no row, and may have landed after that run's own sweep.
      this.deps.logger.warn("lost the sync lease of a document before committing", { documentId: plan.row.id });
      return false;
    });
    const fencedOut = plans.filter((plan) => !committed.includes(plan));
    await this.deps.queue.enqueueSweeps(fencedOut.map((plan) => ({ documentId: plan.row.id, namespace: plan.namespace, delayMs: 0 })));
    const cleaned = committed.filter(hasCleanup);
    // The commit released the other leases, or found them taken.
    lease.drop(plans.filter((plan) => !cleaned.includes(plan)).map((plan) => plan.row.id));
    // Stale vectors are deleted under the leases: the row no longer lists them, and no run will
    // list them again (ids carry the epoch of the run that wrote them). One request per namespace.
    const { removed, failed } = await this.removeStale(cleaned, call);
    const cleanedIds = cleaned.map((plan) => plan.row.id);
    lease.drop(cleanedIds);
    if (failed) {
      // What a failed delete left is invisible to search. The lease is left expired, so the next
      // run of these documents sweeps at once, and a SWEEP job makes sure one comes (with the outbox's backoff).
      await table.expireLease(cleanedIds, token);
      const sweeps = cleaned.flatMap((plan) => [...new Set([plan.namespace, ...plan.stale.keys()])].map((namespace) => ({ documentId: plan.row.id, namespace, delayMs: 0 })));
      await this.deps.queue.enqueueSweeps(sweeps);
    } else await table.release(cleanedIds, token);
    return plans.map((plan) => {
      const status = statuses.get(plan.row.id);
      if (status === undefined) return outcome(plan.row.id, "busy");
      return {
        documentId: plan.row.id,
        status: status === "INDEXED" ? "indexed" : status === "DELETING" ? "deleting" : "pending",
        chunks: plan.chunks.length,
        embedded: plan.embed.filter((chunk) => embedded.has(chunk)).length + plan.rewrite.filter((rewrite) => embedded.has(rewrite.chunk)).length,
        rewritten: plan.rewrite.filter((rewrite) => !embedded.has(rewrite.chunk)).length,
        removed: removed.get(plan.row.id) ?? 0,
      };
    });
  }

  /**
   * Embeds the chunks, then adds to the usage ledger what was sent per owner: requests made
   * (retries and failed ones too), and tokens and texts once the embedder returned them.
   */
  private async embedAndRecord(plans: Plan[], chunks: ChunkRow[], call: CallContext): Promise<number[][]> {
    const { embedder, usage, logger } = this.deps;
    const ownerOf = new Map(plans.map((plan) => [plan.row.id, plan.row.userId]));
    const owners = chunks.map((chunk) => ownerOf.get(chunk.documentId) ?? null);
    const requests = new Map<string | null, number>();
    const onRequest = ({ start, count }: { start: number; count: number }) => {
      for (const owner of new Set(owners.slice(start, start + count))) requests.set(owner, (requests.get(owner) ?? 0) + 1);
    };
    let vectors: number[][] | undefined;
    try {
      vectors = await embedder.embedDocuments(chunks.map((chunk) => chunk.text), { ...call, onRequest });
      return vectors;
    } finally {
      const entries = new Map<string | null, UsageEntry>();
      for (const [owner, count] of requests) entries.set(owner, { userId: owner, model: embedder.id, tokens: 0, texts: 0, requests: count });
      if (vectors) {
        metric.tokens(chunks.reduce((sum, chunk) => sum + chunk.tokenCount, 0), { embedder: embedder.id });
        chunks.forEach((chunk, i) => {
          const entry = entries.get(owners[i]!)!;
          entries.set(owners[i]!, { ...entry, tokens: entry.tokens + chunk.tokenCount, texts: entry.texts + 1 });
        });
      }
      // The ledger never fails a run: the vectors are what the run is for.
      await usage.record([...entries.values()]).catch((error: unknown) => logger.warn("could not record embedding usage", { error }));
    }
  }

  /**
   * Deletes the vectors the rows no longer list (all documents' together, per namespace) and,
   * after a failed or interrupted run, any other orphan of the document. Returns the count per
   * document, and whether any delete failed.
   */
  private async removeStale(plans: Plan[], call: CallContext): Promise<{ removed: Map<string, number>; failed: boolean }> {
    const { store, logger } = this.deps;
    const removed = new Map<string, number>();
    const count = (documentId: string, n: number) => removed.set(documentId, (removed.get(documentId) ?? 0) + n);
    try {
      const byNamespace = new Map<string, string[]>();
      for (const plan of plans) {
        for (const [namespace, ids] of plan.stale) {
          byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), ...ids]);
          count(plan.row.id, ids.length);
        }
      }
      for (const [namespace, ids] of byNamespace) await store.delete(ids, namespace, call);
      for (const plan of plans.filter((p) => p.sweep)) {
        const listed = new Set(plan.chunks.map((chunk) => chunk.vectorId));
        for await (const page of store.allIds(vectorIdPrefix(plan.row.id), plan.namespace, 1_000, call)) {
          const orphans = page.filter((id) => !listed.has(id));
          await store.delete(orphans, plan.namespace, call);
          count(plan.row.id, orphans.length);
        }
      }
    } catch (error) {
      // The rows are already right, and unlisted vectors are invisible to search.
      logger.warn("could not delete stale vectors; a sweep job will", { documents: plans.map((p) => p.row.id), error });
      return { removed, failed: true };
    }
    return { removed, failed: false };
  }

  private async failOne(row: ClaimedRow, lease: RunLease, error: unknown): Promise<IndexOutcome> {
    const failure =
      error instanceof DualstoreError ? error : new IndexingError(row.id, error instanceof Error ? error.message : String(error), { cause: error });
    const message = redactAndClip(failure.message, 2_000);
    this.deps.logger.error("indexing failed", { documentId: row.id, error: failure });
    // Fenced: a document another run took over keeps that run's state.
    await this.deps.table.fail([row.id], lease.token, message);
    lease.drop([row.id]);
    return { ...outcome(row.id, "failed"), error: failure };
  }
}

/** Whether vectors must be deleted after the commit (stale ones, or a sweep for orphans). */
function hasCleanup(plan: Plan): boolean {
  return plan.stale.size > 0 || plan.sweep;
}

function outcome(documentId: string, status: IndexOutcome["status"]): IndexOutcome {
  return { documentId, status, chunks: 0, embedded: 0, rewritten: 0, removed: 0 };
}

export function asIndexed(row: CandidateRow): IndexedDocument {
  return {
    id: row.id,
    userId: row.userId,
    title: row.title,
    source: row.source,
    sourceUrl: row.sourceUrl,
    language: row.language,
    tags: row.tags,
    metadata: row.metadata,
    createdAt: row.createdAt,
    sourceName: row.sourceName,
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
