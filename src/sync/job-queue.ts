import { randomUUID } from "node:crypto";
import { qualifiedName } from "../db/driver.js";
import type { PrismaClient, TransactionClient } from "../db/prisma.js";

export type SyncJobKind = "INDEX" | "DELETE" | "PURGE" | "SWEEP";

export interface LeasedJob {
  readonly id: string;
  readonly kind: SyncJobKind;
  readonly documentId: string;
  readonly namespace: string | null;
  /** Attempts including this one. */
  readonly attempts: number;
  /** When the job was enqueued (its sync lag runs from here). */
  readonly createdAt: Date;
}

/** ADR-002's sync monitoring figures. */
export interface SyncStats {
  /** Jobs a worker could take now: pending ones whose time has come, and running ones whose worker's lease ran out. */
  readonly due: number;
  readonly pending: number;
  readonly running: number;
  /** Pending jobs that already failed at least once (waiting for their retry). */
  readonly retrying: number;
  readonly dead: number;
  readonly done: number;
  /** Age of the oldest job still to run, in ms: the sync lag (sweeps, which no write waits for, left out). 0 when none. */
  readonly oldestPendingMs: number;
  /** Failed attempts over all attempts of jobs touched in the last hour, 0..1. */
  readonly failureRate: number;
}

/** The outbox table's SQL. Enqueues run inside the caller's transaction; leases skip rows other workers hold. */
export class JobQueue {
  private readonly table: string;
  private readonly documentTable: string;
  private readonly statusType: string;
  private readonly kindType: string;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
  ) {
    this.table = qualifiedName(schema, "SyncJob");
    this.documentTable = qualifiedName(schema, "Document");
    this.statusType = qualifiedName(schema, "SyncJobStatus");
    this.kindType = qualifiedName(schema, "SyncJobKind");
  }

  /** Adds jobs in `client`'s transaction (or on their own). */
  async enqueue(client: TransactionClient | PrismaClient, kind: SyncJobKind, documentIds: readonly string[], namespace?: string): Promise<void> {
    if (documentIds.length === 0) return;
    await client.syncJob.createMany({ data: documentIds.map((documentId) => ({ kind, documentId, namespace: namespace ?? null })) });
  }

  /** In a user delete's transaction: a PURGE job for every document of the user, before their rows are deleted. */
  async enqueueUserPurge(tx: TransactionClient, userId: string, namespaceOf: (row: { vectorNamespace: string | null }) => string): Promise<string[]> {
    const documents = await tx.document.findMany({ where: { userId, sourceName: null }, select: { id: true, vectorNamespace: true } });
    if (documents.length === 0) return [];
    const jobs = await tx.syncJob.createManyAndReturn({
      data: documents.map((d) => ({ kind: "PURGE" as const, documentId: d.id, namespace: namespaceOf(d) })),
      select: { id: true },
    });
    return jobs.map((job) => job.id);
  }

  /**
   * Schedules SWEEP jobs: each deletes what its document's row does not list from a namespace,
   * once the writes that may still land there have landed. Due times are counted on the
   * database's clock, which every lease uses.
   */
  async enqueueSweeps(sweeps: ReadonlyArray<{ documentId: string; namespace: string; delayMs: number }>): Promise<void> {
    if (sweeps.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `INSERT INTO ${this.table} (id, kind, "documentId", namespace, "runAt", "updatedAt")
       SELECT x.id, 'SWEEP'::${this.kindType}, x."documentId", x.namespace, now() + make_interval(secs => x."delayMs" / 1000), now()
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, "documentId" text, namespace text, "delayMs" float8)`,
      JSON.stringify(sweeps.map((sweep) => ({ id: randomUUID(), ...sweep }))),
    );
  }

  /** Extends the lease of jobs `owner` still holds (a worker alive and running them). */
  async renew(ids: readonly string[], owner: string, leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.table} SET "leaseUntil" = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = ANY($1::text[]) AND "leaseOwner" = $2 AND status = 'RUNNING'`,
      [...ids],
      owner,
      leaseMs,
    );
  }

  /**
   * Leases up to `limit` runnable jobs for `owner`: pending ones whose time has come, and running
   * ones whose worker let the lease expire (it died). Each lease counts as an attempt.
   *
   * Jobs are taken in turns across document owners (their document's `userId`; public documents
   * and purged ones share a turn): an owner's jobs that workers hold count as its first turns, then
   * its due jobs oldest first; a lease takes every owner's turn before anyone's next one, owners in
   * the same turn drawn at random. So with at most `limit` owners waiting, each one's oldest due job
   * is in the next lease, however many jobs another owner has queued; with more, while leased jobs
   * still run, every owner gets a job within ⌈owners / limit⌉ leases.
   */
  lease(owner: string, limit: number, leaseMs: number, only?: readonly string[]): Promise<LeasedJob[]> {
    const due = `((j.status = 'PENDING' AND j."runAt" <= now()) OR (j.status = 'RUNNING' AND j."leaseUntil" < now()))`;
    const held = `(j.status = 'RUNNING' AND j."leaseUntil" >= now())`;
    // Candidates number a few batches: rows that workers leasing at the same moment hold are skipped.
    return this.prisma.$queryRawUnsafe<LeasedJob[]>(
      `WITH turns AS (
         SELECT j.id, ${due} AS due, row_number() OVER (PARTITION BY d."userId" ORDER BY ${held} DESC, j."runAt", j.id) AS turn
           FROM ${this.table} j LEFT JOIN ${this.documentTable} d ON d.id = j."documentId"
          WHERE (${due} AND ($4::text[] IS NULL OR j.id = ANY($4::text[]))) OR ${held}
       ), candidates AS (
         SELECT id, turn, random() AS draw FROM turns WHERE due ORDER BY turn, draw LIMIT $2 * 8
       ), picked AS (
         SELECT j.id FROM ${this.table} j JOIN candidates c ON c.id = j.id
          WHERE ${due}
          ORDER BY c.turn, c.draw LIMIT $2 FOR UPDATE OF j SKIP LOCKED
       )
       UPDATE ${this.table} j SET status = 'RUNNING', "leaseOwner" = $1, "leaseUntil" = now() + make_interval(secs => $3::float8 / 1000),
              attempts = j.attempts + 1, "updatedAt" = now()
         FROM picked WHERE j.id = picked.id
       RETURNING j.id, j.kind::text AS kind, j."documentId", j.namespace, j.attempts, j."createdAt"`,
      owner,
      limit,
      leaseMs,
      only ? [...only] : null,
    );
  }

  /** Marks other waiting INDEX jobs of these documents done: the run about to start covers them. */
  async coalesce(documentIds: readonly string[], leased: readonly string[]): Promise<void> {
    if (documentIds.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.table} SET status = 'DONE', "finishedAt" = now(), "lastError" = 'coalesced', "updatedAt" = now()
        WHERE kind = 'INDEX' AND status = 'PENDING' AND "documentId" = ANY($1::text[]) AND NOT (id = ANY($2::text[]))`,
      [...documentIds],
      [...leased],
    );
  }

  async complete(ids: readonly string[], owner: string): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.table} SET status = 'DONE', "finishedAt" = now(), "leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = now()
        WHERE id = ANY($1::text[]) AND "leaseOwner" = $2`,
      [...ids],
      owner,
    );
  }

  /**
   * Puts a job back for another attempt at `runAt` with its error, or parks it as DEAD when
   * `dead`. `refund` gives the attempt back (the job never really ran, e.g. the document was busy).
   */
  async retry(job: LeasedJob, owner: string, update: { runAt: Date; error?: string; dead?: boolean; refund?: boolean }): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.table} SET status = $3::text::${this.statusType}, "runAt" = $4, "lastError" = COALESCE($5, "lastError"),
              attempts = attempts - $6, "leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = now(),
              "finishedAt" = CASE WHEN $3 = 'DEAD' THEN now() END
        WHERE id = $1 AND "leaseOwner" = $2`,
      job.id,
      owner,
      update.dead ? "DEAD" : "PENDING",
      update.runAt,
      update.error ?? null,
      update.refund ? 1 : 0,
    );
  }

  /** When the next waiting (or running) job is due; undefined when there is none. */
  async nextRunAt(): Promise<Date | undefined> {
    const job = await this.prisma.syncJob.findFirst({
      where: { status: { in: ["PENDING", "RUNNING"] } },
      orderBy: { runAt: "asc" },
      select: { runAt: true, status: true, leaseUntil: true },
    });
    if (!job) return undefined;
    return job.status === "RUNNING" ? (job.leaseUntil ?? new Date()) : job.runAt;
  }

  /** Puts DEAD jobs back in the queue (all, or those of some documents). Returns how many. */
  async revive(documentIds?: readonly string[]): Promise<number> {
    const { count } = await this.prisma.syncJob.updateMany({
      where: { status: "DEAD", ...(documentIds ? { documentId: { in: [...documentIds] } } : {}) },
      data: { status: "PENDING", attempts: 0, runAt: new Date(), finishedAt: null },
    });
    return count;
  }

  /** Forgets finished jobs older than `olderThanMs`. */
  async prune(olderThanMs: number): Promise<number> {
    const { count } = await this.prisma.syncJob.deleteMany({
      where: { status: "DONE", finishedAt: { lt: new Date(Date.now() - olderThanMs) } },
    });
    return count;
  }

  async stats(): Promise<SyncStats> {
    const [row] = await this.prisma.$queryRawUnsafe<
      Array<{ due: number; pending: number; running: number; retrying: number; dead: number; done: number; oldest: number | null; failed: number; attempts: number }>
    >(
      `SELECT count(*) FILTER (WHERE (status = 'PENDING' AND "runAt" <= now()) OR (status = 'RUNNING' AND "leaseUntil" < now()))::int AS due,
              count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
              count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
              count(*) FILTER (WHERE status = 'PENDING' AND attempts > 0)::int AS retrying,
              count(*) FILTER (WHERE status = 'DEAD')::int AS dead,
              count(*) FILTER (WHERE status = 'DONE')::int AS done,
              (extract(epoch FROM now() - min("createdAt") FILTER (WHERE status IN ('PENDING', 'RUNNING') AND kind <> 'SWEEP')) * 1000)::float8 AS oldest,
              COALESCE(sum(CASE WHEN status = 'DONE' THEN attempts - 1 WHEN status = 'RUNNING' THEN attempts - 1 ELSE attempts END)
                FILTER (WHERE "updatedAt" > now() - interval '1 hour' AND "lastError" IS DISTINCT FROM 'coalesced'), 0)::int AS failed,
              COALESCE(sum(attempts) FILTER (WHERE "updatedAt" > now() - interval '1 hour' AND "lastError" IS DISTINCT FROM 'coalesced'), 0)::int AS attempts
         FROM ${this.table}`,
    );
    return {
      due: row?.due ?? 0,
      pending: row?.pending ?? 0,
      running: row?.running ?? 0,
      retrying: row?.retrying ?? 0,
      dead: row?.dead ?? 0,
      done: row?.done ?? 0,
      oldestPendingMs: Math.max(0, Math.round(row?.oldest ?? 0)),
      failureRate: row && row.attempts > 0 ? row.failed / row.attempts : 0,
    };
  }
}
