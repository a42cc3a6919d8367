import type { ManagedEmbedder } from "../embedders/managed-embedder.js";
import { namespaceFor, PUBLIC_NAMESPACE, type Namespacing } from "../sync/indexer.js";
import { PUBLIC_OWNER } from "../sync/vector-metadata.js";
import { and, eq, inList, type VectorFilter } from "../vector-stores/filter.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { VectorMatch } from "../vector-stores/vector-store.js";
import type { ChunkScope } from "./chunk-query.js";

/** What the vector side of a search asks: the embedder for the query's vector, the store for its neighbours. */
export interface VectorSide {
  readonly embedder: ManagedEmbedder;
  readonly store: ManagedVectorStore;
  readonly namespacing: Namespacing;
}

/** Which provider failed, and how. */
export class VectorSideError extends Error {
  constructor(
    readonly component: "embedder" | "vectorStore",
    options: { cause: unknown },
  ) {
    super(`search: the ${component === "embedder" ? "embedder" : "vector store"} failed`, options);
  }
}

/**
 * The vector side of a search, in one place: embeds the query (one embedder request; or takes
 * the vector {@link embedQuery} made) and asks
 * the store for the `topK` closest chunks inside the scope (one query per namespace searched),
 * best first. A provider failure comes back as a VectorSideError naming the provider, which
 * search unwraps before anything reaches the caller.
 */
export async function queryVectors(
  side: VectorSide,
  query: string | readonly number[],
  request: ChunkScope & { topK: number; signal?: AbortSignal | undefined },
): Promise<VectorMatch[]> {
  const vector = typeof query === "string" ? await embedQuery(side, query, request.signal) : [...query];
  const owner = request.userId;
  const filter: VectorFilter | undefined = and(
    owner === undefined ? undefined : inList("owner", owner === null ? [PUBLIC_OWNER] : [owner, PUBLIC_OWNER]),
    request.tags ? inList("tags", [...request.tags]) : undefined,
    request.sources ? inList("source", [...request.sources]) : undefined,
    request.documentIds ? inList("documentId", [...request.documentIds]) : undefined,
    request.language ? eq("language", request.language) : undefined,
  );
  const namespaces = [...new Set([namespaceFor(side.namespacing, owner ?? null), side.namespacing === "single" ? "" : PUBLIC_NAMESPACE])];
  const results = await Promise.all(
    // Hits are hydrated from PostgreSQL: the store need not send their metadata (chunk text included).
    namespaces.map((namespace) => side.store.query({ vector, topK: request.topK, filter, namespace, includeMetadata: false }, { signal: request.signal })),
  ).catch((error: unknown) => {
    throw new VectorSideError("vectorStore", { cause: error });
  });
  return results.flat().sort((a, b) => b.score - a.score);
}

/** The query's vector (one embedder request); a failure comes back as a VectorSideError. */
export async function embedQuery(side: VectorSide, query: string, signal: AbortSignal | undefined): Promise<number[]> {
  return side.embedder.embedQuery(query, { signal }).catch((error: unknown) => {
    throw new VectorSideError("embedder", { cause: error });
  });
}
