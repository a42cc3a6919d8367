import { z } from "zod";
import type { PrismaClient } from "../db/prisma.js";
import { fromPrismaError } from "../db/prisma-errors.js";
import type { ManagedEmbedder } from "../embedders/managed-embedder.js";
import { DualstoreError, ValidationError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { id, text } from "../repository/fields.js";
import { namespaceFor, PUBLIC_NAMESPACE, type Namespacing } from "../sync/indexer.js";
import { metadataField, ownerKey } from "../sync/vector-metadata.js";
import { and, inList, type FilterValue, type VectorFilter } from "../vector-stores/filter.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { AnySource, Source, SourceRow } from "./source.js";
import { COLUMN_PREFIX, hydrateSql } from "./source-sql.js";
import type { SourceRegistry } from "./sources.js";

const filterValue = z.union([z.string(), z.number().refine(Number.isFinite, "must be finite"), z.boolean()]);

const sourceSearchOptions = z.strictObject({
  /** The sources to search, by name or as declared; at least one. */
  sources: z.array(z.union([z.string(), z.object({ name: z.string() }).loose()])).min(1).max(20),
  /** Whose rows: theirs and public ones (rows of a source without an owner column). `null`: public rows only. */
  userId: id.nullable(),
  /** Hits to return, 1..100. Default 5. */
  topK: z.number().int().min(1).max(100).optional(),
  /** Lowest cosine similarity to return, -1..1. Default 0. */
  minScore: z.number().min(-1).max(1).optional(),
  /** Only rows whose metadata columns hold these values (a list: any of them). Every searched source must declare each column as metadata. */
  filter: z.record(z.string(), z.union([filterValue, z.array(filterValue).min(1).max(1_000)])).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

type SourceRef = string | AnySource;

export interface SourceSearchOptions<S extends readonly SourceRef[] = readonly SourceRef[]> {
  /** The sources to search, by name or as declared (typed hits); at least one. */
  readonly sources: S;
  /** Whose rows: theirs and public ones (rows of a source without an owner). `null`: public rows only. */
  readonly userId: string | null;
  /** Hits to return, 1..100. Default 5. */
  readonly topK?: number;
  /** Lowest cosine similarity to return, -1..1. Default 0. */
  readonly minScore?: number;
  /** Only rows whose metadata columns hold these values (a list: any of them); each column must be declared as metadata by every searched source. */
  readonly filter?: Readonly<Record<string, FilterValue | readonly FilterValue[]>>;
  readonly signal?: AbortSignal;
}

/** One hit: the app's own row, which source and key it is, and the chunk of its text that matched. */
export interface SourceHit<Row extends object = SourceRow, Name extends string = string> {
  readonly source: Name;
  /** The row's key, as text. */
  readonly key: string;
  /** The row as the database returns it now (read in the same statement as the chunk). */
  readonly row: Row;
  readonly chunk: { readonly index: number; readonly text: string; readonly start: number; readonly end: number; readonly vectorId: string };
  /** Cosine similarity of the query and the chunk, -1..1. */
  readonly score: number;
}

/** The hit type of one entry of `sources`: typed rows for a declared source, plain ones for a name. */
export type SourceHitOf<S> = S extends Source<infer Row, infer Name> ? SourceHit<Row, Name> : SourceHit;

export interface SourceSearchDeps {
  readonly prisma: PrismaClient;
  readonly embedder: ManagedEmbedder;
  readonly store: ManagedVectorStore;
  readonly namespacing: Namespacing;
  readonly registry: SourceRegistry;
}

/**
 * Searches sources: embed the query, ask the vector store (through the same managed store as
 * document search) for the closest chunks of the given sources' mirrors the caller may see, then
 * hydrate them from the app's own rows, one statement per source, keeping the store's rank.
 * Owner scoping is twice over, as for documents: mirrors' vectors carry an owner key of their
 * own source (so no document search or other source can match them), and hydration checks the
 * mirror's current owner.
 */
export async function searchSources<const S extends readonly SourceRef[]>(
  deps: SourceSearchDeps,
  query: string,
  options: SourceSearchOptions<S>,
): Promise<Array<SourceHitOf<S[number]>>> {
  const q = parseInput(text({ min: 1, max: 10_000 }), query, "search query");
  const opts = parseInput(sourceSearchOptions, options, "source search options");
  const names = [...new Set(opts.sources.map((ref) => (typeof ref === "string" ? ref : ref.name)))];
  const sources = names.map((name) => deps.registry.get(name));
  const filterColumns = Object.keys(opts.filter ?? {});
  const undeclared = filterColumns.flatMap((column) => sources.filter((source) => !source.metadata.includes(column)).map((source) => ({ column, source })));
  if (undeclared.length > 0) {
    throw new ValidationError(
      "source search options",
      undeclared.map(({ column, source }) => ({ path: `filter.${column}`, message: `source "${source.name}" declares no metadata column "${column}"` })),
    );
  }
  const resolved = await Promise.all(names.map((name) => deps.registry.resolve(name)));
  const topK = opts.topK ?? 5;
  const minScore = opts.minScore ?? 0;
  const vector = await deps.embedder.embedQuery(q, { signal: opts.signal });

  const owners = names.flatMap((name) => (opts.userId === null ? [ownerKey(null, name)] : [ownerKey(opts.userId, name), ownerKey(null, name)]));
  const filter: VectorFilter | undefined = and(
    inList("owner", owners),
    ...Object.entries(opts.filter ?? {}).map(([column, value]) => inList(metadataField(column), Array.isArray(value) ? value : [value])),
  );
  const namespaces = [...new Set([namespaceFor(deps.namespacing, opts.userId), deps.namespacing === "single" ? "" : PUBLIC_NAMESPACE])];
  // As document search: a few more than topK, since hydration drops what the database does not vouch for.
  const fetchK = Math.min(topK + Math.max(5, topK), 10_000);
  const results = await Promise.all(
    namespaces.map((namespace) => deps.store.query({ vector, topK: fetchK, filter, namespace, includeMetadata: false }, { signal: opts.signal })),
  );
  const matches = results
    .flat()
    .filter((match) => match.score >= minScore)
    .sort((a, b) => b.score - a.score);
  if (matches.length === 0) return [];
  const ids = matches.map((match) => match.id);

  const found = new Map<string, SourceHit>();
  for (const source of resolved) {
    const rows = await deps.prisma.$queryRawUnsafe<SourceRow[]>(hydrateSql(source), ids, opts.userId).catch((error: unknown) => {
      if (error instanceof DualstoreError) throw error;
      throw fromPrismaError(error, { entity: `source ${source.source.name}` });
    });
    for (const row of rows) {
      const read = (name: string) => {
        const value = row[`${COLUMN_PREFIX}${name}`];
        delete row[`${COLUMN_PREFIX}${name}`];
        return value;
      };
      const vectorId = read("vectorId") as string;
      const chunk = { index: read("index") as number, text: read("text") as string, start: read("start") as number, end: read("end") as number, vectorId };
      found.set(vectorId, { source: source.source.name, key: read("key") as string, row, chunk, score: 0 });
    }
  }
  const hits: SourceHit[] = [];
  for (const match of matches) {
    const hit = found.get(match.id);
    if (!hit) continue;
    hits.push({ ...hit, score: match.score });
    if (hits.length === topK) break;
  }
  return hits as Array<SourceHitOf<S[number]>>;
}
