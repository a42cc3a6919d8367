/**
 * How dualstore's time and memory grow with the corpus, without any peer: one fresh process per
 * (store, size), so each peak RSS belongs to one point. See scale-runner.ts for what a point does.
 */
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { distReady } from "./child.js";

export interface ScaleResult {
  store: string;
  documents: number;
  chunks: number;
  createMs: number;
  /** Through the pipeline; for pgvector, without its HNSW index (see scale-runner.ts). */
  indexMs: number;
  /** pgvector: building the HNSW index over the loaded table, and ANALYZE (absent in points measured before it was built apart). */
  hnswBuildMs?: number;
  reindexMs: number;
  /** Default (hybrid) search. */
  searchMedianMs: number;
  /** Vector-mode search (absent in points measured before it was). */
  vectorSearchMedianMs?: number;
  /** Lexical-mode search: the SQL side of a hybrid search alone (absent in earlier points). */
  lexicalSearchMedianMs?: number;
  /** Median CPU time of this process per search, by mode (PGlite's work included; absent in earlier points). */
  searchCpuMedianMs?: { hybrid: number; vector: number; lexical: number };
  peakRssMb: number;
  rssAfterMb: number;
  /** PGlite's data directory (with pgvector's table and HNSW index for the pgvector store). */
  diskMb: number;
  /** sha256 (first 12 hex digits) of the dist/index.js measured. */
  dualstoreBuild?: string;
  /** When the point was measured (results keep points from earlier runs). */
  date?: string;
}

const HOOKS = new URL("./hooks.ts", import.meta.url).href;
const SCRIPT = new URL("./scale-runner.ts", import.meta.url);

function point(store: string, size: number): Promise<ScaleResult> {
  const directory = mkdtempSync(join(tmpdir(), `dualstore-scale-${store}-${size}-`));
  return new Promise<ScaleResult>((resolve, reject) => {
    let result: ScaleResult | undefined;
    const child = fork(SCRIPT, [store, String(size), directory], { execArgv: ["--import", HOOKS], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.on("message", (message: ScaleResult) => (result = message));
    child.on("exit", (code) => {
      rmSync(directory, { recursive: true, force: true });
      if (result) resolve(result);
      else reject(new Error(`scale point ${store}/${size} exited with ${code} and no result`));
    });
  });
}

export const SCALE_STORES = ["pgvector", "memory"] as const;

export async function scale(sizes: readonly number[], stores: readonly string[], log: (line: string) => void): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const store of stores) {
    for (const size of sizes) {
      const started = performance.now();
      const build = await distReady();
      const result = { ...(await point(store, size)), dualstoreBuild: build };
      results.push(result);
      log(`  scale ${store} ${size}: index ${(result.indexMs / 1000).toFixed(1)} s, peak RSS ${result.peakRssMb} MiB (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
    }
  }
  return results;
}
