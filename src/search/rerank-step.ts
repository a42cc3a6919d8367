import type { Logger } from "../core/logger.js";
import { redact } from "../core/redact.js";
import { AbortedError, DualstoreError } from "../errors.js";
import type { ManagedReranker } from "../rerankers/managed-reranker.js";
import type { SearchDegradation } from "./search.js";

/** What `search: { ... }` in createDualstore options sets for reranking; `rerank: { ... }` per call overrides it. */
export interface RerankSettings {
  /**
   * Candidates of the first-stage ranking (hybrid, vector or lexical) the reranker reads, 1..1000.
   * Default: 4 × topK, at least 20, at most 200.
   */
  candidates?: number;
  /**
   * `true`: a failed rerank fails the search. Default `false`: the search answers in the
   * first-stage order, flagged `degraded` (component "reranker"), and logs a warning.
   */
  strict?: boolean;
}

/** How many first-stage candidates the reranker reads for a page of `topK`. */
export function candidatePool(topK: number, candidates: number | undefined): number {
  return Math.max(topK, candidates ?? Math.min(Math.max(4 * topK, 20), 200));
}

export interface RankedCandidate {
  readonly vectorId: string;
  /** The first-stage score. */
  readonly score: number;
  /** What the reranker reads: the document's title and the chunk's text. */
  readonly text: string;
}

/**
 * The candidates (best first) in the reranker's order, scored with its relevance. When the
 * reranker fails (not aborted, not strict): no ranking, and `degraded` saying why; the caller
 * keeps its first-stage order.
 */
export async function rerankCandidates(
  reranker: ManagedReranker,
  query: string,
  candidates: readonly RankedCandidate[],
  options: { strict: boolean; signal: AbortSignal | undefined; logger: Logger },
): Promise<{ ranked?: Array<{ vectorId: string; score: number }>; degraded?: SearchDegradation }> {
  try {
    const results = await reranker.rerank(
      query,
      candidates.map((candidate) => candidate.text),
      { signal: options.signal },
    );
    return { ranked: results.map(({ index, score }) => ({ vectorId: candidates[index]!.vectorId, score })) };
  } catch (error) {
    if (options.strict || options.signal?.aborted || error instanceof AbortedError) throw error;
    const degraded: SearchDegradation = {
      component: "reranker",
      code: error instanceof DualstoreError ? error.code : "UNKNOWN",
      message: redact(error instanceof Error ? error.message : String(error)),
    };
    options.logger.warn("search answered in its first-stage order: the reranker failed", { reranker: reranker.id, ...degraded });
    return { degraded };
  }
}
