/**
 * dualstore against LangChain.js's indexing API, side by side. Run through `npm run bench`
 * (which builds dist/ first: the runners import "dualstore" as a user would).
 *
 *   npm run bench                              # sizes 100 and 1,000 (3 runs each)
 *   npm run bench -- --sizes 5000              # 1 run unless --runs says otherwise
 *   npm run bench -- --sizes 100 --runs 5
 *   npm run bench -- --sizes 1000 --lc-chunk 2000/200   # LangChain's splitter size, characters
 *   npm run bench -- --sizes none --scale      # dualstore alone: 1k, 5k, 20k, 50k documents
 *   npm run bench -- --scale --scale-sizes 1000,5000
 *   npm run bench -- --sizes none --scale --scale-sizes 50000 --scale-stores pgvector
 *   npm run bench -- --sizes none --production # issue 16's scale proof: 50,000 documents, 50 owners, 4 worker processes
 *   npm run bench -- --sizes none --production --production-documents 2000 --production-slice 500
 *
 * Prints a table per size and merges the results into bench/results/latest.json (entries for
 * other sizes or splitter settings are kept, each with its own date); --production writes
 * bench/results/production.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { compare, type SizeResult } from "./compare.js";
import { buildCorpus, collectCandidates, MAX_CHARS, MIN_CHARS, SEARCH_QUERIES } from "./corpus.js";
import { DEFAULT_LANGCHAIN_SPLITTER, LANGCHAIN_INDEX_BATCH, SCENARIO_TITLES, SEARCH_TOP_K, type Splitter } from "./protocol.js";
import { runProduction } from "./production-main.js";
import { compareTable, scaleTable } from "./report.js";
import { scale, SCALE_STORES, type ScaleResult } from "./scale.js";
import { EMBEDDING_DIMENSION, EMBEDDING_MODEL, startBenchServers } from "./servers.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const PEER = join(BENCH, "peer");

interface Results {
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  comparisons: Array<SizeResult & { date: string }>;
  scale?: { date: string; points: ScaleResult[] };
}

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000" },
    runs: { type: "string" },
    scale: { type: "boolean", default: false },
    "scale-sizes": { type: "string", default: "1000,5000,20000,50000" },
    "scale-stores": { type: "string", default: SCALE_STORES.join(",") },
    production: { type: "boolean", default: false },
    "production-documents": { type: "string", default: "50000" },
    "production-slice": { type: "string", default: "5000" },
    "production-owners": { type: "string", default: "50" },
    "production-workers": { type: "string", default: "4" },
    "production-rpm": { type: "string" },
    "production-tpm": { type: "string" },
    "lc-chunk": { type: "string", default: `${DEFAULT_LANGCHAIN_SPLITTER.chunkSize}/${DEFAULT_LANGCHAIN_SPLITTER.chunkOverlap}` },
    out: { type: "string", default: join(BENCH, "results", "latest.json") },
  },
});
const numbers = (text: string) => (text === "none" ? [] : text.split(",").map((part) => Number(part.replace(/_/g, ""))));
const sizes = numbers(values.sizes);
const scaleSizes = numbers(values["scale-sizes"]);
for (const n of [...sizes, ...scaleSizes]) if (!Number.isInteger(n) || n < 10) throw new Error(`sizes: expected whole numbers of at least 10, got ${n}`);
const scaleStores = values["scale-stores"].split(",");
for (const store of scaleStores) if (!(SCALE_STORES as readonly string[]).includes(store)) throw new Error(`--scale-stores: expected some of ${SCALE_STORES.join(",")}, got ${store}`);
const [chunkSize = Number.NaN, chunkOverlap = Number.NaN] = values["lc-chunk"].split("/").map(Number);
if (!(chunkSize > 0 && chunkOverlap >= 0 && chunkOverlap < chunkSize)) throw new Error(`--lc-chunk: expected <size>/<overlap> in characters, got ${values["lc-chunk"]}`);
const splitter: Splitter = { chunkSize, chunkOverlap };
const runsFor = (size: number) => (values.runs ? Number(values.runs) : size <= 1_000 ? 3 : 1);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const log = (line: string) => console.log(line);

/** The peer's packages live in bench/peer (see its package.json for why); install them when missing or stale. */
function ensurePeer(): void {
  const installed = join(PEER, "node_modules", ".package-lock.json");
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(PEER, "package-lock.json")).mtimeMs) return;
  log("Installing the LangChain peer into bench/peer/node_modules (npm ci)…");
  const result = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: PEER, stdio: "inherit" });
  if (result.status !== 0) throw new Error("npm ci in bench/peer failed");
}

function versionOf(packageDir: string | undefined): string {
  if (packageDir === undefined || !existsSync(join(packageDir, "package.json"))) return "not installed";
  return (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
}

async function machine(): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
  await client.end();
  const peer = (name: string) => versionOf(join(PEER, "node_modules", name));
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    postgres: rows[0]?.server_version,
    dualstore: versionOf(ROOT),
    packages: {
      "@pinecone-database/pinecone (dualstore)": versionOf(join(ROOT, "node_modules", "@pinecone-database", "pinecone")),
      "openai (dualstore)": versionOf(join(ROOT, "node_modules", "openai")),
      "@langchain/core": peer("@langchain/core"),
      "@langchain/community": peer("@langchain/community"),
      "@langchain/pinecone": peer("@langchain/pinecone"),
      "@langchain/openai": peer("@langchain/openai"),
      "@langchain/textsplitters": peer("@langchain/textsplitters"),
      "@pinecone-database/pinecone (LangChain)": peer("@pinecone-database/pinecone"),
      // @langchain/openai's own openai (nested when another package in the peer wants an older one).
      "openai (LangChain)": versionOf(
        [join(PEER, "node_modules", "@langchain", "openai", "node_modules", "openai"), join(PEER, "node_modules", "openai")].find((dir) => existsSync(dir)),
      ),
    },
  };
}

const settings = {
  scenarios: SCENARIO_TITLES,
  embeddings: `${EMBEDDING_MODEL}, ${EMBEDDING_DIMENSION} dimensions, dense, from a local OpenAI-protocol server that answers at once (in a process of its own)`,
  vectorStore: "the project's local Pinecone-protocol server (tests/servers; Pinecone's limits, 2 MB per request included), a fresh index per library and run, in the servers' own process",
  database: "PostgreSQL, a fresh schema per library and run",
  dualstore: "createDualstore({ database: { url }, vectorStore: pinecone (host), embedder: openai, sync: { onWrite: 'none' } }); chunker default (512 approx. tokens, 50 overlap); indexDocuments batch 32",
  langchain: `index() + PostgresRecordManager (cleanup incremental, sourceIdKey 'source', batchSize ${LANGCHAIN_INDEX_BATCH}: 100 breaks Pinecone's 2 MB limit with dense vectors) + PineconeStore + OpenAIEmbeddings; RecursiveCharacterTextSplitter in characters (size per comparison)`,
  corpus: `real text on this machine: node_modules READMEs, other node_modules Markdown, /usr/share/doc, man pages; ${MIN_CHARS}-${MAX_CHARS} characters, deduplicated`,
  cpu: "process.cpuUsage() (user + system) of the library's own child process over the scenario, median over runs; search: mean per query",
  wall: `median over runs; search: median latency of ${SEARCH_QUERIES} queries (topK ${SEARCH_TOP_K}), run one after another`,
  machine: "per scenario: the share of all cores busy (os.cpus() counters, every process on the machine) and the 1-minute load average",
  peakRss: "process.resourceUsage().maxRSS of the library's own child process, after the scenario (so it includes earlier scenarios)",
};

async function main(): Promise<void> {
  const previous: Results | undefined = existsSync(values.out) ? (JSON.parse(readFileSync(values.out, "utf8")) as Results) : undefined;
  const date = new Date().toISOString();
  const results: Results = { machine: {}, settings, comparisons: previous?.comparisons ?? [], ...(previous?.scale ? { scale: previous.scale } : {}) };
  const started = performance.now();
  if (sizes.length > 0) {
    ensurePeer();
    results.machine = await machine();
    log(`Machine: ${String(results.machine.cpu)}, ${String(results.machine.cores)} cores, Node ${process.version}, PostgreSQL ${String(results.machine.postgres)}`);
    log("Collecting the corpus…");
    const candidates = collectCandidates(ROOT);
    const servers = await startBenchServers();
    try {
      for (const size of sizes) {
        const corpus = buildCorpus(candidates, size);
        log(`Size ${size}: ${corpus.stats.characters.toLocaleString("en-US")} characters, ${runsFor(size)} run(s)`);
        const result = await compare({ servers, databaseUrl, corpus, runs: runsFor(size), splitter, log });
        const same = (c: SizeResult) => c.size === size && c.splitter?.chunkSize === splitter.chunkSize && c.splitter?.chunkOverlap === splitter.chunkOverlap;
        results.comparisons = [...results.comparisons.filter((c) => !same(c)), { ...result, date }].sort((a, b) => a.size - b.size || a.splitter.chunkSize - b.splitter.chunkSize);
        console.log(`\n${compareTable(result)}`);
      }
    } finally {
      await servers.close();
    }
  }
  if (values.scale) {
    if (sizes.length === 0) results.machine = await machine();
    log(`Scaling run (dualstore alone, PGlite on disk, LocalEmbedder): ${scaleSizes.join(", ")} documents`);
    const points = await scale(scaleSizes, scaleStores, log);
    // Points of other stores or sizes are kept, each with the date it was measured.
    const earlier = (results.scale?.points ?? [])
      .map((p) => ({ date: results.scale?.date, ...p }))
      .filter((p) => !points.some((q) => q.store === p.store && q.documents === p.documents));
    results.scale = { date, points: [...earlier, ...points.map((p) => ({ ...p, date }))] };
    console.log(`\n### Scaling (dualstore alone)\n\n${scaleTable(points)}\n`);
  }
  if (values.production) {
    await runProduction({
      root: ROOT,
      databaseUrl,
      documents: Number(values["production-documents"].replace(/_/g, "")),
      slice: values["production-slice"] === "none" ? 0 : Number(values["production-slice"].replace(/_/g, "")),
      owners: Number(values["production-owners"]),
      workers: Number(values["production-workers"]),
      ...(values["production-rpm"] ? { requestsPerMinute: Number(values["production-rpm"].replace(/_/g, "")) } : {}),
      ...(values["production-tpm"] ? { tokensPerMinute: Number(values["production-tpm"].replace(/_/g, "")) } : {}),
      machine: { ...(await machine()), date },
      out: join(BENCH, "results", "production.json"),
      log,
    });
  }
  // The comparison's and scaling run's results file: left alone when neither ran.
  if (sizes.length === 0 && !values.scale) return;
  results.machine = { ...results.machine, date };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  const kept = results.comparisons.filter((c) => c.date !== date).map((c) => `${c.size} (LangChain ${c.splitter.chunkSize}/${c.splitter.chunkOverlap})`);
  log(`Results written to ${values.out}${kept.length ? ` (kept earlier results for sizes ${kept.join(", ")})` : ""}; ${((performance.now() - started) / 1000).toFixed(0)} s in all.`);
}

await main();
