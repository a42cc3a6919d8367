import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";
import type { Logger } from "../core/logger.js";
import { redactAndClip } from "../core/redact.js";
import { sleep } from "../core/retry.js";
import { inSpan, metric } from "../core/telemetry.js";
import { AbortedError, BusyError, DatabaseError, DualstoreError, EmbedderMismatchError, IndexingError, IndexLayoutMismatchError, LeaseLostError, NotFoundError, ProviderError } from "../errors.js";
import { parseInput, type Covered, type Unchecked } from "../internal/validate.js";
import { abortSignal } from "../repository/fields.js";
import type { Deleter } from "./deleter.js";
import type { Indexer, IndexOutcome } from "./indexer.js";
import type { JobQueue, LeasedJob } from "./job-queue.js";
import type { Sweeper } from "./sweeper.js";

export interface JobRetryPolicy {
  /** Attempts before a job is parked as DEAD. Default 8. */
  maxAttempts?: number;
  /** Delay before the second attempt; doubles after each failure, with jitter. Default 1,000 ms. */
  baseDelayMs?: number;
  /** Longest delay between attempts. Default 300,000 ms. */
  maxDelayMs?: number;
}

export interface WorkerOptions {
  /** Batches processed in parallel. Default 1. */
  concurrency?: number;
  /** Jobs leased per batch (their documents are indexed together). Default 32. */
  batchSize?: number;
  /** Wait between polls of an empty queue, in ms. Default 1,000. */
  pollMs?: number;
  /** Stops the worker (after its current batches) when aborted. */
  signal?: AbortSignal;
  /** How often the worker runs the vector store's upkeep (LanceDB compaction), in ms. Default 600,000. */
  maintainEveryMs?: number;
}

export interface DrainOptions {
  batchSize?: number;
  /** Also wait for jobs whose retry is scheduled in the future, up to `timeoutMs`. Default false. */
  waitForRetries?: boolean;
  /** Give up waiting after this long, in ms. Default 60,000. */
  timeoutMs?: number;
  /**
   * The time the whole drain may take, in ms (a serverless function's budget). No batch starts
   * that the longest batch so far says would end after it, and a batch still running when it
   * ends is aborted: its jobs go back to the queue at once, attempt refunded. Default: no budget.
   */
  budgetMs?: number;
  signal?: AbortSignal;
}

const drainOptions = z.strictObject({
  batchSize: z.number().int().min(1).max(1_000).optional(),
  waitForRetries: z.boolean().optional(),
  timeoutMs: z.number().int().min(0).max(86_400_000).optional(),
  budgetMs: z.number().int().min(0).max(86_400_000).optional(),
  signal: abortSignal.optional(),
});

/** Every option the types declare has its line in the schemas above and below (see Covered). */
export type WorkerOptionsCovered = [Covered<Unchecked<DrainOptions, typeof drainOptions>>, Covered<Unchecked<WorkerOptions, typeof workerOptions>>];

const workerOptions = z.strictObject({
  concurrency: z.number().int().min(1).max(64).optional(),
  batchSize: z.number().int().min(1).max(1_000).optional(),
  pollMs: z.number().int().min(1).max(3_600_000).optional(),
  signal: abortSignal.optional(),
  maintainEveryMs: z.number().int().min(0).max(7 * 86_400_000).optional(),
});

export interface DrainResult {
  /** Jobs leased and run (a job retried three times counts three times). */
  readonly processed: number;
  readonly done: number;
  readonly retried: number;
  readonly dead: number;
}

/**
 * Runs outbox jobs: leases a batch (FOR UPDATE SKIP LOCKED, so any number of workers in any
 * number of processes can run side by side, and renewed while the worker runs it), indexes the
 * batch's documents together, runs deletes, purges and sweeps, then marks each job done,
 * schedules its retry with exponential backoff and jitter, or parks it as DEAD after its last
 * attempt or on an error no retry can fix.
 */
export class SyncWorker {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly deps: {
      queue: JobQueue;
      indexer: Indexer;
      deleter: Deleter;
      sweeper: Sweeper;
      logger: Logger;
      leaseMs: number;
      retry: JobRetryPolicy;
      /** The vector store's periodic upkeep. */
      maintain: () => Promise<void>;
      /** Throws when this process's index layout is not the recorded one (no job is leased then). */
      checkLayout: () => Promise<void>;
    },
  ) {}

  /** Runs every job that is due, batch after batch, until none is left (and, optionally, waits out retries). */
  async drain(options: DrainOptions = {}): Promise<DrainResult> {
    options = parseInput(drainOptions, options, "drain options");
    const total = { processed: 0, done: 0, retried: 0, dead: 0 };
    const started = Date.now();
    const budgetEnd = options.budgetMs === undefined ? Infinity : started + options.budgetMs;
    const deadline = Math.min(budgetEnd, started + (options.timeoutMs ?? 60_000));
    const budget = options.budgetMs === undefined ? undefined : AbortSignal.timeout(Math.max(0, options.budgetMs));
    const signal = budget && options.signal ? AbortSignal.any([options.signal, budget]) : (budget ?? options.signal);
    let longestBatchMs = 0;
    for (;;) {
      if (options.signal?.aborted) throw new AbortedError({ cause: options.signal.reason });
      if (Date.now() + longestBatchMs >= budgetEnd) return total;
      const batchStarted = Date.now();
      const result = await this.runBatch(options.batchSize ?? 32, undefined, signal);
      longestBatchMs = Math.max(longestBatchMs, Date.now() - batchStarted);
      add(total, result);
      // A busy queue on embedded stores never waits on I/O: let signals and timers in.
      await new Promise((resolve) => setImmediate(resolve));
      if (result.processed > 0) continue;
      if (!options.waitForRetries) return total;
      const next = await this.deps.queue.nextRunAt();
      if (next === undefined || Date.now() >= deadline) return total;
      await sleep(Math.max(10, Math.min(next.getTime() - Date.now(), deadline - Date.now(), 1_000)), options.signal);
    }
  }

  /** Runs jobs until `signal` aborts; idles `pollMs` when the queue is empty. Resolves once stopped. */
  async run(options: WorkerOptions = {}): Promise<DrainResult> {
    options = parseInput(workerOptions, options, "worker options");
    const total = { processed: 0, done: 0, retried: 0, dead: 0 };
    const maintainEveryMs = options.maintainEveryMs ?? 600_000;
    let nextUpkeep = Date.now() + maintainEveryMs;
    const lane = async () => {
      while (!options.signal?.aborted) {
        try {
          const result = await this.runBatch(options.batchSize ?? 32);
          add(total, result);
          if (Date.now() >= nextUpkeep) {
            nextUpkeep = Date.now() + maintainEveryMs;
            await this.deps.maintain();
          }
          if (result.processed === 0) await sleep(options.pollMs ?? 1_000, options.signal);
          else await new Promise((resolve) => setImmediate(resolve));
        } catch (error) {
          if (error instanceof AbortedError) return;
          // Another configuration owns the index: running on would write where searches do not look.
          if (error instanceof EmbedderMismatchError || error instanceof IndexLayoutMismatchError) throw error;
          // The database itself failed: back off and keep going; leased jobs come back when their lease ends.
          this.deps.logger.error("sync worker batch failed", { error });
          await sleep(options.pollMs ?? 1_000, options.signal).catch(() => undefined);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, lane));
    return total;
  }

  /** Leases and runs one batch of due jobs (optionally only these ids): a single attempt each. */
  runOnce(options: { batchSize?: number; only?: readonly string[] } = {}): Promise<DrainResult> {
    return this.runBatch(options.batchSize ?? 32, options.only);
  }

  private async runBatch(limit: number, only?: readonly string[], signal?: AbortSignal): Promise<DrainResult> {
    const { queue, leaseMs } = this.deps;
    await this.deps.checkLayout();
    const jobs = await queue.lease(this.owner, limit, leaseMs, only);
    const result = { processed: jobs.length, done: 0, retried: 0, dead: 0 };
    if (jobs.length === 0) return result;
    const started = performance.now();
    return inSpan("dualstore.worker.batch", { "dualstore.jobs": jobs.length, "dualstore.document.ids": jobs.map((job) => job.documentId) }, async (span) => {
      try {
        return await this.runLeased(jobs, result, signal);
      } finally {
        span.set({ "dualstore.jobs.done": result.done, "dualstore.jobs.retried": result.retried, "dualstore.jobs.dead": result.dead });
        metric.duration("dualstore.worker.batch.duration", performance.now() - started, {});
      }
    });
  }

  private async runLeased(jobs: LeasedJob[], result: { processed: number; done: number; retried: number; dead: number }, signal: AbortSignal | undefined): Promise<DrainResult> {
    const { queue, leaseMs } = this.deps;
    // A live worker keeps its jobs however long their runs take (each run holds its documents'
    // leases only while it makes progress); a dead one's come back to the queue after a lease.
    const heartbeat = setInterval(() => {
      queue.renew(jobs.map((job) => job.id), this.owner, leaseMs).catch((error: unknown) => this.deps.logger.warn("could not renew sync job leases", { error }));
    }, leaseMs / 3);
    heartbeat.unref();
    try {
      await this.runJobs(jobs, result, signal);
    } finally {
      clearInterval(heartbeat);
    }
    return result;
  }

  private async runJobs(jobs: LeasedJob[], result: { done: number; retried: number; dead: number }, signal?: AbortSignal): Promise<void> {
    const { queue } = this.deps;
    const settle = async (job: LeasedJob, error?: unknown) => {
      if (error === undefined) {
        await queue.complete([job.id], this.owner);
        result.done++;
        metric.jobs(1, { kind: job.kind, outcome: "done" });
        if (job.kind !== "SWEEP") metric.syncLag(Date.now() - new Date(job.createdAt).getTime(), { kind: job.kind });
      } else if (error instanceof BusyError || error instanceof AbortedError) {
        await queue.retry(job, this.owner, { runAt: new Date(Date.now() + 500), refund: true });
        result.retried++;
        metric.jobs(1, { kind: job.kind, outcome: "retried" });
      } else {
        const dead = !isTransient(error) || job.attempts >= (this.deps.retry.maxAttempts ?? 8);
        const message = redactAndClip(error instanceof Error ? error.message : String(error), 2_000);
        // A server that asked for a longer wait than the call would take (Retry-After) gets it here.
        const retryAfter = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
        const runAt = new Date(Date.now() + Math.max(this.backoff(job.attempts), retryAfter));
        await queue.retry(job, this.owner, { runAt, error: message, dead });
        metric.jobs(1, { kind: job.kind, outcome: dead ? "dead" : "retried" });
        if (dead) {
          result.dead++;
          this.deps.logger.error("sync job moved to dead letters", { jobId: job.id, kind: job.kind, documentId: job.documentId, error: message });
        } else result.retried++;
      }
    };

    const indexJobs = jobs.filter((job) => job.kind === "INDEX");
    if (indexJobs.length > 0) {
      const documentIds = [...new Set(indexJobs.map((job) => job.documentId))];
      await queue.coalesce(documentIds, indexJobs.map((job) => job.id));
      let outcomes: Map<string, IndexOutcome> | undefined;
      let failure: unknown;
      try {
        outcomes = new Map((await this.deps.indexer.run(documentIds, { signal })).map((o) => [o.documentId, o]));
      } catch (error) {
        failure = error;
      }
      for (const job of indexJobs) {
        const outcome = outcomes?.get(job.documentId);
        if (!outcome) await settle(job, failure);
        else if (outcome.status === "busy") await settle(job, new BusyError(job.documentId, "another sync run holds it"));
        else await settle(job, outcome.status === "failed" ? outcome.error : undefined);
      }
    }
    for (const job of jobs.filter((j) => j.kind !== "INDEX")) {
      try {
        if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
        if (job.kind === "DELETE") await this.deps.deleter.delete(job.documentId, { signal });
        else if (job.kind === "SWEEP") await this.deps.sweeper.sweep(job.documentId, job.namespace ?? "");
        else await this.deps.deleter.purge(job.documentId, job.namespace ?? "", signal);
        await settle(job);
      } catch (error) {
        await settle(job, error instanceof NotFoundError ? undefined : error);
      }
    }
  }

  private backoff(attempts: number): number {
    const base = this.deps.retry.baseDelayMs ?? 1_000;
    const max = this.deps.retry.maxDelayMs ?? 300_000;
    return Math.round(Math.min(max, base * 2 ** Math.max(0, attempts - 1)) * (0.5 + Math.random()));
  }
}

/** Whether a later attempt could succeed: provider trouble that says so, database trouble, and unknown errors. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ProviderError) return error.retryable;
  if (error instanceof DatabaseError || error instanceof BusyError || error instanceof AbortedError || error instanceof LeaseLostError) return true;
  if (error instanceof IndexingError) return error.cause !== undefined && !(error.cause instanceof DualstoreError);
  return !(error instanceof DualstoreError);
}

function add(total: { processed: number; done: number; retried: number; dead: number }, part: DrainResult): void {
  total.processed += part.processed;
  total.done += part.done;
  total.retried += part.retried;
  total.dead += part.dead;
}
