/**
 * One point of the scaling run, in a process of its own: dualstore alone, PGlite on disk, the
 * offline LocalEmbedder, and the pgvector or in-memory vector store. Writes `size` synthetic
 * documents (createMany, 500 a call), indexes them, re-indexes them unchanged, runs 20 searches
 * in the default (hybrid) mode and the same 20 in vector and lexical mode (each search's wall and
 * CPU time), and reports times and memory.
 *
 * pgvector's HNSW index is built once, after the first index run: the runner drops the index the
 * store created, indexes through the pipeline (same rows, same vectors), then runs the store's
 * own CREATE INDEX statement and ANALYZE. Inserting 100,000 vectors one by one into a live HNSW
 * graph in PGlite's WebAssembly took over an hour at 50,000 documents; building the graph over a
 * loaded table takes minutes. The index searched is the same either way.
 * Arguments: <store> <size> <directory>.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createDualstore } from "dualstore";
import type { ScaleResult } from "./scale.js";
import { median, seededRandom } from "./stats.js";

const [store = "pgvector", sizeText = "1000", directory = ""] = process.argv.slice(2);
if ((store !== "pgvector" && store !== "memory") || !directory) throw new Error("usage: scale-runner <pgvector|memory> <size> <directory>");
const size = Number(sizeText);

/** A seeded vocabulary of pronounceable words, drawn with a skew (common words recur, as in prose). */
function vocabulary(random: () => number, words: number): string[] {
  const syllables = ["ka", "lo", "mi", "ren", "sta", "vor", "qui", "tel", "dan", "sor", "pe", "ux", "bri", "mon", "zel", "ash", "ion", "gra", "fe", "tu"];
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    let word = "";
    const length = 1 + Math.floor(random() * 3);
    for (let s = 0; s < length; s++) word += syllables[Math.floor(random() * syllables.length)];
    out.push(word);
  }
  return out;
}

const random = seededRandom(20_260_101);
const words = vocabulary(random, 5_000);
const word = () => words[Math.floor(words.length * random() ** 2)]!;
const sentence = () => {
  const n = 8 + Math.floor(random() * 10);
  const parts = Array.from({ length: n }, word);
  return parts.join(" ").replace(/^./, (c) => c.toUpperCase()) + ".";
};
const paragraph = () => Array.from({ length: 3 + Math.floor(random() * 4) }, sentence).join(" ");

/** About 3,000 characters: a heading and 3-8 paragraphs, some under subheadings. */
function document(i: number): { title: string; content: string } {
  const title = `Synthetic ${i}: ${word()} ${word()} ${word()}`;
  const blocks = [`# ${title}`];
  const paragraphs = 3 + Math.floor(random() * 6);
  for (let p = 0; p < paragraphs; p++) {
    if (p > 0 && random() < 0.3) blocks.push(`## ${word()} ${word()}`);
    blocks.push(paragraph());
  }
  return { title, content: blocks.join("\n\n") };
}

function diskBytes(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

const ds = await createDualstore({
  database: { url: `file:${directory}` },
  vectorStore: { provider: store },
  embedder: { provider: "local" },
  sync: { onWrite: "none" },
  env: {},
});
try {
  const ids: string[] = [];
  let started = performance.now();
  for (let from = 0; from < size; from += 500) {
    const batch = Array.from({ length: Math.min(500, size - from) }, (_, i) => ({ userId: null, source: "system" as const, ...document(from + i) }));
    for (const created of await ds.documents.createMany(batch)) ids.push(created.id);
  }
  const createMs = performance.now() - started;
  const hnsw = `dualstore_vectors."vectors_384_embedding_hnsw"`;
  if (store === "pgvector") await ds.prisma.$executeRawUnsafe(`DROP INDEX ${hnsw}`);
  started = performance.now();
  const indexed = await ds.indexDocuments(ids);
  const indexMs = performance.now() - started;
  if (indexed.indexed !== size) throw new Error(`indexed ${indexed.indexed} of ${size}`);
  let hnswBuildMs: number | undefined;
  if (store === "pgvector") {
    started = performance.now();
    // The graph is built in memory when it fits (pgvector's own advice for a bulk build).
    await ds.prisma.$executeRawUnsafe(`SET maintenance_work_mem = '1GB'`);
    await ds.prisma.$executeRawUnsafe(`CREATE INDEX ${hnsw.split(".")[1]} ON dualstore_vectors.vectors_384 USING hnsw (embedding vector_cosine_ops)`);
    await ds.prisma.$executeRawUnsafe(`RESET maintenance_work_mem`);
    await ds.prisma.$executeRawUnsafe(`ANALYZE dualstore_vectors.vectors_384`);
    hnswBuildMs = performance.now() - started;
  }
  started = performance.now();
  const again = await ds.indexDocuments(ids);
  const reindexMs = performance.now() - started;
  if (again.unchanged !== size) throw new Error(`re-index: ${again.unchanged} of ${size} unchanged`);
  // The same queries in the default (hybrid) mode and in vector mode, whose latency is the vector index's.
  const queries = Array.from({ length: 20 }, () => `${word()} ${word()} ${word()} ${word()}`);
  // Wall time, and this process's CPU time (PGlite runs inside it): on a shared machine the CPU
  // time is the figure that holds still.
  const timings = { hybrid: [] as number[], vector: [] as number[], lexical: [] as number[] };
  const cpu = { hybrid: [] as number[], vector: [] as number[], lexical: [] as number[] };
  for (const query of queries) {
    for (const mode of ["hybrid", "vector", "lexical"] as const) {
      const t = performance.now();
      const c = process.cpuUsage();
      await ds.search(query, { userId: null, topK: 10, mode });
      const used = process.cpuUsage(c);
      cpu[mode].push((used.user + used.system) / 1000);
      timings[mode].push(performance.now() - t);
    }
  }
  const ms = (values: number[]) => Math.round(median(values) * 10) / 10;
  const result: ScaleResult = {
    store,
    documents: size,
    chunks: indexed.chunks,
    createMs: Math.round(createMs),
    indexMs: Math.round(indexMs),
    ...(hnswBuildMs === undefined ? {} : { hnswBuildMs: Math.round(hnswBuildMs) }),
    reindexMs: Math.round(reindexMs),
    searchMedianMs: ms(timings.hybrid),
    vectorSearchMedianMs: ms(timings.vector),
    lexicalSearchMedianMs: ms(timings.lexical),
    searchCpuMedianMs: { hybrid: ms(cpu.hybrid), vector: ms(cpu.vector), lexical: ms(cpu.lexical) },
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    rssAfterMb: Math.round(process.memoryUsage.rss() / 104_857.6) / 10,
    diskMb: Math.round(diskBytes(directory) / 104_857.6) / 10,
  };
  process.send!(result);
} finally {
  await ds.close();
}
