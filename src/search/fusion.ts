/** One chunk found by either side of a hybrid search. */
export interface FusionCandidate {
  readonly vectorId: string;
  readonly documentId: string;
  /** Cosine similarity from the vector side; undefined when only the lexical side found the chunk. */
  readonly vectorScore: number | undefined;
  /** `ts_rank` from the lexical side; undefined when only the vector side found the chunk. */
  readonly lexicalRank: number | undefined;
}

export interface Fusion {
  /**
   * "score" (default): each side's scores divided by that side's best in this query (so the best
   * of each side is 1), then weighted and added; a chunk one side did not find borrows that
   * side's best score within its document (evidence for a document is spread over its chunks:
   * the words may match one chunk and the meaning another). "rrf": reciprocal rank fusion,
   * weight / (k + rank) summed over the sides.
   */
  readonly method?: "score" | "rrf";
  /** Weight of the lexical side. Default 0.9 (measured with the offline embedder: see the README's search quality table). */
  readonly lexicalWeight?: number;
  /** Weight of the vector side. Default 0.1. */
  readonly vectorWeight?: number;
  /** RRF's k. Default 60. */
  readonly k?: number;
}

export const DEFAULT_FUSION = { method: "score", lexicalWeight: 0.9, vectorWeight: 0.1, k: 60 } as const;

/** Candidates with their fused score, best first (ties: by vector id, so the order is stable). */
export function fuse(candidates: readonly FusionCandidate[], fusion: Fusion = {}): Array<{ vectorId: string; score: number }> {
  const { method, lexicalWeight, vectorWeight, k } = { ...DEFAULT_FUSION, ...fusion };
  let scored: Array<{ vectorId: string; score: number }>;
  if (method === "rrf") {
    const lexicalRanks = rankOf(candidates, (c) => c.lexicalRank);
    const vectorRanks = rankOf(candidates, (c) => c.vectorScore);
    scored = candidates.map((c) => ({
      vectorId: c.vectorId,
      score: contribution(lexicalWeight, lexicalRanks.get(c.vectorId), k) + contribution(vectorWeight, vectorRanks.get(c.vectorId), k),
    }));
  } else {
    const bestLexical = Math.max(0, ...candidates.map((c) => c.lexicalRank ?? 0));
    const bestVector = Math.max(0, ...candidates.map((c) => c.vectorScore ?? 0));
    const documentBest = new Map<string, { lexical: number; vector: number }>();
    for (const c of candidates) {
      const best = documentBest.get(c.documentId) ?? { lexical: 0, vector: 0 };
      best.lexical = Math.max(best.lexical, share(c.lexicalRank, bestLexical));
      best.vector = Math.max(best.vector, share(c.vectorScore, bestVector));
      documentBest.set(c.documentId, best);
    }
    scored = candidates.map((c) => {
      const best = documentBest.get(c.documentId)!;
      const lexical = c.lexicalRank === undefined ? best.lexical : share(c.lexicalRank, bestLexical);
      const vector = c.vectorScore === undefined ? best.vector : share(c.vectorScore, bestVector);
      return { vectorId: c.vectorId, score: lexicalWeight * lexical + vectorWeight * vector };
    });
  }
  return scored.sort((a, b) => b.score - a.score || (a.vectorId < b.vectorId ? -1 : a.vectorId > b.vectorId ? 1 : 0));
}

function share(value: number | undefined, best: number): number {
  return value === undefined || best <= 0 ? 0 : Math.max(0, value) / best;
}

function contribution(weight: number, rank: number | undefined, k: number): number {
  return rank === undefined ? 0 : weight / (k + rank);
}

/** 1-based rank of each candidate by `score`, among those that have one. */
function rankOf(candidates: readonly FusionCandidate[], score: (c: FusionCandidate) => number | undefined): Map<string, number> {
  const ranked = candidates.filter((c) => score(c) !== undefined).sort((a, b) => score(b)! - score(a)!);
  return new Map(ranked.map((c, i) => [c.vectorId, i + 1]));
}
