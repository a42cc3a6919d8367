/**
 * `npm run bench -- --sizes none --production`: issue 16's scale proof. First the same slice of
 * the workload twice, shared flow control off then on (the provider's 429 count side by side),
 * then the whole workload with it on. Prints the tables and writes bench/results/production.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { collectCandidates } from "./corpus.js";
import { EMBEDDING_MODEL, productionRun, type ProductionRunResult, type ProductionSettings } from "./production.js";
import { buildWorkload } from "./production-workload.js";
import { table } from "./report.js";

/**
 * The provider's limits, per minute: about an OpenAI tier-1/2 account's for text-embedding-3-small.
 * Tokens bind: unthrottled, four workers here index ~80-110 documents a second, about 3M tokens
 * a minute, in ~190 requests (a request carries a batch of 32 documents' chunks), so 1.5M tokens
 * a minute holds them to about half of what the machine could do, as during a real bulk import.
 */
const REQUESTS_PER_MINUTE = 3_000;
const TOKENS_PER_MINUTE = 1_500_000;
/** Share of requests to both services that fail at random (429, 500, dropped connection; Pinecone also half-applied upserts). */
const FAULT_RATE = 0.05;
/**
 * text-embedding-3-small shortened to 256 dimensions: the in-process Pinecone server keeps
 * vectors as arrays of JS numbers, and ~100,000 of them at 1,536 dimensions would be ~1.2 GB there.
 */
const DIMENSIONS = 256;
const PROBE_EVERY_MS = 2_000;
/** Short leases, so sweeps scheduled after uncertain writes (which wait a lease) run within the run. */
const LEASE_MS = 60_000;

export interface ProductionMainOptions {
  root: string;
  databaseUrl: string;
  documents: number;
  /** Documents in the flow-control on/off slice; 0 skips it. */
  slice: number;
  owners: number;
  workers: number;
  /** The provider's limits; default REQUESTS_PER_MINUTE and TOKENS_PER_MINUTE. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  machine: Record<string, unknown>;
  out: string;
  log: (line: string) => void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const n = (value: number) => value.toLocaleString("en-US");

export function productionTable(runs: readonly ProductionRunResult[]): string {
  const header = ["run", "documents", "docs/s", "small tenants / bulk docs/s", "429 (rate limit)", "faults injected", "embed req", "edit wait median / p95 / max", "edit leased within", "orphans / missing / mismatched", "not indexed / dead"];
  const rows = runs.map((r) => [
    r.label,
    n(r.documents),
    String(r.overall.documentsPerSecond),
    `${r.phases.tenants.documentsPerSecond} / ${r.phases.bulk.documentsPerSecond}`,
    n(r.server.embeddings.rateLimited),
    `${n(r.server.embeddings.injected)} + ${n(r.server.vectors.injected)}`,
    n(r.server.embeddings.requests),
    `${seconds(r.editWaitMs.median)} / ${seconds(r.editWaitMs.p95)} / ${seconds(r.editWaitMs.max)} (${r.editWaitMs.count})`,
    seconds(r.editWaitMs.leasedWithinMs),
    `${r.reconcile.orphans} / ${r.reconcile.missing} / ${r.reconcile.mismatched}`,
    `${r.notIndexed} / ${r.deadJobs}`,
  ]);
  return table(header, rows, 1);
}

export function workerTable(run: ProductionRunResult): string {
  const rows = run.workers.map((w, i) => [`worker ${i + 1}`, n(w.processed), n(w.retried), String(w.peakRssMb), (w.cpuMs / 1000).toFixed(1)]);
  return table(["process", "jobs run", "retried", "peak RSS MiB", "CPU s"], rows, 1);
}

export async function runProduction(options: ProductionMainOptions): Promise<void> {
  const { log } = options;
  const requestsPerMinute = options.requestsPerMinute ?? REQUESTS_PER_MINUTE;
  const tokensPerMinute = options.tokensPerMinute ?? TOKENS_PER_MINUTE;
  const settings = (flowControl: boolean): ProductionSettings => ({
    databaseUrl: options.databaseUrl,
    workers: options.workers,
    requestsPerMinute,
    tokensPerMinute,
    faultRate: FAULT_RATE,
    dimensions: DIMENSIONS,
    probeEveryMs: PROBE_EVERY_MS,
    flowControl,
    leaseMs: LEASE_MS,
  });
  log("Production scenario: collecting the corpus…");
  const candidates = collectCandidates(options.root);
  const runs: ProductionRunResult[] = [];
  const run = async (label: string, documents: number, flowControl: boolean) => {
    const workload = buildWorkload(candidates, documents, options.owners);
    log(`${label}: ${n(documents)} documents (${n(workload.characters)} characters), ${options.owners} owners (bulk import ${n(workload.bulk.documents.length)}), ${options.workers} worker processes`);
    const result = await productionRun(label, settings(flowControl), workload, log);
    runs.push(result);
    log(`\n${productionTable([result])}\n\n${workerTable(result)}\n`);
  };
  if (options.slice > 0) {
    await run(`slice, flow control off`, options.slice, false);
    await run(`slice, flow control on`, options.slice, true);
  }
  await run(`full, flow control on`, options.documents, true);
  console.log(`\n### Production scenario\n\n${productionTable(runs)}\n`);
  const results = {
    machine: options.machine,
    settings: {
      workers: options.workers,
      owners: options.owners,
      provider: { requestsPerMinute, tokensPerMinute, faultRate: FAULT_RATE },
      embeddings: `${EMBEDDING_MODEL} at ${DIMENSIONS} dimensions (the project's OpenAI protocol server, cl100k token counts)`,
      vectorStore: "the project's Pinecone protocol server, a namespace per owner (sync.namespacing per-user)",
      sync: { onWrite: "enqueue", leaseMs: LEASE_MS, worker: "runWorker() defaults (batch 32, concurrency 1) in each process" },
      probeEveryMs: PROBE_EVERY_MS,
    },
    runs,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`Results written to ${options.out}`);
}
