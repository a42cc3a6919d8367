/**
 * How bench/run.ts drives the library runners. Each library runs in a child process of its own
 * (so its peak RSS is its own), and the parent sends one step at a time: both children are
 * alive during a repetition, but only one works at any moment, so each server log and each
 * timing belongs to exactly one library.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { basename, join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import type { Corpus } from "./corpus.js";

export const SCENARIOS = ["index", "reindex", "edit", "delete", "search", "hybrid"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/**
 * Scenarios only some libraries run. "search" is the like-for-like comparison (a vector query,
 * hits hydrated from PostgreSQL, on both sides); "hybrid" is dualstore's default search, which
 * adds a lexical ranking in PostgreSQL that LangChain's side has no counterpart for.
 */
export const SCENARIO_LIBRARIES: Partial<Record<Scenario, readonly ("dualstore" | "langchain")[]>> = { hybrid: ["dualstore"] };

/** Scenarios measured per query. */
export const isSearch = (scenario: Scenario): boolean => scenario === "search" || scenario === "hybrid";

export const SCENARIO_TITLES: Record<Scenario, string> = {
  index: "first full index",
  reindex: "re-index, nothing changed",
  edit: "edit 10%, re-index",
  delete: "delete 10%, one by one",
  search: "search, topK 10 + hydration",
  hybrid: "hybrid search, topK 10 + hydration",
};

/**
 * LangChain's splitter settings, in characters (its default length function). The default is
 * matched to what dualstore's default chunker (512 approximate tokens, 50 overlap) produces on
 * this corpus, measured: dualstore's chunks average ~1,100 characters (~315 cl100k tokens),
 * RecursiveCharacterTextSplitter's at 1,000/100 ~810 (~232 tokens), at 2,000/200 ~1,690 (~486
 * tokens). `--lc-chunk 2000/200` runs the nominal 512-token equivalent.
 */
export const DEFAULT_LANGCHAIN_SPLITTER: Splitter = { chunkSize: 1_000, chunkOverlap: 100 };

/** Hits each search returns, in both libraries. */
export const SEARCH_TOP_K = 10;

/**
 * Documents per LangChain `index()` batch. Its default, 100, becomes one Pinecone upsert of 100
 * records (PineconeStore's fixed upsert size), and 100 dense 1,536-dimension vectors serialize
 * to about 3.2 MB, over Pinecone's 2 MB request limit: the upsert is refused ("Request size 4MB
 * exceeds the maximum supported size of 2MB"). A LangChain user lowers `batchSize` until it
 * passes; 50 (about 1.6 MB) is the round number that does with room for longer chunks.
 */
export const LANGCHAIN_INDEX_BATCH = 50;

export interface Splitter {
  readonly chunkSize: number;
  readonly chunkOverlap: number;
}

/** What a runner needs to reach the services, all on 127.0.0.1. */
export interface RunnerConfig {
  readonly corpusPath: string;
  readonly databaseUrl: string;
  /** A fresh PostgreSQL schema for this runner and repetition. */
  readonly schema: string;
  readonly pinecone: { readonly apiKey: string; readonly indexName: string; readonly host: string };
  readonly openai: { readonly apiKey: string; readonly baseURL: string; readonly model: string };
  /** LangChain only: RecursiveCharacterTextSplitter's settings. */
  readonly splitter: Splitter;
}

export type Command = { type: "open"; config: RunnerConfig } | { type: "run"; scenario: Scenario } | { type: "close" };

/** What a runner reports after a step. */
export interface StepReport {
  readonly wallMs: number;
  /** CPU time (user + system, all of the process's threads) the step took, ms: the library's own work. */
  readonly cpuMs: number;
  /** SQL statements sent to PostgreSQL during the step. */
  readonly sql: number;
  /** Their durations added up (from send to result, as the library sees them), ms. */
  readonly sqlMs: number;
  /** process.resourceUsage().maxRSS, in KiB: the process's peak so far. */
  readonly maxRssKb: number;
  /** Resident set size at the end of the step, in KiB. */
  readonly rssKb: number;
  /** V8 heap in use after a full GC at the end of the step (what the library still holds), in KiB. */
  readonly heapAfterGcKb: number;
  /** Library-specific figures: chunks, sub-phase timings, what the library said it did. */
  readonly detail: Record<string, number>;
  /** Per-query latencies and CPU times (search only). */
  readonly queries?: QueryTimes;
}

/** Each search query's wall time and the CPU time the library spent on it, ms. */
export interface QueryTimes {
  readonly wallMs: number[];
  readonly cpuMs: number[];
}

export type Reply = { type: "report"; report: StepReport } | { type: "error"; message: string };

/** What a scenario reports beyond its time and SQL count. */
export interface ScenarioOutcome {
  detail: Record<string, number>;
  queries?: QueryTimes;
}

/** A runner's steps: `open` is setup (not measured); each scenario is measured by the harness. */
export interface Runner {
  open(config: RunnerConfig, corpus: Corpus): Promise<void>;
  /** Runs one scenario; returns its details. The harness times it and counts SQL through `sql`. */
  run(scenario: Scenario): Promise<ScenarioOutcome>;
  /** SQL statements so far and their summed durations in ms (counters the runner keeps). */
  sql(): { count: number; ms: number };
  close(): Promise<void>;
}

/**
 * Memory figures, read after the step's clock stopped. Children run with --expose-gc.
 * BENCH_HEAP_SNAPSHOT=<directory> also writes a heap snapshot there after every step.
 */
function usage(step: string): { maxRssKb: number; rssKb: number; heapAfterGcKb: number } {
  const maxRssKb = process.resourceUsage().maxRSS;
  const rssKb = Math.round(process.memoryUsage.rss() / 1024);
  (globalThis as { gc?: () => void }).gc?.();
  const snapshots = process.env.BENCH_HEAP_SNAPSHOT;
  if (snapshots) writeHeapSnapshot(join(snapshots, `${basename(process.argv[1] ?? "runner", ".ts")}-${step}.heapsnapshot`));
  return { maxRssKb, rssKb, heapAfterGcKb: Math.round(process.memoryUsage().heapUsed / 1024) };
}

/** Serves the parent's commands over the IPC channel until `close`. */
export function serve(runner: Runner): void {
  const send = (reply: Reply) => process.send!(reply);
  process.on("message", (command: Command) => {
    void (async () => {
      try {
        if (command.type === "open") {
          const corpus = JSON.parse(readFileSync(command.config.corpusPath, "utf8")) as Corpus;
          const started = performance.now();
          await runner.open(command.config, corpus);
          send({ type: "report", report: { wallMs: performance.now() - started, cpuMs: 0, sql: 0, sqlMs: 0, ...usage("open"), detail: {} } });
        } else if (command.type === "run") {
          const profiler = await startProfile();
          const before = runner.sql();
          const cpu = process.cpuUsage();
          const started = performance.now();
          const { detail, queries } = await runner.run(command.scenario);
          const wallMs = performance.now() - started;
          const cpuMs = cpuSince(cpu);
          const after = runner.sql();
          await profiler?.(command.scenario);
          const sql = after.count - before.count;
          const sqlMs = Math.round((after.ms - before.ms) * 10) / 10;
          send({ type: "report", report: { wallMs, cpuMs, sql, sqlMs, ...usage(command.scenario), detail, ...(queries ? { queries } : {}) } });
        } else {
          await runner.close();
          send({ type: "report", report: { wallMs: 0, cpuMs: 0, sql: 0, sqlMs: 0, ...usage("close"), detail: {} } });
          process.disconnect();
        }
      } catch (error) {
        send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    })();
  });
}

let profiles = 0;

/**
 * BENCH_CPU_PROF=<directory>: a V8 CPU profile of each step, written there as
 * `<runner>-<step>-<n>.cpuprofile` once the step's figures are taken. Returns the function that
 * stops and writes it, or undefined when profiling is off.
 */
async function startProfile(): Promise<((step: string) => Promise<void>) | undefined> {
  const directory = process.env.BENCH_CPU_PROF;
  if (!directory) return undefined;
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async (step) => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    writeFileSync(join(directory, `${basename(process.argv[1] ?? "runner", ".ts")}-${step}-${++profiles}.cpuprofile`), JSON.stringify(profile));
  };
}

/** CPU milliseconds (user + system) since `from`, a process.cpuUsage() reading. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/**
 * Runs `search` for every query, one after another, timing each: wall time and the process's
 * CPU time. Both runners measure their queries with this, so the figures mean the same.
 */
export async function timeQueries(queries: readonly string[], search: (query: string) => Promise<number>): Promise<{ hits: number; times: QueryTimes }> {
  const times = { wallMs: [] as number[], cpuMs: [] as number[] };
  let hits = 0;
  for (const query of queries) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    hits += await search(query);
    times.wallMs.push(since(started));
    times.cpuMs.push(Math.round(cpuSince(cpu) * 1000) / 1000);
  }
  return { hits, times };
}

/** Milliseconds since `started`, rounded to 0.1 ms. */
export function since(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
