/**
 * One point of the scaling run, in a process of its own: dualstore alone, PGlite on disk, the
 * offline LocalEmbedder, and the pgvector or in-memory vector store. Writes `size` synthetic
 * documents, indexes them, re-indexes them unchanged, runs 20 searches in the default (hybrid)
 * mode and the same 20 in vector mode, and reports times and memory.
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
  for (let i = 0; i < size; i++) {
    const doc = document(i);
    ids.push((await ds.documents.create({ userId: null, title: doc.title, source: "system", content: doc.content })).id);
  }
  const createMs = performance.now() - started;
  started = performance.now();
  const indexed = await ds.indexDocuments(ids);
  const indexMs = performance.now() - started;
  if (indexed.indexed !== size) throw new Error(`indexed ${indexed.indexed} of ${size}`);
  started = performance.now();
  const again = await ds.indexDocuments(ids);
  const reindexMs = performance.now() - started;
  if (again.unchanged !== size) throw new Error(`re-index: ${again.unchanged} of ${size} unchanged`);
  // The same queries in the default (hybrid) mode and in vector mode, whose latency is the vector index's.
  const queries = Array.from({ length: 20 }, () => `${word()} ${word()} ${word()} ${word()}`);
  const latencies: number[] = [];
  const vectorLatencies: number[] = [];
  for (const query of queries) {
    let t = performance.now();
    await ds.search(query, { userId: null, topK: 10 });
    latencies.push(performance.now() - t);
    t = performance.now();
    await ds.search(query, { userId: null, topK: 10, mode: "vector" });
    vectorLatencies.push(performance.now() - t);
  }
  const result: ScaleResult = {
    store,
    documents: size,
    chunks: indexed.chunks,
    createMs: Math.round(createMs),
    indexMs: Math.round(indexMs),
    reindexMs: Math.round(reindexMs),
    searchMedianMs: Math.round(median(latencies) * 10) / 10,
    vectorSearchMedianMs: Math.round(median(vectorLatencies) * 10) / 10,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    rssAfterMb: Math.round(process.memoryUsage.rss() / 104_857.6) / 10,
    diskMb: Math.round(diskBytes(directory) / 104_857.6) / 10,
  };
  process.send!(result);
} finally {
  await ds.close();
}
