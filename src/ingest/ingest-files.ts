import { z } from "zod";
import type { Dualstore } from "../client.js";
import { redact } from "../core/redact.js";
import { ConfigurationError } from "../errors.js";
import { parseInput, type Covered, type Unchecked } from "../internal/validate.js";
import { abortSignal, callback, id, tags as tagList, text } from "../repository/fields.js";
import { scanInputs } from "./file-scan.js";
import { pruneMissingFiles } from "./prune.js";
import { storeBatch } from "./store-files.js";

export interface IngestProgress {
  /** scan: finding files; store: comparing them with their documents and writing changes; index: indexing the documents. */
  readonly phase: "scan" | "store" | "index";
  /** Files found (scan), files stored or compared (store), documents indexed or found current (index). */
  readonly done: number;
  /** What the phase goes through; during the scan, the files found so far. */
  readonly total: number;
  /** Chunks of the documents indexed so far. */
  readonly chunks: number;
  /** Chunk texts sent to the embedder so far. */
  readonly embedded: number;
  /** Items of the current phase per second, since the phase started. */
  readonly rate: number;
  /**
   * Estimated time left in the current phase, in ms; undefined while unknown (and during the
   * scan). Estimated from bytes, not files: one large file costs what many small ones do.
   */
  readonly etaMs: number | undefined;
  /** Time since ingestFiles started, in ms. */
  readonly elapsedMs: number;
}

export interface IngestOptions {
  /** Owner of the documents. Default null: public documents every user can search. */
  userId?: string | null;
  /** Tags of every document. Default: none on new documents, and existing documents keep theirs. */
  tags?: string[];
  /** Files per batch: one lookup query and one transaction per batch when storing, one indexing run per batch. Default 32. */
  batchSize?: number;
  /**
   * "now" (default): index the documents after storing them. "enqueue": write each change's
   * outbox job instead, for `ds.sync.runWorker()` (e.g. `dualstore worker`) to index.
   */
  indexing?: "now" | "enqueue";
  /**
   * Delete the owner's documents whose file no longer exists, among those under what the inputs
   * named (a directory, a file, or paths matching a pattern). Skipped after an interruption. Default false.
   */
  prune?: boolean;
  /** Larger files are skipped. Default 10,000,000 bytes. */
  maxFileBytes?: number;
  /** Directory that relative inputs and patterns are resolved against. Default `process.cwd()`. */
  cwd?: string;
  /** Stops after the current batch; what was stored and indexed so far stays, so a re-run continues. */
  signal?: AbortSignal;
  /** Called as files are found, after every stored batch and after every indexed batch. */
  onProgress?: (progress: IngestProgress) => void;
}

/** A file that was not stored, or a document that failed to index. */
export interface IngestIssue {
  readonly path: string;
  readonly kind: "skipped" | "failed";
  readonly reason: string;
}

export interface IngestResult {
  /** Files the scan found. */
  readonly files: number;
  readonly created: number;
  readonly updated: number;
  /** Files whose document already held the same content (and title, type and tags). */
  readonly unchanged: number;
  /** Files not stored: unsupported type, binary, too large, path too long. */
  readonly skipped: number;
  /** Documents deleted because their file disappeared (`prune`). */
  readonly pruned: number;
  /** Documents whose vectors this run (re)wrote. */
  readonly indexed: number;
  /** Documents left for the outbox (`indexing: "enqueue"`). */
  readonly enqueued: number;
  /**
   * Documents this run stored or found unchanged but did not get to index (an interrupted run
   * with `indexing: "now"`): stored, not searchable yet. A re-run indexes them.
   */
  readonly notIndexed: number;
  /** Files the run did not get to (interrupted while storing). */
  readonly notStored: number;
  /** Files that could not be read, and documents whose indexing failed (the row records the error). */
  readonly failed: number;
  readonly chunks: number;
  readonly embedded: number;
  readonly elapsedMs: number;
  /** The signal stopped the run early; run it again to continue. */
  readonly interrupted: boolean;
  /** The first 100 files skipped or failed, with the reason. */
  readonly issues: IngestIssue[];
}

const MAX_ISSUES = 100;

/** Files, directories or glob patterns. */
const inputPaths = z.array(text({ min: 1, max: 4_096 })).max(10_000);

const optionsShape = z.strictObject({
  userId: id.nullish(),
  tags: tagList.optional(),
  batchSize: z.number().int().min(1).max(1_000).default(32),
  indexing: z.enum(["now", "enqueue"]).default("now"),
  prune: z.boolean().default(false),
  maxFileBytes: z.number().int().min(1).default(10_000_000),
  cwd: z.string().min(1).optional(),
  signal: abortSignal.optional(),
  onProgress: callback.optional(),
});

/** Every option IngestOptions declares has its line in the schema (see Covered). */
export type IngestOptionsCovered = Covered<Unchecked<IngestOptions, typeof optionsShape>>;

/**
 * Ingests text files into `ds`: one document per file, keyed by its absolute path (stored in
 * `sourceUrl` as a file:// URL) and owner, with source "upload", the file name as title and a
 * MIME type from the extension (file-types.ts lists the types read). Files whose content is
 * unchanged are left alone and changed ones are updated (store-files.ts); then every document of
 * the scanned files is indexed, which costs documents already current one query per batch and
 * no embedding.
 *
 * Resumable: an interrupted run keeps every batch it finished, and a re-run skips what is
 * current, including documents stored but not yet indexed.
 */
export async function ingestFiles(ds: Dualstore, inputs: readonly string[], options: IngestOptions = {}): Promise<IngestResult> {
  const paths = parseInput(inputPaths, inputs, "ingest inputs");
  const settings = parseInput(optionsShape, options, "ingest options");
  // Checked before any work: finding out after storing every file would waste the run.
  if (!ds.vectorStore) throw new ConfigurationError("ingestFiles: this instance has no vector index (created with vectorStore: null)");
  const { signal, onProgress } = options;
  const owner = settings.userId ?? null;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const summary = {
    files: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    skipped: 0,
    pruned: 0,
    indexed: 0,
    enqueued: 0,
    notIndexed: 0,
    notStored: 0,
    failed: 0,
    chunks: 0,
    embedded: 0,
  };
  const issues: IngestIssue[] = [];
  const note = (issue: IngestIssue) => {
    summary[issue.kind]++;
    if (issues.length < MAX_ISSUES) issues.push(issue);
  };
  const report = (phase: IngestProgress["phase"], phaseStarted: number, done: number, total: number, bytes?: { done: number; total: number }) => {
    const ms = performance.now() - phaseStarted;
    const rate = ms > 0 ? (done / ms) * 1_000 : 0;
    const etaMs = bytes === undefined || bytes.done === 0 ? undefined : Math.round(((bytes.total - bytes.done) / bytes.done) * ms);
    onProgress?.({ phase, done, total, chunks: summary.chunks, embedded: summary.embedded, rate, etaMs, elapsedMs: elapsed() });
  };
  const result = (interrupted: boolean): IngestResult => ({ ...summary, elapsedMs: elapsed(), interrupted, issues });

  const scanStarted = performance.now();
  const scan = await scanInputs(paths, settings.cwd ?? process.cwd(), (found) => {
    if (found % 500 === 0) report("scan", scanStarted, found, found);
  });
  summary.files = scan.files.length;
  report("scan", scanStarted, scan.files.length, scan.files.length);
  const totalBytes = sum(scan.files.map((file) => file.size));

  const documentIds: string[] = [];
  const pathById = new Map<string, string>();
  const notIndexed: string[] = [];
  /** Documents this run must index: the ones it created or changed, and unchanged ones not indexed yet. */
  const toIndex = new Set<string>();
  const seen = new Set<string>();
  const sizeById = new Map<string, number>();
  const storeStarted = performance.now();
  let stored = 0;
  let storedBytes = 0;
  let done = 0;
  /** The result of a run the signal stopped: counts of what it did not get to, as well as what it did. */
  const stopped = (): IngestResult => {
    summary.notStored = scan.files.length - stored;
    if (settings.indexing === "enqueue") summary.enqueued = summary.created + summary.updated;
    else summary.notIndexed = documentIds.slice(done).filter((documentId) => toIndex.has(documentId)).length;
    return result(true);
  };
  for (const files of chunksOf(scan.files, settings.batchSize)) {
    if (await stopRequested(signal)) return stopped();
    const batch = await storeBatch(ds, files, {
      owner,
      tags: settings.tags,
      sync: settings.indexing === "enqueue" ? "enqueue" : "none",
      maxFileBytes: settings.maxFileBytes,
    });
    const sizeByPath = new Map(files.map((file) => [file.path, file.size]));
    for (const document of batch.documents) {
      documentIds.push(document.id);
      pathById.set(document.id, document.path);
      sizeById.set(document.id, sizeByPath.get(document.path) ?? 0);
      seen.add(document.url);
    }
    notIndexed.push(...batch.notIndexed);
    for (const documentId of [...batch.changed, ...batch.notIndexed]) toIndex.add(documentId);
    batch.issues.forEach(note);
    summary.created += batch.created;
    summary.updated += batch.updated;
    summary.unchanged += batch.unchanged;
    stored += files.length;
    storedBytes += sum(files.map((file) => file.size));
    report("store", storeStarted, stored, scan.files.length, { done: storedBytes, total: totalBytes });
  }

  if (settings.prune) {
    summary.pruned = await pruneMissingFiles(ds, { owner, targets: scan.targets, seen }, settings.indexing === "enqueue" ? "enqueue" : "now", signal);
  }

  if (settings.indexing === "enqueue") {
    // New and changed documents got their job with the write; unchanged ones that an earlier,
    // interrupted run stored without indexing get one now (the worker coalesces duplicates).
    await ds.sync.enqueue(notIndexed);
    summary.enqueued = summary.created + summary.updated + notIndexed.length;
    return result(false);
  }

  // One indexing run per batch, so an interruption lands between batches, never inside one
  // (the signal is not passed down: an aborted run would mark its documents FAILED).
  const indexStarted = performance.now();
  const bytesToIndex = sum(documentIds.map((documentId) => sizeById.get(documentId) ?? 0));
  let indexedBytes = 0;
  for (const batch of chunksOf(documentIds, settings.batchSize)) {
    if (await stopRequested(signal)) return stopped();
    const run = await ds.indexDocuments(batch, { batchSize: batch.length });
    for (const outcome of run.outcomes) {
      if (outcome.status === "indexed" || outcome.status === "pending") summary.indexed++;
      if (outcome.status === "failed") {
        const reason = redact(outcome.error?.message ?? "indexing failed");
        note({ path: pathById.get(outcome.documentId) ?? outcome.documentId, kind: "failed", reason });
      }
    }
    summary.chunks += run.chunks;
    summary.embedded += run.embedded;
    done += batch.length;
    indexedBytes += sum(batch.map((documentId) => sizeById.get(documentId) ?? 0));
    report("index", indexStarted, done, documentIds.length, { done: indexedBytes, total: bytesToIndex });
  }
  return result(false);
}

/**
 * Whether to stop before the next batch. Yields to the event loop first: with an in-process
 * database (PGlite) and embedder, a batch can complete without ever leaving the microtask
 * queue, and then a signal handler that would abort `signal` never gets to run.
 */
async function stopRequested(signal: AbortSignal | undefined): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  return signal?.aborted === true;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function* chunksOf<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
