/**
 * The production scenario (issue 16): tenants' documents written to PostgreSQL with
 * `sync.onWrite: "enqueue"` and indexed by several worker processes (production-worker.ts,
 * `runWorker()` of the built package), against the OpenAI and Pinecone protocol servers in a
 * process of their own, with the provider's rate limits and random faults on.
 *
 * A run, on a fresh schema and a fresh index:
 *   1. "tenants": the small tenants' documents arrive, owners interleaved (createMany, 250 a call);
 *      the run waits until every one is indexed.
 *   2. "bulk import": the large tenant's documents arrive at once (createMany, 1,000 a call); every
 *      `probeEveryMs` a small tenant edits one of its indexed documents (documents.update), and
 *      the edit's wait is its outbox job's enqueue -> done (both on the database's clock).
 *   3. The queue empties (sweeps included), the workers stop and report peak RSS and CPU time,
 *      faults go off, and `ds.reconcile()` compares the store with the rows.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { createDualstore, type Dualstore, type DualstoreOptions } from "dualstore";
import pg from "pg";
import { startProductionServers, type ProductionServerCounts } from "./production-servers.js";
import type { WorkerReport } from "./production-worker.js";
import { interleaved, probeEdit, type Workload } from "./production-workload.js";
import { machineTimes, percentile } from "./stats.js";

const WORKER = new URL("./production-worker.ts", import.meta.url);
export const EMBEDDING_MODEL = "text-embedding-3-small";

export interface ProductionSettings {
  readonly databaseUrl: string;
  readonly workers: number;
  readonly requestsPerMinute: number;
  readonly tokensPerMinute: number;
  readonly faultRate: number;
  /** Sent to OpenAI as `dimensions` (text-embedding-3 shortens its vectors). */
  readonly dimensions: number;
  readonly probeEveryMs: number;
  /** The rate limit shared through PostgreSQL (`sync.rateLimit`) on or off. */
  readonly flowControl: boolean;
  readonly leaseMs: number;
}

export interface PhaseResult {
  readonly documents: number;
  /** First write to last document indexed, ms. */
  readonly wallMs: number;
  readonly documentsPerSecond: number;
}

export interface ProductionRunResult {
  readonly label: string;
  readonly documents: number;
  readonly owners: number;
  readonly characters: number;
  readonly flowControl: boolean;
  readonly phases: { readonly tenants: PhaseResult; readonly bulk: PhaseResult };
  /** Every document, first write to last indexed. */
  readonly overall: PhaseResult;
  /** Enqueue -> indexed of each small tenant's edit made during the bulk import, ms. */
  readonly editWaitMs: {
    /** The longest any edit's job waited for a worker to lease it (polled every 250 ms; a job done between polls counts its whole wait), ms. */
    readonly leasedWithinMs: number;
    readonly count: number;
    readonly median: number;
    readonly p95: number;
    readonly max: number;
    readonly all: number[];
    /**
     * The slowest edits' jobs: attempts, the last error of a failed one, when a worker first
     * leased it and how many leases it took (seen by polling every 250 ms: a lease shorter than
     * that may be missed).
     */
    readonly slowest: Array<{ ms: number; attempts: number; lastError: string | null; leasedAfterMs: number | null; leases: number }>;
  };
  readonly chunks: number;
  readonly server: ProductionServerCounts;
  readonly workers: WorkerReport[];
  readonly reconcile: { readonly vectorsInStore: number; readonly vectorsRecorded: number; readonly orphans: number; readonly missing: number; readonly mismatched: number; readonly stuck: number; readonly listRequests: number; readonly fetchRequests: number };
  /** Documents not INDEXED at the end, and jobs parked as DEAD. */
  readonly notIndexed: number;
  readonly deadJobs: number;
  /** The usage ledger's totals (ds.usage()). */
  readonly ledger: { readonly tokens: number; readonly requests: number; readonly texts: number };
  readonly machine: { readonly busyPct: number; readonly load1Start: number; readonly load1End: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function phase(documents: number, wallMs: number): PhaseResult {
  return { documents, wallMs: Math.round(wallMs), documentsPerSecond: Math.round((documents / (wallMs / 1000)) * 10) / 10 };
}

interface WorkerHandle {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly report: Promise<WorkerReport>;
}

function startWorker(options: DualstoreOptions): WorkerHandle {
  // Node runs the worker's TypeScript itself (it imports only "dualstore" and Node's own modules).
  const child = fork(WORKER, [], { execArgv: [], env: { ...process.env, BENCH_WORKER_OPTIONS: JSON.stringify(options) }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const report = new Promise<WorkerReport>((resolve, reject) => {
    child.on("message", (message: "ready" | WorkerReport) => (message === "ready" ? onReady() : resolve(message)));
    child.once("exit", (code, signal) => reject(new Error(`worker ${child.pid} exited (${signal ?? code}) without a report`)));
  });
  return { child, ready: Promise.race([ready, report.then(() => undefined)]), report };
}

/** Runs the scenario once; `label` names it in the log and the results. */
export async function productionRun(label: string, settings: ProductionSettings, workload: Workload, log: (line: string) => void): Promise<ProductionRunResult> {
  const servers = await startProductionServers({ requestsPerMinute: settings.requestsPerMinute, tokensPerMinute: settings.tokensPerMinute, faultRate: settings.faultRate });
  const schema = `bench_production_${randomUUID().slice(0, 8)}`;
  const url = new URL(settings.databaseUrl);
  url.searchParams.set("schema", schema);
  const admin = new pg.Client({ connectionString: settings.databaseUrl });
  await admin.connect();
  let ds: Dualstore | undefined;
  const workers: WorkerHandle[] = [];
  try {
    const host = await servers.createIndex(`production-${schema.slice(-8)}`, settings.dimensions);
    const options: DualstoreOptions = {
      database: { url: url.toString() },
      embedder: { provider: "openai", apiKey: servers.openai.apiKey, baseURL: servers.openai.url, model: EMBEDDING_MODEL, dimensions: settings.dimensions },
      vectorStore: { provider: "pinecone", apiKey: servers.pinecone.apiKey, host },
      sync: {
        onWrite: "enqueue",
        namespacing: "per-user",
        leaseMs: settings.leaseMs,
        ...(settings.flowControl ? { rateLimit: { requestsPerMinute: settings.requestsPerMinute, tokensPerMinute: settings.tokensPerMinute } } : {}),
      },
    };
    // The parent creates the schema (migrations run once, at "deploy"), then the workers start.
    ds = await createDualstore({ ...options, env: {} });
    const store = ds;
    workers.push(...Array.from({ length: settings.workers }, () => startWorker(options)));
    await Promise.all(workers.map((worker) => worker.ready));
    const table = (name: string) => `"${schema}"."${name}"`;
    const indexedOf = async (userIds: readonly string[]) =>
      Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${table("Document")} WHERE "indexStatus" = 'INDEXED' AND "userId" = ANY($1)`, [userIds])).rows[0]!.n);
    const waitIndexed = async (userIds: readonly string[], expected: number, what: string) => {
      let last = -1;
      let lastChange = performance.now();
      for (;;) {
        const indexed = await indexedOf(userIds);
        if (indexed >= expected) return;
        if (indexed !== last) [last, lastChange] = [indexed, performance.now()];
        // Ten minutes without one more document indexed is a stall, not a slow run.
        if (performance.now() - lastChange > 600_000) throw new Error(`${label}: ${what} stalled at ${indexed}/${expected} indexed`);
        await sleep(500);
      }
    };
    const machineBefore = machineTimes();
    const load1Start = loadavg()[0]!;

    // 1. The small tenants' documents.
    const smallIds = workload.small.map((tenant) => tenant.id);
    const smallDocs = interleaved(workload.small);
    const started = performance.now();
    const written = new Map<string, Array<{ id: string; content: string }>>();
    for (let i = 0; i < smallDocs.length; i += 250) {
      const part = smallDocs.slice(i, i + 250);
      const created = await store.documents.createMany(part.map(({ userId, document }) => ({ userId, title: document.title, source: "api", content: document.content })));
      for (const doc of created) {
        const own = written.get(doc.userId!) ?? [];
        own.push({ id: doc.id, content: doc.content ?? "" });
        written.set(doc.userId!, own);
      }
    }
    log(`  ${label}: ${smallDocs.length} small-tenant documents written in ${((performance.now() - started) / 1000).toFixed(0)} s; indexing…`);
    await waitIndexed(smallIds, smallDocs.length, "the small tenants' documents");
    const tenantsDone = performance.now();
    log(`  ${label}: small tenants indexed in ${((tenantsDone - started) / 1000).toFixed(0)} s`);

    // 2. The bulk import, with small tenants' edits while it is queued.
    const bulkStarted = performance.now();
    const bulkStarted0 = new Date();
    const probes: Array<{ documentId: string; after: Date }> = [];
    let importing = true;
    const probing = (async () => {
      for (let n = 0; importing; n++) {
        const tenant = workload.small[n % workload.small.length]!;
        const docs = written.get(tenant.id)!;
        const target = docs[Math.floor(n / workload.small.length) % docs.length]!;
        const after = new Date(Date.now() - 1_000);
        await store.documents.update(target.id, { content: probeEdit(target.content, n + 1) });
        probes.push({ documentId: target.id, after });
        await sleep(settings.probeEveryMs);
      }
    })();
    // Each edit's job, watched every 250 ms: when a worker first leased it (the lease stamps
    // updatedAt) and how many leases it took (a busy document hands the job back, attempt refunded).
    const watched = new Map<string, { leasedAfterMs: number | null; leases: number; status: string }>();
    const watching = (async () => {
      const settled = () => watched.size >= probes.length && [...watched.values()].every((job) => job.status === "DONE" || job.status === "DEAD");
      let importEnded: number | undefined;
      // Watched until every edit's job is done (at most ten minutes past the import's writes).
      while (importing || (!settled() && performance.now() - (importEnded ??= performance.now()) < 600_000)) {
        const { rows } = await admin.query<{ documentId: string; status: string; ms: number }>(
          `SELECT "documentId", status::text AS status, (extract(epoch FROM "updatedAt" - "createdAt") * 1000)::float8 AS ms FROM ${table("SyncJob")}
            WHERE kind = 'INDEX' AND "documentId" = ANY($1) AND "createdAt" >= $2`,
          [probes.map((probe) => probe.documentId), new Date(bulkStarted0.getTime() - 1_000)],
        );
        for (const row of rows) {
          const job = watched.get(row.documentId) ?? { leasedAfterMs: null, leases: 0, status: "PENDING" };
          if (row.status === "RUNNING" && job.status !== "RUNNING") {
            job.leases++;
            job.leasedAfterMs ??= Math.round(row.ms);
          }
          job.status = row.status;
          watched.set(row.documentId, job);
        }
        await sleep(250);
      }
    })();
    try {
      const bulk = workload.bulk.documents;
      for (let i = 0; i < bulk.length; i += 1_000) {
        await store.documents.createMany(bulk.slice(i, i + 1_000).map((document) => ({ userId: workload.bulk.id, title: document.title, source: "upload", content: document.content })));
      }
      log(`  ${label}: bulk import of ${bulk.length} documents written in ${((performance.now() - bulkStarted) / 1000).toFixed(0)} s; indexing…`);
      // Edits keep coming while most of the import is still queued.
      const bulkIds = [workload.bulk.id];
      for (;;) {
        const indexed = await indexedOf(bulkIds);
        if (indexed >= bulk.length * 0.9) break;
        await sleep(1_000);
      }
    } finally {
      importing = false;
      await probing;
    }
    await watching;
    await waitIndexed([workload.bulk.id], workload.bulk.documents.length, "the bulk import");
    await waitIndexed(smallIds, smallDocs.length, "the small tenants' edits");
    const bulkDone = performance.now();
    log(`  ${label}: bulk import indexed in ${((bulkDone - bulkStarted) / 1000).toFixed(0)} s`);
    const machineAfter = machineTimes();
    const load1End = loadavg()[0]!;

    // Each edit's wait: its job, enqueued by the update, from enqueue to done.
    const waits: number[] = [];
    const slow: ProductionRunResult["editWaitMs"]["slowest"] = [];
    let leasedWithin = 0;
    for (const probe of probes) {
      for (let tries = 0; ; tries++) {
        const { rows } = await admin.query<{ ms: number | null; attempts: number; lastError: string | null }>(
          `SELECT (extract(epoch FROM "finishedAt" - "createdAt") * 1000)::float8 AS ms, attempts, "lastError" FROM ${table("SyncJob")}
            WHERE "documentId" = $1 AND kind = 'INDEX' AND "createdAt" >= $2 AND status = 'DONE' AND "lastError" IS DISTINCT FROM 'coalesced'
            ORDER BY "createdAt" LIMIT 1`,
          [probe.documentId, probe.after],
        );
        if (rows[0]?.ms != null) {
          waits.push(Math.round(rows[0].ms));
          const job = watched.get(probe.documentId);
          // A job done between two polls was leased before it was done: its wait bounds its lease.
          leasedWithin = Math.max(leasedWithin, job?.leasedAfterMs ?? Math.round(rows[0].ms));
          slow.push({ ms: Math.round(rows[0].ms), attempts: rows[0].attempts, lastError: rows[0].lastError?.slice(0, 300) ?? null, leasedAfterMs: job?.leasedAfterMs ?? null, leases: job?.leases ?? 0 });
          break;
        }
        if (tries > 120) throw new Error(`${label}: the edit of ${probe.documentId} has no finished job`);
        await sleep(500);
      }
    }
    waits.sort((a, b) => a - b);
    slow.sort((a, b) => b.ms - a.ms);

    // 3. Sweeps and retries run out, the workers stop, and the store is checked against the rows.
    const queueDeadline = performance.now() + settings.leaseMs + 180_000;
    for (;;) {
      const stats = await store.sync.stats();
      if (stats.pending === 0 && stats.running === 0) break;
      if (performance.now() > queueDeadline) {
        log(`  ${label}: queue not empty after the wait (${stats.pending} pending, ${stats.running} running)`);
        break;
      }
      await sleep(1_000);
    }
    for (const worker of workers) worker.child.send("stop");
    const reports = await Promise.all(workers.map((worker) => worker.report));
    await servers.faults(false);
    const server = await servers.counts();
    const report = await store.reconcile();
    // Reconcile's own requests: the figures above were taken before it ran.
    const afterReconcile = await servers.counts();
    const final = await store.sync.stats();
    const { rows: counts } = await admin.query<{ not_indexed: string; chunks: string }>(
      `SELECT count(*) FILTER (WHERE "indexStatus" <> 'INDEXED') AS not_indexed, COALESCE(sum("chunkCount"), 0) AS chunks FROM ${table("Document")}`,
    );
    const usage = await store.usage();
    const total = workload.bulk.documents.length + smallDocs.length;
    return {
      label,
      documents: total,
      owners: workload.small.length + 1,
      characters: workload.characters,
      flowControl: settings.flowControl,
      phases: { tenants: phase(smallDocs.length, tenantsDone - started), bulk: phase(workload.bulk.documents.length, bulkDone - bulkStarted) },
      overall: phase(total, bulkDone - started),
      editWaitMs: {
        leasedWithinMs: leasedWithin,
        count: waits.length, median: percentile(waits, 50), p95: percentile(waits, 95), max: waits.at(-1) ?? Number.NaN, all: waits, slowest: slow.slice(0, 5) },
      chunks: Number(counts[0]!.chunks),
      server,
      workers: reports,
      reconcile: {
        vectorsInStore: report.vectorsInStore,
        vectorsRecorded: report.vectorsRecorded,
        orphans: report.orphans.count,
        missing: report.missing.count,
        mismatched: report.mismatched.count,
        stuck: report.stuck.indexing.length + report.stuck.deleting.length,
        listRequests: afterReconcile.vectors.list - server.vectors.list,
        fetchRequests: afterReconcile.vectors.fetch - server.vectors.fetch,
      },
      notIndexed: Number(counts[0]!.not_indexed),
      deadJobs: final.dead,
      ledger: {
        tokens: usage.reduce((sum, row) => sum + row.tokens, 0),
        requests: usage.reduce((sum, row) => sum + row.requests, 0),
        texts: usage.reduce((sum, row) => sum + row.texts, 0),
      },
      machine: {
        busyPct: Math.round((1000 * (machineAfter.busy - machineBefore.busy)) / Math.max(1, machineAfter.total - machineBefore.total)) / 10,
        load1Start: Math.round(load1Start * 100) / 100,
        load1End: Math.round(load1End * 100) / 100,
      },
    };
  } finally {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGTERM");
    await ds?.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
    await servers.close();
  }
}
