import { qualifiedName, quoteIdentifier } from "../db/driver.js";
import { Prisma, type PrismaClient } from "../db/prisma.js";
import type { Document } from "../db/prisma.js";

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
}

/**
 * Loads the chunk rows and documents behind a list of vector ids in ONE query. It only returns
 * hits the database vouches for: chunks a committed index run recorded (so orphaned or
 * half-written vectors never surface), of documents (not mirrors of source rows) not being deleted, visible to `userId`
 * (own and public; `null`: public only) — a second, independent tenant check behind the vector
 * store's own filter.
 */
export class Hydrator {
  private readonly sql: string;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
  ) {
    const columns = Object.values(Prisma.DocumentScalarFieldEnum)
      .filter((column) => !OMITTED.has(column))
      .map((column) => (column === "indexStatus" ? `d."indexStatus"::text AS "indexStatus"` : `d.${quoteIdentifier(column)}`));
    this.sql = `SELECT k."vectorId" AS "k.vectorId", k.index AS "k.index", k.text AS "k.text", k.start AS "k.start", k."end" AS "k.end", ${columns.join(", ")}
      FROM ${qualifiedName(schema, "DocumentChunk")} k JOIN ${qualifiedName(schema, "Document")} d ON d.id = k."documentId"
     WHERE k."vectorId" = ANY($1::text[]) AND d."indexStatus" <> 'DELETING' AND d."sourceName" IS NULL
       AND ($2::boolean OR d."userId" IS NULL OR d."userId" = $3)`;
  }

  /** `userId`: undefined for every document, null for public documents only. */
  async hydrate(vectorIds: readonly string[], userId: string | null | undefined): Promise<Map<string, HydratedChunk>> {
    if (vectorIds.length === 0) return new Map();
    const rows = await this.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(this.sql, [...vectorIds], userId === undefined, userId ?? null);
    return new Map(
      rows.map((row) => {
        const document: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(row)) if (!key.startsWith("k.")) document[key] = value;
        // Some adapters (PGlite's) return an empty text[] from a raw query as null.
        document.tags ??= [];
        const chunk: HydratedChunk = {
          vectorId: row["k.vectorId"] as string,
          index: row["k.index"] as number,
          text: row["k.text"] as string,
          start: row["k.start"] as number,
          end: row["k.end"] as number,
          document: document as SearchDocument,
        };
        return [chunk.vectorId, chunk];
      }),
    );
  }
}
