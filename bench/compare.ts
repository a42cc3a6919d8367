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
import { isSearch, SCENARIO_LIBRARIES, SCENARIOS, type RunnerConfig, type Scenario, type Splitter, type StepReport } from "./protocol.js";
import { EMBEDDING_MODEL, type BenchServers, type ServerCounts, type VectorRequestCounts } from "./servers.js";
import { machineTimes, median, percentile, ratio } from "./stats.js";

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
   * CPU time (user + system) of the library's own process: its work, without the servers' or
   * PostgreSQL's, and without waits. For search, the mean per query.
   */
  cpuMs: number;
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
  /** CPU time of the servers' process during the step, ms (per query for search). */
  serverCpuMs: number;
  /** The machine during the step: share of all cores busy (every process), and the 1-minute load average at its end. */
  machine: { busyPct: number; load1: number };
  detail: Record<string, number>;
  queries?: { count: number; wallMedianMs: number; wallP95Ms: number; cpuMedianMs: number; cpuP95Ms: number };
}

export interface Summary {
  wallMs: number;
  cpuMs: number;
  embedRequests: number;
  textsEmbedded: number;
  vectorRequests: number;
  vectorByEndpoint: Omit<VectorRequestCounts, "total" | "bytes" | "upserted">;
  /** Embedding and vector-store requests together. */
  requests: number;
  vectorsUpserted: number;
  /** Upsert request bodies, MiB (per query for search: the query bodies). */
  vectorRequestMb: number;
  sql: number;
  sqlMs: number;
  peakRssMb: number;
  heapAfterGcMb: number;
  serverCpuMs: number;
  machineBusyPct: number;
  queries?: { wallP95Ms: number; cpuMedianMs: number; cpuP95Ms: number };
}

export type Ratios = Partial<Record<"wallMs" | "cpuMs" | "embedRequests" | "textsEmbedded" | "vectorRequests" | "requests" | "sql" | "peakRssMb", number>>;

export interface ScenarioResult {
  runs: Record<Library, Measurement[]>;
  /** Absent for a library that does not run the scenario (see SCENARIO_LIBRARIES). */
  median: Partial<Record<Library, Summary>>;
  /** dualstore / LangChain, on the medians; absent where LangChain's figure is 0 or LangChain does not run the scenario. */
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
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function measurement(report: StepReport, counts: ServerCounts, scenario: Scenario, machine: Measurement["machine"]): Measurement {
  const queries = report.queries;
  const n = isSearch(scenario) ? (queries?.wallMs.length ?? 1) : 1;
  const per = (value: number) => round(value / n, 2);
  const vector = Object.fromEntries(Object.entries(counts.vectorStore).map(([key, value]) => [key, per(value)])) as unknown as VectorRequestCounts;
  return {
    wallMs: queries ? median(queries.wallMs) : round(report.wallMs),
    cpuMs: round(report.cpuMs / n, queries ? 3 : 1),
    embedRequests: per(counts.embedder.requests),
    textsEmbedded: per(counts.embedder.texts),
    vectorRequests: vector,
    sql: per(report.sql),
    sqlMs: round(report.sqlMs / n),
    peakRssMb: mb(report.maxRssKb),
    heapAfterGcMb: mb(report.heapAfterGcKb),
    serverCpuMs: round(counts.cpuMs / n, queries ? 3 : 1),
    machine,
    detail: report.detail,
    ...(queries
      ? {
          queries: {
            count: n,
            wallMedianMs: median(queries.wallMs),
            wallP95Ms: percentile(queries.wallMs, 95),
            cpuMedianMs: median(queries.cpuMs),
            cpuP95Ms: percentile(queries.cpuMs, 95),
          },
        }
      : {}),
  };
}

function summarize(runs: Measurement[]): Summary {
  const m = (pick: (run: Measurement) => number) => median(runs.map(pick));
  return {
    wallMs: m((r) => r.wallMs),
    cpuMs: m((r) => r.cpuMs),
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
      rejected: m((r) => r.vectorRequests.rejected),
    },
    requests: m((r) => r.embedRequests + r.vectorRequests.total),
    vectorsUpserted: m((r) => r.vectorRequests.upserted),
    vectorRequestMb: m((r) => round(r.vectorRequests.bytes / 2 ** 20, 2)),
    sql: m((r) => r.sql),
    sqlMs: m((r) => r.sqlMs),
    peakRssMb: m((r) => r.peakRssMb),
    heapAfterGcMb: m((r) => r.heapAfterGcMb),
    serverCpuMs: m((r) => r.serverCpuMs),
    machineBusyPct: m((r) => r.machine.busyPct),
    ...(runs[0]?.queries
      ? { queries: { wallP95Ms: m((r) => r.queries!.wallP95Ms), cpuMedianMs: m((r) => r.queries!.cpuMedianMs), cpuP95Ms: m((r) => r.queries!.cpuP95Ms) } }
      : {}),
  };
}

function ratios(a: Summary, b: Summary): Ratios {
  const out: Ratios = {};
  for (const key of ["wallMs", "cpuMs", "embedRequests", "textsEmbedded", "vectorRequests", "requests", "sql", "peakRssMb"] as const) {
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
        await servers.takeCounts(); // setup traffic (index checks, migrations) is not part of any scenario
        for (const [i, scenario] of SCENARIOS.entries()) {
          const order = ((run + i) % 2 === 0 ? (["dualstore", "langchain"] as const) : (["langchain", "dualstore"] as const)).filter(
            (library) => SCENARIO_LIBRARIES[scenario]?.includes(library) ?? true,
          );
          const line: string[] = [];
          for (const library of order) {
            const before = machineTimes();
            const report = await processes.get(library)!.send({ type: "run", scenario });
            const after = machineTimes();
            const busyPct = round((100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total));
            const result = measurement(report, await servers.takeCounts(), scenario, { busyPct, load1: round(loadavg()[0]!, 2) });
            collected[scenario][library].push(result);
            const cpu = isSearch(scenario) ? `${result.cpuMs.toFixed(2)} ms CPU/query` : `${(result.cpuMs / 1000).toFixed(2)} s CPU`;
            const wall = isSearch(scenario) ? `${result.wallMs.toFixed(1)} ms wall` : `${(result.wallMs / 1000).toFixed(2)} s wall`;
            line.push(`${library} ${cpu}, ${wall}`);
          }
          log(`  size ${size}, run ${run + 1}/${runs}, ${scenario}: ${line.join(", ")}`);
        }
        for (const library of LIBRARIES) vectorsAtEnd[library].push(await servers.storedVectors(names[library].index));
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
      const medians: Partial<Record<Library, Summary>> = {};
      for (const library of LIBRARIES) if (runsOf[library].length > 0) medians[library] = summarize(runsOf[library]);
      const ratio = medians.dualstore && medians.langchain ? ratios(medians.dualstore, medians.langchain) : {};
      return [scenario, { runs: runsOf, median: medians, ratio }];
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
