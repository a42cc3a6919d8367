import { z } from "zod";
import type { Logger } from "../core/logger.js";
import { redact } from "../core/redact.js";
import type { PrismaClient } from "../db/prisma.js";
import { ConfigurationError, DualstoreError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { documentSources } from "../repository/documents.js";
import { id, text } from "../repository/fields.js";
import type { ChunkQuery, ChunkText, SearchDocument } from "./chunk-query.js";
import { fuse } from "./fusion.js";
import { embedQuery, queryVectors, VectorSideError, type VectorSide } from "./vector-side.js";
import { documentIdOf } from "../sync/vector-ids.js";
import type { VectorMatch } from "../vector-stores/vector-store.js";
import type { ManagedReranker } from "../rerankers/managed-reranker.js";
import { candidatePool, rerankCandidates, type RerankSettings } from "./rerank-step.js";

const weight = z.number().min(0).max(1_000);

const searchOptions = z.strictObject({
  /** Whose documents to search: theirs and public ones. `null`: public documents only. */
  userId: id.nullable(),
  /** Hits to return, 1..100. Default: the user's ragTopK setting, else 5. */
  topK: z.number().int().min(1).max(100).optional(),
  /**
   * Lowest cosine similarity a vector-side candidate needs, -1..1 (lexical candidates need one
   * matching word instead). Default: the user's ragMinScore setting, else 0.
   */
  minScore: z.number().min(-1).max(1).optional(),
  /** "hybrid" (default): words and meaning fused; "vector": meaning only; "lexical": words only, no embedder or vector store call. */
  mode: z.enum(["hybrid", "vector", "lexical"]).optional(),
  /** How hybrid mode fuses the two rankings; see {@link Fusion}. */
  fusion: z
    .strictObject({ method: z.enum(["score", "rrf"]).optional(), lexicalWeight: weight.optional(), vectorWeight: weight.optional(), k: z.number().min(0).max(10_000).optional() })
    .optional(),
  /**
   * Reranking with the configured reranker (`search.reranker`). Default: on when one is
   * configured. `false`: off for this call; `true` or settings: on, and an error without one.
   */
  rerank: z.union([z.boolean(), z.strictObject({ candidates: z.number().int().min(1).max(1_000).optional(), strict: z.boolean().optional() })]).optional(),
  /** Only documents carrying at least one of these tags. */
  tags: z.array(text({ min: 1, max: 100 })).min(1).max(50).optional(),
  /** Only documents from these sources. */
  source: z.union([z.enum(documentSources), z.array(z.enum(documentSources)).min(1)]).optional(),
  /** Only these documents. */
  documentIds: z.array(id).min(1).max(1_000).optional(),
  language: text({ min: 1, max: 35 }).optional(),
  /**
   * "chunks" (default): the best `topK` chunks. "documents": the best `topK` documents, each
   * with its best chunks (`chunksPerDocument`), a document never twice.
   */
  group: z.enum(["chunks", "documents"]).optional(),
  /** With `group: "documents"`: chunks returned per document, 1..20. Default 3. */
  chunksPerDocument: z.number().int().min(1).max(20).optional(),
  /** Neighbouring chunks returned with each hit, before and after it, 0..10. Default 0. */
  context: z.number().int().min(0).max(10).optional(),
  signal: z.instanceof(AbortSignal).optional(),
}).refine((options) => options.chunksPerDocument === undefined || options.group === "documents", {
  path: ["chunksPerDocument"],
  message: 'only applies with group: "documents"',
});

/** Blank queries fail here, not at the embedder (which refuses empty text as a provider error). */
const searchQuery = text({ max: 10_000 }).refine((value) => value.trim() !== "", { message: "must contain a non-blank character" });

export type SearchOptions = z.input<typeof searchOptions>;
export type SearchMode = NonNullable<SearchOptions["mode"]>;

export interface SearchHit {
  readonly document: SearchDocument;
  /** The chunk; `start` and `end` are its offsets in the document's content (UTF-16 code units), for citations. */
  readonly chunk: ChunkText & { readonly vectorId: string };
  /**
   * What the hits are ordered by. "vector" mode: the cosine similarity of query and chunk, -1..1.
   * "lexical" mode: `ts_rank` of the chunk's words (length-normalized, 0..1, small numbers).
   * "hybrid" mode: the fused score, 0..1 with the default weights (1 = best on both sides).
   * Reranked: the reranker's relevance (Cohere's: 0..1), with the score above in `fusedScore`.
   */
  readonly score: number;
  /** When the hit was reranked: the score it had before, in its mode (see `score`). */
  readonly fusedScore?: number;
  /** Cosine similarity of query and chunk, when the vector side found the chunk. */
  readonly vectorScore?: number;
  /** `ts_rank` of the chunk, when the lexical side found it. */
  readonly lexicalScore?: number;
  /** With `context: n`: up to n chunks of the same document before and after this one, in order (fewer at the document's edges). */
  readonly context?: { readonly before: readonly ChunkText[]; readonly after: readonly ChunkText[] };
}

/** With `group: "documents"`: one document and its best chunks. */
export interface DocumentHit {
  readonly document: SearchDocument;
  /** The score of its best chunk (what documents are ordered by). */
  readonly score: number;
  /** Its best chunks, best first, each scored as a chunk hit is. */
  readonly chunks: ReadonlyArray<Omit<SearchHit, "document">>;
}

/** Why a hybrid search answered from words alone, or a reranked one in its first-stage order. */
export interface SearchDegradation {
  /** Which provider failed. */
  readonly component: "embedder" | "vectorStore" | "reranker";
  /** The failure's DualstoreError code ("PROVIDER", "ABORTED", ...), or "UNKNOWN". */
  readonly code: string;
  /** The failure's message, without secrets. */
  readonly message: string;
}

/**
 * The hits, best first: a plain array. When the embedder or the vector store failed and a hybrid
 * search answered from its lexical side alone, the array carries a non-enumerable `degraded`
 * saying why (absent otherwise), so code that treats the result as an array is unaffected.
 */
export type SearchResults = SearchHit[] & { readonly degraded?: SearchDegradation };

/** The documents, best first, with `degraded` as on {@link SearchResults}. */
export type DocumentResults = DocumentHit[] & { readonly degraded?: SearchDegradation };

export interface SearchDeps {
  readonly prisma: PrismaClient;
  readonly chunks: ChunkQuery;
  readonly vectors: VectorSide;
  readonly logger: Logger;
  /** The configured reranker and its settings (`search` in createDualstore options), if any. */
  readonly rerank?: { readonly reranker: ManagedReranker; readonly settings: RerankSettings } | undefined;
}

/**
 * Hybrid search. The vector side embeds the query and asks the store for the closest chunks the
 * caller may see; then ONE SQL statement ranks chunks by the query's words (full-text search in
 * each document's language) and hydrates both sides' candidates, keeping only what PostgreSQL
 * vouches for; the two rankings are fused. If the vector side fails, a hybrid search answers
 * from the lexical side and says so (`degraded`).
 */
export async function search(deps: SearchDeps, query: string, options: SearchOptions): Promise<SearchResults | DocumentResults> {
  const q = parseInput(searchQuery, query, "search query");
  const opts = parseInput(searchOptions, options, "search options");
  const mode = opts.mode ?? "hybrid";
  const settings =
    opts.userId !== null && (opts.topK === undefined || (opts.minScore === undefined && mode !== "lexical"))
      ? await deps.prisma.userSettings.findUnique({ where: { userId: opts.userId }, select: { ragTopK: true, ragMinScore: true } })
      : null;
  const topK = opts.topK ?? settings?.ragTopK ?? 5;
  const minScore = opts.minScore ?? settings?.ragMinScore ?? 0;
  const scope = {
    userId: opts.userId,
    tags: opts.tags,
    sources: opts.source === undefined ? undefined : Array.isArray(opts.source) ? opts.source : [opts.source],
    documentIds: opts.documentIds,
    language: opts.language,
  };
  if (opts.rerank !== undefined && opts.rerank !== false && !deps.rerank) {
    throw new ConfigurationError("search.reranker: the search asked for reranking (rerank option) and no reranker is configured", { option: "search.reranker" });
  }
  const rerank = opts.rerank === false ? undefined : deps.rerank && { ...deps.rerank.settings, ...(typeof opts.rerank === "object" ? opts.rerank : {}), reranker: deps.rerank.reranker };
  // Reranking reads a larger pool of first-stage candidates, of which it keeps the best topK.
  const poolK = rerank ? candidatePool(topK, rerank.candidates) : topK;

  // Each side returns a few more than the page (topK, or the reranker's pool): hits the database
  // does not vouch for (orphans, deletes in flight) are dropped during hydration and must not
  // leave the page short, and fusion needs each side's runners-up. Grouped by document, each
  // side ranks that many documents' best chunks.
  const perDocument = opts.group === "documents" ? (opts.chunksPerDocument ?? 3) : undefined;
  const fetchK = Math.min((poolK + Math.max(5, poolK)) * (perDocument ?? 1), 10_000);

  let vectorScores = new Map<string, number>();
  let degraded: SearchDegradation | undefined;
  if (mode !== "lexical") {
    try {
      const matches = await vectorCandidates(deps.vectors, q, { ...scope, topK: fetchK, signal: opts.signal }, mode === "vector" && perDocument !== undefined ? poolK : undefined, minScore);
      vectorScores = new Map(matches.filter((match) => match.score >= minScore).map((match) => [match.id, match.score]));
    } catch (error) {
      if (mode === "vector" || opts.signal?.aborted || !(error instanceof VectorSideError)) throw error instanceof VectorSideError ? error.cause : error;
      degraded = degradation(error);
      deps.logger.warn("search answered from its lexical side only: the vector side failed", { ...degraded });
    }
  }

  const chunks = await deps.chunks.run({
    ...scope,
    vectorIds: [...vectorScores.keys()],
    text: mode === "vector" ? undefined : q,
    lexicalLimit: fetchK,
    perDocument,
  });
  const byId = new Map(chunks.map((chunk) => [chunk.vectorId, chunk]));
  let ranked: Array<{ vectorId: string; score: number }> =
    mode === "vector"
      ? [...vectorScores].filter(([vectorId]) => byId.has(vectorId)).map(([vectorId, score]) => ({ vectorId, score }))
      : mode === "lexical" || degraded
        ? chunks.filter((chunk) => chunk.lexicalRank !== undefined).map((chunk) => ({ vectorId: chunk.vectorId, score: chunk.lexicalRank! }))
        : fuse(
            chunks.map((chunk) => ({
              vectorId: chunk.vectorId,
              documentId: chunk.document.id,
              vectorScore: vectorScores.get(chunk.vectorId),
              lexicalRank: chunk.lexicalRank,
            })),
            opts.fusion,
          );
  ranked.sort((a, b) => b.score - a.score || (a.vectorId < b.vectorId ? -1 : 1));
  let fusedScores: Map<string, number> | undefined;
  if (rerank) {
    const pool = ranked.slice(0, poolK).map(({ vectorId, score }) => ({ vectorId, score, text: `${byId.get(vectorId)!.document.title}\n\n${byId.get(vectorId)!.text}` }));
    const reranked = await rerankCandidates(rerank.reranker, q, pool, { strict: rerank.strict ?? false, signal: opts.signal, logger: deps.logger });
    if (reranked.ranked) {
      fusedScores = new Map(pool.map(({ vectorId, score }) => [vectorId, score]));
      ranked = reranked.ranked;
    }
    // A vector side that failed first is the degradation named; the reranker's is logged.
    degraded ??= reranked.degraded;
  }

  const toHit = ({ vectorId, score }: { vectorId: string; score: number }): SearchHit => {
    const { document, lexicalRank, ...chunk } = byId.get(vectorId)!;
    const vectorScore = vectorScores.get(vectorId);
    return {
      document,
      chunk,
      score,
      ...(fusedScores?.has(vectorId) ? { fusedScore: fusedScores.get(vectorId)! } : {}),
      ...(vectorScore === undefined ? {} : { vectorScore }),
      ...(lexicalRank === undefined ? {} : { lexicalScore: lexicalRank }),
    };
  };
  const hits = perDocument === undefined ? ranked.slice(0, topK).map(toHit) : groupByDocument(ranked.map(toHit), topK, perDocument);
  const context = opts.context ?? 0;
  if (context > 0) {
    const chunkHits = perDocument === undefined ? (hits as SearchHit[]) : (hits as DocumentHit[]).flatMap((hit) => hit.chunks.map((chunk) => ({ ...chunk, document: hit.document })));
    const near = await deps.chunks.neighbours(
      chunkHits.map((hit) => ({ documentId: hit.document.id, index: hit.chunk.index })),
      context,
    );
    const withContext = <H extends Omit<SearchHit, "document">>(hit: H, documentId: string): H => {
      const all = near.get(documentId) ?? [];
      const at = hit.chunk.index;
      return { ...hit, context: { before: all.filter((c) => c.index < at && c.index >= at - context), after: all.filter((c) => c.index > at && c.index <= at + context) } };
    };
    for (const [i, hit] of hits.entries()) {
      hits[i] = "chunks" in hit ? { ...hit, chunks: hit.chunks.map((chunk) => withContext(chunk, hit.document.id)) } : withContext(hit, hit.document.id);
    }
  }
  if (degraded) Object.defineProperty(hits, "degraded", { value: degraded, enumerable: false });
  return hits as SearchResults | DocumentResults;
}

/** The most vector candidates one search reads. */
const MAX_VECTOR_CANDIDATES = 10_000;

/**
 * The vector side's matches. With `documents` set (a vector search grouped by document), asks
 * again for four times as many while the matches hold fewer than that many documents, the store
 * may hold more (it returned all it was asked for) and they still reach `minScore`: the closest
 * chunks can crowd into a few documents.
 */
async function vectorCandidates(
  side: VectorSide,
  query: string,
  request: Parameters<typeof queryVectors>[2],
  documents: number | undefined,
  minScore: number,
): Promise<VectorMatch[]> {
  if (documents === undefined) return queryVectors(side, query, request);
  const vector = await embedQuery(side, query, request.signal);
  for (let topK = request.topK; ; topK = Math.min(topK * 4, MAX_VECTOR_CANDIDATES)) {
    const matches = await queryVectors(side, vector, { ...request, topK });
    if (
      topK >= MAX_VECTOR_CANDIDATES ||
      matches.length < topK ||
      matches.some((match) => match.score < minScore) ||
      new Set(matches.map((match) => documentIdOf(match.id))).size >= documents
    ) {
      return matches;
    }
  }
}

/** Chunk hits (best first) as the best `topK` documents, each with its best `perDocument` chunks. */
function groupByDocument(hits: readonly SearchHit[], topK: number, perDocument: number): DocumentHit[] {
  const documents = new Map<string, { document: SearchDocument; score: number; chunks: Array<Omit<SearchHit, "document">> }>();
  for (const { document, ...chunk } of hits) {
    let entry = documents.get(document.id);
    if (!entry) {
      if (documents.size === topK) continue;
      entry = { document, score: chunk.score, chunks: [] };
      documents.set(document.id, entry);
    }
    if (entry.chunks.length < perDocument) entry.chunks.push(chunk);
  }
  return [...documents.values()];
}

function degradation(error: VectorSideError): SearchDegradation {
  const cause = error.cause;
  return {
    component: error.component,
    code: cause instanceof DualstoreError ? cause.code : "UNKNOWN",
    message: redact(cause instanceof Error ? cause.message : String(cause)),
  };
}
