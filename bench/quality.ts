/**
 * `npm run bench:quality`: how well dualstore's search ranks the right document, on real text
 * nobody working on dualstore wrote, against a plain BM25 ranking computed in the same run.
 *
 * Corpus and labels: every package installed in node_modules (top level and scoped) that has a
 * README of at least 1,000 characters and a package.json description of at least four words.
 * Each README is one document (title: the package name, language "en"); each description is a
 * query whose right answer is its package's README. Two query sets:
 *   - "with name": the description, prefixed with the package name when it does not hold it;
 *   - "name removed": the description with every part of the package name (split at @ / - . _,
 *     parts of 3+ characters) removed, kept when 3+ words remain.
 * Duplicate READMEs and duplicate descriptions are dropped; packages are taken in name order.
 *
 * Measured, document-level (hits are chunks; a document counts at its best chunk): recall@1,
 * recall@10, MRR@10, nDCG@10 for `ds.search` in vector, lexical and hybrid mode (through
 * `ds.evaluate`), on PGlite with pgvector and the offline LocalEmbedder, and for BM25 (k1 1.2,
 * b 0.75) over the whole READMEs, words lower-cased, computed here. With a reranker: hybrid and
 * vector search reranked (`search.reranker`) by a function reranker computing BM25 over each
 * query's candidates (title and chunk text; IDF from those candidates alone). No neural
 * reranker runs offline here, and the Cohere protocol server's word overlap is no quality
 * measure: these rows show what the plug point does with a reranker one can defend, not Cohere.
 *
 * Options: --limit N (packages, default all), --json (print the report as JSON only).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createDualstore, type EvaluationReport, type RetrievalMetrics } from "../src/index.js";
import { distinctDocuments, retrievalMetrics } from "../src/search/evaluate.js";

interface Package {
  readonly name: string;
  readonly description: string;
  readonly readme: string;
}

const args = process.argv.slice(2);
const limitArg = args.indexOf("--limit");
const limit = limitArg >= 0 ? Number(args[limitArg + 1]) : Number.POSITIVE_INFINITY;
const asJson = args.includes("--json");
/** Extra lexical weights to measure hybrid at (vector weight: 1 - it), e.g. --lexical-weights 0.8,0.9. */
const weightsArg = args.indexOf("--lexical-weights");
const extraWeights = weightsArg >= 0 ? args[weightsArg + 1]!.split(",").map(Number) : [];
const log = (line: string) => {
  if (!asJson) console.log(line);
};

function packageDirs(root: string): string[] {
  const dirs: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    if (entry.name.startsWith("@")) {
      for (const inner of readdirSync(join(root, entry.name), { withFileTypes: true })) if (inner.isDirectory()) dirs.push(join(root, entry.name, inner.name));
    } else dirs.push(join(root, entry.name));
  }
  return dirs;
}

function readPackage(dir: string): Package | undefined {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return undefined;
  const { name, description } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown; description?: unknown };
  if (typeof name !== "string" || typeof description !== "string" || description.trim().split(/\s+/).length < 4) return undefined;
  const readmeName = readdirSync(dir).find((file) => /^readme(\.md|\.markdown)?$/i.test(file));
  if (!readmeName) return undefined;
  const readme = readFileSync(join(dir, readmeName), "utf8").replace(/\r\n?/g, "\n");
  if (readme.length < 1_000) return undefined;
  return { name, description: description.trim(), readme: readme.slice(0, 100_000) };
}

export function corpus(root: string): Package[] {
  const seenReadmes = new Set<string>();
  const seenDescriptions = new Set<string>();
  const packages: Package[] = [];
  for (const dir of packageDirs(root).sort()) {
    const found = readPackage(dir);
    if (!found) continue;
    const hash = createHash("sha256").update(found.readme).digest("hex");
    if (seenReadmes.has(hash) || seenDescriptions.has(found.description.toLowerCase())) continue;
    seenReadmes.add(hash);
    seenDescriptions.add(found.description.toLowerCase());
    packages.push(found);
  }
  return packages.sort((a, b) => (a.name < b.name ? -1 : 1)).slice(0, limit);
}

function nameParts(name: string): string[] {
  return [...new Set(name.toLowerCase().split(/[@/\-._]+/).filter((part) => part.length >= 3))];
}

function withName(pkg: Package): string {
  return pkg.description.toLowerCase().includes(pkg.name.toLowerCase()) ? pkg.description : `${pkg.name}: ${pkg.description}`;
}

function withoutName(pkg: Package): string | undefined {
  let query = pkg.description;
  for (const part of [pkg.name.toLowerCase(), ...nameParts(pkg.name)]) {
    query = query.replace(new RegExp(`\\b${part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\w*`, "gi"), " ");
  }
  query = query.replace(/\s+/g, " ").trim();
  return query.split(" ").filter((word) => /\w/.test(word)).length >= 3 ? query : undefined;
}

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** BM25 (k1 1.2, b 0.75) scores of each text for a query, IDF from these texts alone. */
export function bm25Scores(texts: readonly string[]) {
  const k1 = 1.2;
  const b = 0.75;
  const frequencies = texts.map((text) => {
    const counts = new Map<string, number>();
    const terms = words(text);
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    return { counts, length: terms.length };
  });
  const averageLength = frequencies.reduce((sum, f) => sum + f.length, 0) / frequencies.length;
  const documentFrequency = new Map<string, number>();
  for (const f of frequencies) for (const term of f.counts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const n = frequencies.length;
  return (query: string): number[] => {
    const terms = [...new Set(words(query))];
    return frequencies.map((f) => {
      let score = 0;
      for (const term of terms) {
        const tf = f.counts.get(term);
        if (!tf) continue;
        const df = documentFrequency.get(term)!;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * f.length) / averageLength));
      }
      return score;
    });
  };
}

/** BM25 over whole documents: the baseline, computed in this process. The first 10 document ids. */
export function bm25(documents: ReadonlyArray<{ id: string; text: string }>) {
  const scores = bm25Scores(documents.map((document) => document.text));
  return (query: string): string[] =>
    scores(query)
      .map((score, i) => ({ id: documents[i]!.id, score }))
      .filter((scored) => scored.score > 0)
      .sort((x, y) => y.score - x.score)
      .slice(0, 10)
      .map((scored) => scored.id);
}

const packages = corpus(join(process.cwd(), "node_modules"));
log(`corpus: ${packages.length} package READMEs (${packages.reduce((sum, p) => sum + p.readme.length, 0).toLocaleString("en")} characters)`);

const ds = await createDualstore({ database: { driver: "pglite" }, vectorStore: { provider: "pgvector" }, sync: { onWrite: "none" } });
const idByName = new Map<string, string>();
for (const pkg of packages) {
  const document = await ds.documents.create({ userId: null, title: pkg.name, source: "system", content: pkg.readme });
  idByName.set(pkg.name, document.id);
}
const started = performance.now();
await ds.indexDocuments([...idByName.values()]);
log(`indexed in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const ranker = bm25(packages.map((pkg) => ({ id: idByName.get(pkg.name)!, text: pkg.readme })));
const sets = {
  "with name": packages.map((pkg) => ({ query: withName(pkg), expected: idByName.get(pkg.name)! })),
  "name removed": packages.flatMap((pkg) => {
    const query = withoutName(pkg);
    return query ? [{ query, expected: idByName.get(pkg.name)! }] : [];
  }),
};

const results: Record<string, { queries: number; bm25: RetrievalMetrics; modes: EvaluationReport["modes"]; rrf: RetrievalMetrics | undefined; equal: RetrievalMetrics | undefined; weighted: Record<string, RetrievalMetrics | undefined> }> = {};
// The same database and index, searched through a second instance with a reranker.
const reranking = await createDualstore({
  database: { prisma: ds.prisma },
  vectorStore: { provider: "pgvector" },
  sync: { onWrite: "none" },
  search: { reranker: ({ query, texts }) => bm25Scores(texts)(query) },
});
const reranked: Record<string, EvaluationReport["modes"]> = {};
for (const [set, queries] of Object.entries(sets)) {
  const report = await ds.evaluate(queries, { userId: null, minScore: -1 });
  log(`  ${set}: measured vector, lexical, hybrid`);
  const rrf = await ds.evaluate(queries, { userId: null, minScore: -1, modes: ["hybrid"], fusion: { method: "rrf", lexicalWeight: 1, vectorWeight: 1 } });
  const equal = await ds.evaluate(queries, { userId: null, minScore: -1, modes: ["hybrid"], fusion: { lexicalWeight: 0.5, vectorWeight: 0.5 } });
  const weighted: Record<string, RetrievalMetrics | undefined> = {};
  for (const lexicalWeight of extraWeights) {
    const measured = await ds.evaluate(queries, { userId: null, minScore: -1, modes: ["hybrid"], fusion: { lexicalWeight, vectorWeight: 1 - lexicalWeight } });
    weighted[`hybrid, lexical ${lexicalWeight} / vector ${(1 - lexicalWeight).toFixed(2)}`] = measured.modes.hybrid;
  }
  reranked[set] = (await reranking.evaluate(queries, { userId: null, minScore: -1, modes: ["vector", "hybrid"] })).modes;
  log(`  ${set}: measured with a reranker`);
  const baseline = retrievalMetrics(queries.map(({ query, expected }) => ({ ranked: distinctDocuments(ranker(query)), expected: [expected] })));
  results[set] = { queries: queries.length, bm25: baseline, modes: report.modes, rrf: rrf.modes.hybrid, equal: equal.modes.hybrid, weighted };
}
await reranking.close();
await ds.close();

if (asJson) console.log(JSON.stringify({ packages: packages.length, results, reranked }, null, 2));
else {
  const figure = (m: RetrievalMetrics | undefined) =>
    m ? `${m.recallAt1.toFixed(3)} | ${m.recallAt10.toFixed(3)} | ${m.mrrAt10.toFixed(3)} | ${m.ndcgAt10.toFixed(3)}` : "- | - | - | -";
  for (const [set, result] of Object.entries(results)) {
    log(`\n${set} (${result.queries} queries): ranking | recall@1 | recall@10 | MRR@10 | nDCG@10`);
    log(`BM25 (baseline, whole documents) | ${figure(result.bm25)}`);
    log(`vector | ${figure(result.modes.vector)}`);
    log(`lexical | ${figure(result.modes.lexical)}`);
    log(`hybrid (default) | ${figure(result.modes.hybrid)}`);
    log(`hybrid, equal weights | ${figure(result.equal)}`);
    log(`hybrid, equal-weight RRF | ${figure(result.rrf)}`);
    for (const [label, metrics] of Object.entries(result.weighted)) log(`${label} | ${figure(metrics)}`);
    log(`vector + reranker (BM25 over the candidates) | ${figure(reranked[set]?.vector)}`);
    log(`hybrid + reranker (BM25 over the candidates) | ${figure(reranked[set]?.hybrid)}`);
  }
}
