import { z } from "zod";
import { parseInput } from "../internal/validate.js";
import { id, text } from "../repository/fields.js";
import type { SearchMode, SearchOptions, SearchResults } from "./search.js";

/** One labelled query (also what each line of `dualstore evaluate --file` holds). */
export const evaluationQuery = z.strictObject({
  query: text({ min: 1, max: 10_000 }),
  /** The document (or documents) a good search ranks first. */
  expected: z.union([id, z.array(id).min(1).max(100)]),
});

const evaluationQueries = z.array(evaluationQuery).min(1).max(100_000);

export type EvaluationQuery = z.input<typeof evaluationQueries>[number];

/** Document-level retrieval quality over a query set, each figure 0..1 (higher is better). */
export interface RetrievalMetrics {
  /** Share of queries whose first document is an expected one. */
  readonly recallAt1: number;
  /** Share of the expected documents found among the first 10 documents, averaged over queries. */
  readonly recallAt10: number;
  /** Mean of 1 / rank of the first expected document within the first 10 (0 when absent). */
  readonly mrrAt10: number;
  /** Normalized discounted cumulative gain of the first 10 documents (binary relevance). */
  readonly ndcgAt10: number;
}

export interface EvaluationReport {
  readonly queries: number;
  readonly modes: Partial<Record<SearchMode, RetrievalMetrics>>;
}

export type EvaluateOptions = Omit<SearchOptions, "topK" | "mode" | "signal" | "group" | "chunksPerDocument" | "context"> & {
  /** Modes to measure. Default: all three. */
  modes?: readonly SearchMode[];
};

/** The first `limit` distinct documents of a ranked list of ids (hits are chunks: one document may hold several). */
export function distinctDocuments(documentIds: readonly string[], limit = 10): string[] {
  return [...new Set(documentIds)].slice(0, limit);
}

/** Metrics of ranked document lists against the expected documents, query by query. */
export function retrievalMetrics(rankings: ReadonlyArray<{ ranked: readonly string[]; expected: readonly string[] }>): RetrievalMetrics {
  let recallAt1 = 0;
  let recallAt10 = 0;
  let mrr = 0;
  let ndcg = 0;
  for (const { ranked, expected } of rankings) {
    const relevant = new Set(expected);
    const top = ranked.slice(0, 10);
    if (top[0] !== undefined && relevant.has(top[0])) recallAt1++;
    recallAt10 += top.filter((documentId) => relevant.has(documentId)).length / relevant.size;
    const first = top.findIndex((documentId) => relevant.has(documentId));
    if (first >= 0) mrr += 1 / (first + 1);
    const gain = top.reduce((sum, documentId, i) => sum + (relevant.has(documentId) ? 1 / Math.log2(i + 2) : 0), 0);
    let ideal = 0;
    for (let i = 0; i < Math.min(relevant.size, 10); i++) ideal += 1 / Math.log2(i + 2);
    ndcg += gain / ideal;
  }
  const n = Math.max(1, rankings.length);
  return { recallAt1: recallAt1 / n, recallAt10: recallAt10 / n, mrrAt10: mrr / n, ndcgAt10: ndcg / n };
}

/**
 * Runs every query in each mode and scores the documents it ranks against the expected ones:
 * how well search works on the caller's own data. Queries run one after another.
 */
export async function evaluate(
  search: (query: string, options: SearchOptions) => Promise<SearchResults>,
  queries: readonly EvaluationQuery[],
  options: EvaluateOptions,
): Promise<EvaluationReport> {
  const checked = parseInput(evaluationQueries, queries, "evaluation queries");
  const { modes = ["vector", "lexical", "hybrid"], ...searchOptions } = options;
  const report: Partial<Record<SearchMode, RetrievalMetrics>> = {};
  for (const mode of modes) {
    const rankings = [];
    for (const { query, expected } of checked) {
      // Chunks, not documents: ask for enough to see ten distinct documents in most cases.
      const hits = await search(query, { ...searchOptions, mode, topK: 50 });
      rankings.push({ ranked: distinctDocuments(hits.map((hit) => hit.document.id)), expected: Array.isArray(expected) ? expected : [expected] });
    }
    report[mode] = retrievalMetrics(rankings);
  }
  return { queries: checked.length, modes: report };
}
