import { queryRows } from "../db/direct-sql.js";
import { qualifiedName, quoteIdentifier } from "../db/driver.js";
import { Prisma, type PrismaClient } from "../db/prisma.js";
import type { Document } from "../db/prisma.js";
import { textSearchConfigSql } from "../db/text-search-config.js";

/**
 * A document as search returns it: without its content, its vector ids (one per chunk, so
 * thousands for a large document) and its sync lease, none of which a hit needs.
 */
export type SearchDocument = Omit<Document, "content" | "vectorIds" | "syncToken" | "syncLeaseUntil">;

/** Columns hydration leaves out; see SearchDocument. */
const OMITTED = new Set(["content", "vectorIds", "syncToken", "syncLeaseUntil"]);

export interface HydratedChunk {
  readonly vectorId: string;
  readonly index: number;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly document: SearchDocument;
  /** The chunk's lexical rank (`ts_rank`, length-normalized) when it matched the query's words. */
  readonly lexicalRank: number | undefined;
}

/** Which documents a query may return: the same conditions bind the lexical and the vector side. */
export interface ChunkScope {
  /** undefined: every document; null: public documents only. */
  readonly userId: string | null | undefined;
  readonly tags?: readonly string[];
  readonly sources?: readonly string[];
  readonly documentIds?: readonly string[];
  readonly language?: string;
}

export interface ChunkQueryRequest extends ChunkScope {
  /** Chunks to hydrate whatever their words (the vector side's candidates). */
  readonly vectorIds: readonly string[];
  /** Text to rank chunks by, or undefined for no lexical side. */
  readonly text: string | undefined;
  /** How many lexically best chunks to return besides `vectorIds`. */
  readonly lexicalLimit: number;
  /** Rank documents, not chunks: keep each document's best `perDocument` chunks, documents by their best. */
  readonly perDocument?: number;
}

/** A chunk's text and place in its document, as neighbouring-chunk context returns it. */
export interface ChunkText {
  readonly index: number;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Lexical ranking and hydration in ONE statement. The lexical side matches any of the query's
 * words (an OR query: AND queries match almost nothing for natural questions), read with the text
 * search configuration of each language the documents use, so a query finds each document in its
 * own language, and ranks each
 * chunk with `ts_rank` normalized by length (1), which tracks BM25 closely. The same statement
 * loads the vector side's candidates. Either way it only returns chunks the database vouches
 * for: recorded by a committed index run, of a document not being deleted, visible to the
 * caller (own and public; a second, independent tenant check behind the vector store's own
 * filter), inside the filters, and not a source mirror (sources have their own search).
 */
export class ChunkQuery {
  private readonly sql: string;
  private readonly neighbourSql: string;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
  ) {
    const columns = Object.values(Prisma.DocumentScalarFieldEnum)
      .filter((column) => !OMITTED.has(column))
      .map((column) => (column === "indexStatus" ? `d."indexStatus"::text AS "indexStatus"` : `d.${quoteIdentifier(column)}`));
    const chunk = qualifiedName(schema, "DocumentChunk");
    const document = qualifiedName(schema, "Document");
    // $2 all owners, $3 owner, $4 tags, $5 sources, $6 document ids, $7 language.
    const visible = `d."indexStatus" <> 'DELETING' AND d."sourceName" IS NULL
       AND ($2::boolean OR d."userId" IS NULL OR d."userId" = $3)
       AND ($4::text[] IS NULL OR d.tags && $4::text[]) AND ($5::text[] IS NULL OR d.source = ANY($5::text[]))
       AND ($6::text[] IS NULL OR d.id = ANY($6::text[])) AND ($7::text IS NULL OR d.language = $7)`;
    // $8 query text (null: no lexical side), $9 lexical limit (chunks), $10 chunks per document
    // (null: rank chunks; else rank documents by their best chunk and keep their best $10 chunks,
    // so a limit of documents × $10 chunks holds at least that many documents).
    // The query is read only in the configurations of the languages the table holds (or of the
    // language filter): reading it in all 29 cost more than the ranking (every chunk was tested
    // against every reading). The distinct languages are found by walking the index on
    // Document.language, one probe per language, not by reading the documents: the cost does not
    // grow with the table, and a language another process has just written is read at once. A
    // language only other owners use adds a reading that matches none of the caller's chunks
    // (each chunk is ranked by its own document's reading). 'simple' keeps stop words, so its
    // reading drops the words English treats as stop words ("the", "of"); otherwise nearly every
    // chunk of a document with no language matches, ranked by its stop words.
    // The chunks holding any of the words are found once, through the GIN index, before any join:
    // a planner without statistics would otherwise repeat that scan for every document.
    this.sql = `WITH RECURSIVE languages(language) AS (
         SELECT min(d.language) FROM ${document} d WHERE $8::text IS NOT NULL AND $7::text IS NULL
         UNION ALL
         SELECT (SELECT min(d.language) FROM ${document} d WHERE d.language > l.language) FROM languages l WHERE l.language IS NOT NULL
       ), configs AS (
         SELECT ${textSearchConfigSql("l.language")} AS config FROM languages l WHERE l.language IS NOT NULL
         UNION SELECT ${textSearchConfigSql("$7::text")} WHERE $8::text IS NOT NULL AND $7::text IS NOT NULL
         UNION SELECT 'simple'::regconfig WHERE $8::text IS NOT NULL AND $7::text IS NULL AND EXISTS (SELECT 1 FROM ${document} d WHERE d.language IS NULL)
       ), q AS (
         SELECT c.config, regexp_replace(plainto_tsquery(c.config, CASE WHEN c.config = 'simple'::regconfig
                  THEN (SELECT coalesce(string_agg(w, ' '), '') FROM unnest(tsvector_to_array(to_tsvector('simple', $8))) AS w WHERE length(to_tsvector('english', w)) > 0)
                  ELSE $8 END)::text, ''' (&|<->|<[0-9]+>) ''', ''' | ''', 'g') AS words
           FROM configs c
       ), any_words AS (
         SELECT string_agg('(' || words || ')', ' | ')::tsquery AS query FROM q WHERE words <> ''
       ), matched AS MATERIALIZED (
         SELECT k."vectorId", k."documentId", k.lexemes FROM ${chunk} k WHERE k.lexemes @@ (SELECT query FROM any_words)
       ), scored AS (
         SELECT k."vectorId", k."documentId", ts_rank(k.lexemes, q.words::tsquery, 1) AS rank
           FROM matched k JOIN ${document} d ON d.id = k."documentId" JOIN q ON q.config = ${textSearchConfigSql("d.language")}
          WHERE q.words <> '' AND k.lexemes @@ q.words::tsquery AND ${visible}
       ), lexical AS (
         SELECT "vectorId", rank FROM (
           SELECT "vectorId", "documentId", rank, max(rank) OVER (PARTITION BY "documentId") AS best,
                  row_number() OVER (PARTITION BY "documentId" ORDER BY rank DESC, "vectorId") AS nth
             FROM scored) r
          WHERE $10::int IS NULL OR nth <= $10
          ORDER BY CASE WHEN $10::int IS NULL THEN rank ELSE best END DESC, "documentId", rank DESC, "vectorId" LIMIT $9
       )
       SELECT k."vectorId" AS "k.vectorId", k.index AS "k.index", k.text AS "k.text", k.start AS "k.start", k."end" AS "k.end",
              l.rank AS "k.lexicalRank", ${columns.join(", ")}
         FROM ${chunk} k JOIN ${document} d ON d.id = k."documentId" LEFT JOIN lexical l ON l."vectorId" = k."vectorId"
        WHERE k."vectorId" IN (SELECT "vectorId" FROM lexical UNION ALL SELECT unnest($1::text[])) AND ${visible}`;
    // $1 document ids and $2 chunk indexes, pairwise; $3 distance.
    this.neighbourSql = `SELECT DISTINCT k."documentId", k.index, k.text, k.start, k."end"
         FROM unnest($1::text[], $2::int[]) AS h("documentId", index)
         JOIN ${chunk} k ON k."documentId" = h."documentId" AND k.index BETWEEN h.index - $3::int AND h.index + $3::int
        ORDER BY k."documentId", k.index`;
  }

  async run(request: ChunkQueryRequest): Promise<HydratedChunk[]> {
    if (request.vectorIds.length === 0 && request.text === undefined) return [];
    const rows = await queryRows<Record<string, unknown>>(
      this.prisma,
      this.sql,
      [...request.vectorIds],
      request.userId === undefined,
      request.userId ?? null,
      request.tags ? [...request.tags] : null,
      request.sources ? [...request.sources] : null,
      request.documentIds ? [...request.documentIds] : null,
      request.language ?? null,
      request.text ?? null,
      request.lexicalLimit,
      request.perDocument ?? null,
    );
    return rows.map((row) => {
      const document: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) if (!key.startsWith("k.")) document[key] = value;
      // Some adapters (PGlite's) return an empty text[] from a raw query as null.
      document.tags ??= [];
      const rank = row["k.lexicalRank"];
      return {
        vectorId: row["k.vectorId"] as string,
        index: row["k.index"] as number,
        text: row["k.text"] as string,
        start: row["k.start"] as number,
        end: row["k.end"] as number,
        document: document as SearchDocument,
        lexicalRank: rank === null || rank === undefined ? undefined : Number(rank),
      };
    });
  }

  /**
   * Each document's chunks within `distance` positions of any of its given chunks (those
   * included), by document, in order, in one statement. Only documents whose hits were already vouched for
   * are asked about, so a neighbour is never another owner's.
   */
  async neighbours(hits: ReadonlyArray<{ documentId: string; index: number }>, distance: number): Promise<Map<string, ChunkText[]>> {
    const byDocument = new Map<string, ChunkText[]>();
    if (hits.length === 0 || distance <= 0) return byDocument;
    const rows = await this.prisma.$queryRawUnsafe<Array<{ documentId: string } & ChunkText>>(
      this.neighbourSql,
      hits.map((hit) => hit.documentId),
      hits.map((hit) => hit.index),
      distance,
    );
    for (const { documentId, ...chunk } of rows) {
      const list = byDocument.get(documentId) ?? [];
      list.push({ index: Number(chunk.index), text: chunk.text, start: Number(chunk.start), end: Number(chunk.end) });
      byDocument.set(documentId, list);
    }
    return byDocument;
  }
}
