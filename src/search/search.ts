import { z } from "zod";
import type { PrismaClient } from "../db/prisma.js";
import type { ManagedEmbedder } from "../embedders/managed-embedder.js";
import { parseInput } from "../internal/validate.js";
import { documentSources } from "../repository/documents.js";
import { id, text } from "../repository/fields.js";
import { namespaceFor, PUBLIC_NAMESPACE, type Namespacing } from "../sync/indexer.js";
import { PUBLIC_OWNER } from "../sync/vector-metadata.js";
import { and, eq, inList, type VectorFilter } from "../vector-stores/filter.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { Hydrator, SearchDocument } from "./hydrate.js";

const searchOptions = z.strictObject({
  /** Whose documents to search: theirs and public ones. `null`: public documents only. */
  userId: id.nullable(),
  /** Hits to return, 1..100. Default: the user's ragTopK setting, else 5. */
  topK: z.number().int().min(1).max(100).optional(),
  /** Lowest cosine similarity to return, -1..1. Default: the user's ragMinScore setting, else 0. */
  minScore: z.number().min(-1).max(1).optional(),
  /** Only documents carrying at least one of these tags. */
  tags: z.array(text({ min: 1, max: 100 })).min(1).max(50).optional(),
  /** Only documents from these sources. */
  source: z.union([z.enum(documentSources), z.array(z.enum(documentSources)).min(1)]).optional(),
  /** Only these documents. */
  documentIds: z.array(id).min(1).max(1_000).optional(),
  language: text({ min: 1, max: 35 }).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

/** Blank queries fail here, not at the embedder (which refuses empty text as a provider error). */
const searchQuery = text({ max: 10_000 }).refine((value) => value.trim() !== "", { message: "must contain a non-blank character" });

export type SearchOptions = z.input<typeof searchOptions>;

export interface SearchHit {
  readonly document: SearchDocument;
  readonly chunk: { readonly index: number; readonly text: string; readonly start: number; readonly end: number; readonly vectorId: string };
  /** Cosine similarity of the query and the chunk, -1..1. */
  readonly score: number;
}

export interface SearchDeps {
  readonly prisma: PrismaClient;
  readonly embedder: ManagedEmbedder;
  readonly store: ManagedVectorStore;
  readonly hydrator: Hydrator;
  readonly namespacing: Namespacing;
}

/**
 * Semantic search: embed the query, ask the vector store for the closest chunks the caller may
 * see (owner filter plus the optional tag, source, document and language filters), drop those
 * under `minScore`, and hydrate the rest from PostgreSQL in one query, keeping the store's rank.
 */
export async function search(deps: SearchDeps, query: string, options: SearchOptions): Promise<SearchHit[]> {
  const q = parseInput(searchQuery, query, "search query");
  const opts = parseInput(searchOptions, options, "search options");
  const settings =
    opts.userId !== null && (opts.topK === undefined || opts.minScore === undefined)
      ? await deps.prisma.userSettings.findUnique({ where: { userId: opts.userId }, select: { ragTopK: true, ragMinScore: true } })
      : null;
  const topK = opts.topK ?? settings?.ragTopK ?? 5;
  const minScore = opts.minScore ?? settings?.ragMinScore ?? 0;
  const vector = await deps.embedder.embedQuery(q, { signal: opts.signal });

  const sources = opts.source === undefined ? undefined : Array.isArray(opts.source) ? opts.source : [opts.source];
  const filter: VectorFilter | undefined = and(
    inList("owner", opts.userId === null ? [PUBLIC_OWNER] : [opts.userId, PUBLIC_OWNER]),
    opts.tags ? inList("tags", opts.tags) : undefined,
    sources ? inList("source", sources) : undefined,
    opts.documentIds ? inList("documentId", opts.documentIds) : undefined,
    opts.language ? eq("language", opts.language) : undefined,
  );
  const namespaces = [...new Set([namespaceFor(deps.namespacing, opts.userId), deps.namespacing === "single" ? "" : PUBLIC_NAMESPACE])];
  // Ask for a few more than topK: hits the database does not vouch for (orphans, deletes in
  // flight) are dropped during hydration and must not leave the page short.
  const fetchK = Math.min(topK + Math.max(5, topK), 10_000);
  const results = await Promise.all(
    // Hits are hydrated from PostgreSQL: the store need not send their metadata (chunk text included).
    namespaces.map((namespace) => deps.store.query({ vector, topK: fetchK, filter, namespace, includeMetadata: false }, { signal: opts.signal })),
  );
  const matches = results
    .flat()
    .filter((match) => match.score >= minScore)
    .sort((a, b) => b.score - a.score);
  const hydrated = await deps.hydrator.hydrate(
    matches.map((match) => match.id),
    opts.userId,
  );
  const hits: SearchHit[] = [];
  for (const match of matches) {
    const chunk = hydrated.get(match.id);
    if (!chunk) continue;
    const { document, ...rest } = chunk;
    hits.push({ document, chunk: rest, score: match.score });
    if (hits.length === topK) break;
  }
  return hits;
}
