/**
 * The side-by-side run: for each repetition, a fresh PostgreSQL schema and a fresh Pinecone index
 * per library, both runner processes started, then every scenario in turn, alternating which
 * library goes first (by scenario and repetition) so that neither always runs on a warmer or
 * colder machine. Server logs are read and emptied after every step, so each count belongs to
 * one library and one scenario.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { distReady, RunnerProcess } from "./child.js";
import type { Corpus, CorpusStats } from "./corpus.js";
import { SCENARIOS, type RunnerConfig, type Scenario, type Splitter, type StepReport } from "./protocol.js";
import { EMBEDDING_MODEL, type BenchServers, type ServerCounts, type VectorRequestCounts } from "./servers.js";
import { median, percentile, ratio } from "./stats.js";

export const LIBRARIES = ["dualstore", "langchain"] as const;
export type Library = (typeof LIBRARIES)[number];

const SCRIPTS: Record<Library, URL> = {
  dualstore: new URL("./dualstore-runner.ts", import.meta.url),
  langchain: new URL("./peer/langchain-runner.ts", import.meta.url),
};

/** One library, one scenario, one repetition. Search counts are per query. */
export interface Measurement {
  /** Whole scenario; for search, the median latency of one query. */
  wallMs: number;
  /**
   * Wall time with no request in flight at the Pinecone or OpenAI server: the library's own
   * work and its PostgreSQL round trips. For search, the mean per query.
   */
  outsideServersMs: number;
  embedRequests: number;
  textsEmbedded: number;
  vectorRequests: VectorRequestCounts;
  sql: number;
  /** Summed durations of those statements, ms (per query for search). */
  sqlMs: number;
  /** Peak RSS of the library's process so far (it only grows over the scenarios), MiB. */
  peakRssMb: number;
  /** V8 heap still in use after a full GC at the end of the scenario, MiB. */
  heapAfterGcMb: number;
  detail: Record<string, number>;
  latency?: { medianMs: number; p95Ms: number; queries: number };
}

export interface Summary {
  wallMs: number;
  outsideServersMs: number;
  embedRequests: number;
  textsEmbedded: number;
  vectorRequests: number;
  vectorByEndpoint: Omit<VectorRequestCounts, "total" | "bytes" | "upserted">;
  vectorsUpserted: number;
  sql: number;
  sqlMs: number;
  peakRssMb: number;
  heapAfterGcMb: number;
  p95Ms?: number;
}

export type Ratios = Partial<Record<"wallMs" | "outsideServersMs" | "embedRequests" | "textsEmbedded" | "vectorRequests" | "sql" | "peakRssMb", number>>;

export interface ScenarioResult {
  runs: Record<Library, Measurement[]>;
  median: Record<Library, Summary>;
  /** dualstore / LangChain, on the medians; absent where LangChain's figure is 0. */
  ratio: Ratios;
}

export interface SizeResult {
  size: number;
  runs: number;
  /** LangChain's splitter settings (characters). */
  splitter: Splitter;
  corpus: CorpusStats;
  /** Peak RSS right after setup (libraries loaded, connections open), MiB, median over runs. */
  baselineRssMb: Record<Library, number>;
  /** sha256 (first 12 hex digits) of dist/index.js at the start of each run: the dualstore build measured. */
  dualstoreBuild: string[];
  /** The machine's 1-minute load average at the start of each run (it is shared; wall times move with it). */
  loadAverage: number[];
  /** Vectors each library's index held at the end of each run (a sanity check). */
  vectorsAtEnd: Record<Library, number[]>;
  scenarios: Record<Scenario, ScenarioResult>;
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

function measurement(report: StepReport, counts: ServerCounts, scenario: Scenario): Measurement {
  const queries = scenario === "search" ? (report.latenciesMs?.length ?? 1) : 1;
  const per = (value: number) => Math.round((value / queries) * 100) / 100;
  const vector = Object.fromEntries(Object.entries(counts.vectorStore).map(([key, value]) => [key, per(value)])) as unknown as VectorRequestCounts;
  return {
    wallMs: scenario === "search" ? median(report.latenciesMs ?? []) : Math.round(report.wallMs * 10) / 10,
    outsideServersMs:
      scenario === "search"
        ? Math.round(((report.latenciesMs ?? []).reduce((sum, ms) => sum + ms, 0) - counts.busyMs) / queries * 10) / 10
        : Math.round((report.wallMs - counts.busyMs) * 10) / 10,
    embedRequests: per(counts.embedder.requests),
    textsEmbedded: per(counts.embedder.texts),
    vectorRequests: vector,
    sql: per(report.sql),
    sqlMs: Math.round((report.sqlMs / queries) * 10) / 10,
    peakRssMb: mb(report.maxRssKb),
    heapAfterGcMb: mb(report.heapAfterGcKb),
    detail: report.detail,
    ...(report.latenciesMs
      ? { latency: { medianMs: median(report.latenciesMs), p95Ms: percentile(report.latenciesMs, 95), queries: report.latenciesMs.length } }
      : {}),
  };
}

function summarize(runs: Measurement[]): Summary {
  const m = (pick: (run: Measurement) => number) => median(runs.map(pick));
  return {
    wallMs: m((r) => r.wallMs),
    outsideServersMs: m((r) => r.outsideServersMs),
    embedRequests: m((r) => r.embedRequests),
    textsEmbedded: m((r) => r.textsEmbedded),
    vectorRequests: m((r) => r.vectorRequests.total),
    vectorByEndpoint: {
      upsert: m((r) => r.vectorRequests.upsert),
      query: m((r) => r.vectorRequests.query),
      delete: m((r) => r.vectorRequests.delete),
      list: m((r) => r.vectorRequests.list),
      fetch: m((r) => r.vectorRequests.fetch),
      other: m((r) => r.vectorRequests.other),
    },
    vectorsUpserted: m((r) => r.vectorRequests.upserted),
    sql: m((r) => r.sql),
    sqlMs: m((r) => r.sqlMs),
    peakRssMb: m((r) => r.peakRssMb),
    heapAfterGcMb: m((r) => r.heapAfterGcMb),
    ...(runs[0]?.latency ? { p95Ms: m((r) => r.latency!.p95Ms) } : {}),
  };
}

function ratios(a: Summary, b: Summary): Ratios {
  const out: Ratios = {};
  for (const key of ["wallMs", "outsideServersMs", "embedRequests", "textsEmbedded", "vectorRequests", "sql", "peakRssMb"] as const) {
    const value = ratio(a[key], b[key]);
    if (value !== undefined) out[key] = Math.round(value * 1000) / 1000;
  }
  return out;
}

export interface CompareOptions {
  readonly servers: BenchServers;
  readonly databaseUrl: string;
  readonly corpus: Corpus;
  readonly runs: number;
  readonly splitter: Splitter;
  readonly log: (line: string) => void;
}

export async function compare({ servers, databaseUrl, corpus, runs, splitter, log }: CompareOptions): Promise<SizeResult> {
  const size = corpus.documents.length;
  const corpusPath = join(tmpdir(), `dualstore-bench-corpus-${size}-${process.pid}.json`);
  writeFileSync(corpusPath, JSON.stringify(corpus));
  const collected = Object.fromEntries(SCENARIOS.map((s) => [s, { dualstore: [], langchain: [] }])) as unknown as Record<Scenario, Record<Library, Measurement[]>>;
  const baseline: Record<Library, number[]> = { dualstore: [], langchain: [] };
  const vectorsAtEnd: Record<Library, number[]> = { dualstore: [], langchain: [] };
  const loadAverage: number[] = [];
  const builds: string[] = [];
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    for (let run = 0; run < runs; run++) {
      const tag = `${size}_${run}_${randomBytes(3).toString("hex")}`;
      loadAverage.push(Math.round(loadavg()[0]! * 100) / 100);
      builds.push(await distReady());
      const processes = new Map<Library, RunnerProcess>();
      const names: Record<Library, { schema: string; index: string }> = {
        dualstore: { schema: `bench_ds_${tag}`, index: `ds-${tag.replace(/_/g, "-")}` },
        langchain: { schema: `bench_lc_${tag}`, index: `lc-${tag.replace(/_/g, "-")}` },
      };
      try {
        for (const library of LIBRARIES) {
          const host = await servers.createIndex(names[library].index);
          const config: RunnerConfig = {
            corpusPath,
            databaseUrl,
            schema: names[library].schema,
            pinecone: { apiKey: servers.pinecone.apiKey, indexName: names[library].index, host },
            openai: { apiKey: servers.openai.apiKey, baseURL: `${servers.openai.url}/v1`, model: EMBEDDING_MODEL },
            splitter,
          };
          const child = new RunnerProcess(library, SCRIPTS[library]);
          processes.set(library, child);
          const opened = await child.send({ type: "open", config });
          baseline[library].push(mb(opened.maxRssKb));
        }
        servers.takeCounts(); // setup traffic (index checks, migrations) is not part of any scenario
        for (const [i, scenario] of SCENARIOS.entries()) {
          const order: Library[] = (run + i) % 2 === 0 ? ["dualstore", "langchain"] : ["langchain", "dualstore"];
          const line: string[] = [];
          for (const library of order) {
            const report = await processes.get(library)!.send({ type: "run", scenario });
            const result = measurement(report, servers.takeCounts(), scenario);
            collected[scenario][library].push(result);
            line.push(`${library} ${scenario === "search" ? `${result.wallMs.toFixed(1)} ms/query` : `${(result.wallMs / 1000).toFixed(2)} s`}`);
          }
          log(`  size ${size}, run ${run + 1}/${runs}, ${scenario}: ${line.join(", ")}`);
        }
        for (const library of LIBRARIES) vectorsAtEnd[library].push(servers.pinecone.storedVectors(names[library].index).length);
      } finally {
        await Promise.all([...processes.values()].map((child) => child.stop().catch(() => child.kill())));
        for (const library of LIBRARIES) {
          await servers.deleteIndex(names[library].index).catch(() => undefined);
          await admin.query(`DROP SCHEMA IF EXISTS "${names[library].schema}" CASCADE`);
        }
      }
    }
  } finally {
    await admin.end();
    rmSync(corpusPath, { force: true });
  }
  const scenarios = Object.fromEntries(
    SCENARIOS.map((scenario) => {
      const runsOf = collected[scenario];
      const medians = { dualstore: summarize(runsOf.dualstore), langchain: summarize(runsOf.langchain) };
      return [scenario, { runs: runsOf, median: medians, ratio: ratios(medians.dualstore, medians.langchain) }];
    }),
  ) as Record<Scenario, ScenarioResult>;
  return {
    size,
    runs,
    splitter,
    corpus: corpus.stats,
    baselineRssMb: { dualstore: median(baseline.dualstore), langchain: median(baseline.langchain) },
    loadAverage,
    dualstoreBuild: builds,
    vectorsAtEnd,
    scenarios,
  };
}
