import { executeSql, queryRows } from "../db/direct-sql.js";
import { qualifiedName } from "../db/driver.js";
import type { Prisma, PrismaClient } from "../db/prisma.js";
import { forgetStatementArgs } from "../db/prisma-debug-history.js";
import { textSearchConfigSql } from "../db/text-search-config.js";

/** A document as the sync pipeline decides on it: everything but the content. */
export interface CandidateRow {
  id: string;
  userId: string | null;
  title: string;
  source: string;
  sourceUrl: string | null;
  /** Set on the mirror of a source row: its text is read from that row. */
  sourceName: string | null;
  contentHash: string | null;
  language: string | null;
  tags: string[];
  metadata: Prisma.JsonValue | null;
  createdAt: Date;
  indexedHash: string | null;
  indexStatus: string;
  vectorNamespace: string | null;
  /** A run's lease ran out without being released: that run died or gave up, maybe before its cleanup. */
  leaseExpired: boolean;
}

/** What the pipeline knows of a stored chunk. */
export interface StoredChunk {
  vectorId: string;
  index: number;
  hash: string;
  metadataHash: string;
  start: number;
  end: number;
  tokenCount: number;
}

export interface ClaimedRow extends CandidateRow {
  content: string | null;
  updatedAt: Date;
  vectorIds: string[];
  /** Status before this claim. */
  previousStatus: string;
  /** An earlier run's lease had expired: that run died midway and may have left unlisted vectors. */
  interrupted: boolean;
  /** This run's epoch: the ids of the vectors it writes carry it. */
  epoch: number;
  /**
   * When `interrupted`: how long, in ms, the interrupted run's requests may still land (one lease
   * after its lease ended); null once that window has closed.
   */
  lateWritesMs: number | null;
  chunks: StoredChunk[];
}

export interface ChunkRow extends StoredChunk {
  documentId: string;
  text: string;
  embedder: string;
}

export interface DeleteClaim {
  id: string;
  /** Whether the caller's token holds the lease (false: another run does, wait for it; or `live` is false). */
  claimed: boolean;
  /** Whether the caller's generation is live: false after a model change made another one live. */
  live: boolean;
  userId: string | null;
  vectorNamespace: string | null;
  vectorIds: string[];
  mayHaveOrphans: boolean;
  /** As ClaimedRow's: how long an interrupted index run's requests may still land; null if none may. */
  lateWritesMs: number | null;
}

export interface SweepClaim {
  /** Whether the caller's token now holds the lease. */
  held: boolean;
  /** Whether the lease had been left to run out (by a run that died, or gave up its cleanup). */
  expired: boolean;
  status: string;
  vectorIds: string[];
  vectorNamespace: string | null;
  /** As ClaimedRow's, when the lease taken had run out. */
  lateWritesMs: number | null;
}

export interface CommitInput {
  id: string;
  vectorIds: string[];
  indexedHash: string;
  embedder: string;
  namespace: string;
  /** updatedAt as read at claim time: if the row changed since, it is committed as PENDING, not INDEXED. */
  readUpdatedAt: Date;
  /** Keep the lease after the commit: stale vectors are still to be deleted under it. */
  keepLease: boolean;
}

const candidateColumns = `d.id, d."userId", d.title, d.source, d."sourceUrl", d."sourceName", d."contentHash", d.language, d.tags, d.metadata,
  d."createdAt", d."indexedHash", d."indexStatus"::text AS "indexStatus", d."vectorNamespace", COALESCE(d."syncLeaseUntil" < now(), false) AS "leaseExpired"`;

/** Ms from now until one lease ($3, in ms) after the lease `until` ended, when that is still ahead; else null. */
const lateWritesWindow = (until: string) =>
  `CASE WHEN ${until} + make_interval(secs => $3::float8 / 1000) > now()
        THEN extract(epoch FROM ${until} + make_interval(secs => $3::float8 / 1000) - now()) * 1000 END`;

// Raw queries through some adapters (PGlite's) return an empty text[] as null; rows are normalised on the way in.

/**
 * The sync pipeline's SQL: raw statements because each does in one round trip what the
 * Prisma API would do in several (claim + load, fenced commit of a whole batch). Table names
 * are schema-qualified, so the statements do not depend on a connection's search_path.
 */
export class DocumentStateTable {
  private readonly document: string;
  private readonly chunk: string;
  private readonly status: string;
  private readonly generation: string;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
  ) {
    this.document = qualifiedName(schema, "Document");
    this.chunk = qualifiedName(schema, "DocumentChunk");
    this.status = qualifiedName(schema, "IndexStatus");
    this.generation = qualifiedName(schema, "IndexGeneration");
  }

  /** The documents' sync-relevant columns, without content. */
  async candidates(ids: readonly string[]): Promise<CandidateRow[]> {
    const rows = await this.prisma.$queryRawUnsafe<CandidateRow[]>(`SELECT ${candidateColumns} FROM ${this.document} d WHERE d.id = ANY($1::text[])`, [...ids]);
    return rows.map((row) => ({ ...row, tags: row.tags ?? [] }));
  }

  /**
   * Claims the documents whose lease is free (and that are not being deleted) for a run of the
   * generation `embedder` built, while it is live: writes `token` with an expiry, starts a new
   * epoch, marks them INDEXING, and returns them with their content and stored chunks.
   *
   * A model change's cut-over waits for every lease to end, and a claim waits for the cut-over
   * (its table lock): so no run of a replaced generation claims, writes or holds anything after it.
   */
  async claim(ids: readonly string[], token: string, leaseMs: number, embedder: string): Promise<ClaimedRow[]> {
    const rows = await this.prisma.$queryRawUnsafe<ClaimedRow[]>(
      `WITH free AS (
         SELECT id, "indexStatus"::text AS "previousStatus", "syncLeaseUntil" IS NOT NULL AS interrupted,
                (${lateWritesWindow(`"syncLeaseUntil"`)})::float8 AS "lateWritesMs" FROM ${this.document}
          WHERE id = ANY($1::text[]) AND "indexStatus" <> 'DELETING' AND ("syncLeaseUntil" IS NULL OR "syncLeaseUntil" < now())
            AND EXISTS (SELECT 1 FROM ${this.generation} g WHERE g.state = 'LIVE' AND g.embedder = $4)
          FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE ${this.document} d SET "syncToken" = $2, "syncLeaseUntil" = now() + make_interval(secs => $3::float8 / 1000),
                "indexStatus" = 'INDEXING', "indexStatusAt" = now(), "syncEpoch" = d."syncEpoch" + 1
           FROM free WHERE d.id = free.id
         RETURNING ${candidateColumns}, d.content, d."updatedAt", d."vectorIds", free."previousStatus", free.interrupted,
                   free."lateWritesMs", d."syncEpoch" AS epoch
       )
       SELECT c.*, COALESCE((
         SELECT json_agg(json_build_object('vectorId', k."vectorId", 'index', k.index, 'hash', k.hash, 'metadataHash', k."metadataHash",
                                           'start', k.start, 'end', k."end", 'tokenCount', k."tokenCount") ORDER BY k.index)
           FROM ${this.chunk} k WHERE k."documentId" = c.id), '[]'::json) AS chunks
       FROM claimed c`,
      [...ids],
      token,
      leaseMs,
      embedder,
    );
    return rows.map((row) => ({ ...row, tags: row.tags ?? [], vectorIds: row.vectorIds ?? [] }));
  }

  /**
   * Records what the store now holds for each document, only where `token` still holds the
   * lease (a fence), in one statement: the document row, its removed chunk rows and its new or
   * moved ones. Returns the status each committed document ended in (absent: lease lost).
   */
  async commit(documents: readonly CommitInput[], chunks: readonly ChunkRow[], token: string): Promise<Map<string, string>> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ id: string; status: string }>>(
      `WITH docs AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS x(id text, "vectorIds" text[], "indexedHash" text, embedder text, namespace text, "readUpdatedAt" timestamp(3), "keepLease" boolean)
       ), upd AS (
         UPDATE ${this.document} d SET
           "vectorIds" = docs."vectorIds", "chunkCount" = cardinality(docs."vectorIds"), "indexedHash" = docs."indexedHash",
           embedder = docs.embedder, "vectorNamespace" = docs.namespace,
           "indexStatus" = (CASE WHEN d."indexStatus" = 'DELETING' THEN 'DELETING'
                                 WHEN d."updatedAt" = docs."readUpdatedAt" THEN 'INDEXED' ELSE 'PENDING' END)::${this.status},
           indexed = (d."indexStatus" <> 'DELETING' AND d."updatedAt" = docs."readUpdatedAt"),
           "indexError" = NULL, "indexStatusAt" = now(), "indexedAt" = now(),
           "syncToken" = CASE WHEN docs."keepLease" THEN d."syncToken" END,
           "syncLeaseUntil" = CASE WHEN docs."keepLease" THEN d."syncLeaseUntil" END
         FROM docs WHERE d.id = docs.id AND d."syncToken" = $3
           -- A run of a generation a model change has replaced since it claimed lands nothing.
           AND EXISTS (SELECT 1 FROM ${this.generation} g WHERE g.state = 'LIVE' AND g.embedder = docs.embedder)
         RETURNING d.id, d."indexStatus"::text AS status, docs."vectorIds"
       ), removed AS (
         DELETE FROM ${this.chunk} k USING upd WHERE k."documentId" = upd.id AND NOT (k."vectorId" = ANY(upd."vectorIds"))
       ), written AS (
         INSERT INTO ${this.chunk} ("vectorId", "documentId", index, hash, "metadataHash", text, start, "end", "tokenCount", embedder, lexemes, "createdAt", "updatedAt")
         SELECT c."vectorId", c."documentId", c.index, c.hash, c."metadataHash", c.text, c.start, c."end", c."tokenCount", c.embedder,
                to_tsvector(${textSearchConfigSql("d.language")}, c.text), now(), now()
           FROM jsonb_to_recordset($2::jsonb) AS c("vectorId" text, "documentId" text, index int, hash text, "metadataHash" text, text text,
                                                    start int, "end" int, "tokenCount" int, embedder text)
           JOIN upd ON upd.id = c."documentId" JOIN ${this.document} d ON d.id = c."documentId"
         ON CONFLICT ("vectorId") DO UPDATE SET index = EXCLUDED.index, "metadataHash" = EXCLUDED."metadataHash", start = EXCLUDED.start,
           "end" = EXCLUDED."end", "tokenCount" = EXCLUDED."tokenCount", lexemes = EXCLUDED.lexemes, "updatedAt" = now()
       )
       SELECT id, status FROM upd`,
      JSON.stringify(documents.map((d) => ({ ...d, readUpdatedAt: d.readUpdatedAt.toISOString() }))),
      JSON.stringify(chunks),
      token,
    );
    // The chunk rows' JSON is a megabyte for a batch: Prisma's client would keep it.
    forgetStatementArgs();
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** Extends the lease of these documents where `token` still holds it; returns the ids it holds. */
  async renewLease(ids: readonly string[], token: string, leaseMs: number): Promise<string[]> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `UPDATE ${this.document} SET "syncLeaseUntil" = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = ANY($1::text[]) AND "syncToken" = $2
        RETURNING id`,
      [...ids],
      token,
      leaseMs,
    );
    return rows.map((row) => row.id);
  }

  /**
   * Takes a document's lease for a sweep if it is free, or was left to run out by a run that got
   * as far as recording its result (a lease left on an INDEXING or DELETING row is for the index
   * or delete run that takes the document over). No row: the document is gone.
   */
  async leaseForSweep(documentId: string, token: string, leaseMs: number): Promise<SweepClaim | undefined> {
    const [row] = await this.prisma.$queryRawUnsafe<SweepClaim[]>(
      `WITH target AS (
         SELECT id, "indexStatus"::text AS status, "syncLeaseUntil" AS until FROM ${this.document} WHERE id = $1 FOR UPDATE
       ), taken AS (
         UPDATE ${this.document} d SET "syncToken" = $2, "syncLeaseUntil" = now() + make_interval(secs => $3::float8 / 1000)
           FROM target WHERE d.id = target.id
            AND (target.until IS NULL OR (target.until < now() AND target.status NOT IN ('INDEXING', 'DELETING')))
         RETURNING d."vectorIds", d."vectorNamespace"
       )
       SELECT EXISTS (SELECT 1 FROM taken) AS held, COALESCE(target.until < now(), false) AS expired, target.status,
              (SELECT "vectorIds" FROM taken) AS "vectorIds", (SELECT "vectorNamespace" FROM taken) AS "vectorNamespace",
              (${lateWritesWindow("target.until")})::float8 AS "lateWritesMs"
         FROM target`,
      documentId,
      token,
      leaseMs,
    );
    return row && { ...row, vectorIds: row.vectorIds ?? [] };
  }

  /** Takes the lease of whichever of these documents are free, changing nothing else; returns their ids. */
  async leaseQuietly(ids: readonly string[], token: string, leaseMs: number): Promise<string[]> {
    const rows = await this.prisma.$queryRawUnsafe<Array<{ id: string }>>(
      `UPDATE ${this.document} SET "syncToken" = $2, "syncLeaseUntil" = now() + make_interval(secs => $3::float8 / 1000)
        WHERE id = ANY($1::text[]) AND ("syncLeaseUntil" IS NULL OR "syncLeaseUntil" < now())
        RETURNING id`,
      [...ids],
      token,
      leaseMs,
    );
    return rows.map((row) => row.id);
  }

  /**
   * Removes vectors the store no longer holds from a document's row and chunk rows (under its
   * lease), and marks it PENDING so the next index run embeds them again.
   */
  async forgetVectors(documentId: string, vectorIds: readonly string[], token: string): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `WITH gone AS (DELETE FROM ${this.chunk} WHERE "documentId" = $1 AND "vectorId" = ANY($2::text[]))
       UPDATE ${this.document} SET
              "vectorIds" = array(SELECT v FROM unnest("vectorIds") WITH ORDINALITY AS t(v, i) WHERE NOT (v = ANY($2::text[])) ORDER BY i),
              "chunkCount" = cardinality(array(SELECT v FROM unnest("vectorIds") AS t(v) WHERE NOT (v = ANY($2::text[])))),
              indexed = false, "indexedHash" = NULL,
              "indexStatus" = (CASE WHEN "indexStatus" = 'DELETING' THEN 'DELETING' ELSE 'PENDING' END)::${this.status}, "indexStatusAt" = now()
        WHERE id = $1 AND "syncToken" = $3`,
      documentId,
      [...vectorIds],
      token,
    );
  }

  /** Releases the lease where `token` still holds it. */
  async release(ids: readonly string[], token: string): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.document} SET "syncToken" = NULL, "syncLeaseUntil" = NULL WHERE id = ANY($1::text[]) AND "syncToken" = $2`,
      [...ids],
      token,
    );
  }

  /** Ends the lease as if its run had died, so the next claim of these documents sweeps for orphans. */
  async expireLease(ids: readonly string[], token: string): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.document} SET "syncLeaseUntil" = now() - interval '1 millisecond' WHERE id = ANY($1::text[]) AND "syncToken" = $2`,
      [...ids],
      token,
    );
  }

  /** Records a failed run (where `token` still holds the lease) and releases the lease. */
  async fail(ids: readonly string[], token: string, error: string): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.document} SET
         "indexStatus" = (CASE WHEN "indexStatus" = 'DELETING' THEN 'DELETING' ELSE 'FAILED' END)::${this.status},
         indexed = false, "indexError" = $3, "indexStatusAt" = now(), "syncToken" = NULL, "syncLeaseUntil" = NULL
       WHERE id = ANY($1::text[]) AND "syncToken" = $2`,
      [...ids],
      token,
      error,
    );
  }

  /**
   * Marks documents DELETING (which hides them from search at once) and, while the generation
   * `embedder` built is live, claims the leases that are free. Returns a row per document that
   * exists, saying whether this token now holds it, whether that generation is live (as `claim`,
   * so a delete that chose its generation before a cut-over deletes nothing from the old one
   * after it), the vectors it records, and whether an earlier run may have left vectors it does
   * not record (an index run that failed or died midway).
   */
  claimForDelete(ids: readonly string[], token: string, leaseMs: number, embedder: string): Promise<DeleteClaim[]> {
    return queryRows<DeleteClaim>(
      this.prisma,
      `WITH generation AS (
           SELECT EXISTS (SELECT 1 FROM ${this.generation} g WHERE g.state = 'LIVE' AND g.embedder = $4) AS live
         ), before AS (
           SELECT id, "indexStatus"::text AS status, "syncLeaseUntil",
                  generation.live AND ("syncLeaseUntil" IS NULL OR "syncLeaseUntil" < now()) AS free
             FROM ${this.document} doc, generation WHERE id = ANY($1::text[]) FOR UPDATE OF doc
         )
         UPDATE ${this.document} d SET "indexStatus" = 'DELETING', "indexStatusAt" = now(), indexed = false,
           "syncToken" = CASE WHEN before.free THEN $2 ELSE d."syncToken" END,
           "syncLeaseUntil" = CASE WHEN before.free THEN now() + make_interval(secs => $3::float8 / 1000) ELSE d."syncLeaseUntil" END
         FROM before, generation WHERE d.id = before.id
         RETURNING d.id, d."syncToken" = $2 AS claimed, generation.live, d."userId", d."vectorNamespace", d."vectorIds",
                   (before.status IN ('FAILED', 'INDEXING') OR before."syncLeaseUntil" < now()) AS "mayHaveOrphans",
                   (CASE WHEN before."syncLeaseUntil" < now() THEN ${lateWritesWindow(`before."syncLeaseUntil"`)} END)::float8 AS "lateWritesMs"`,
      [...ids],
      token,
      leaseMs,
      embedder,
    ).then((rows) => rows.map((row) => ({ ...row, vectorIds: row.vectorIds ?? [] })));
  }

  /** Deletes the rows (their chunk rows cascade) whose lease `token` holds. */
  async deleteRows(ids: readonly string[], token: string): Promise<void> {
    await executeSql(this.prisma, `DELETE FROM ${this.document} WHERE id = ANY($1::text[]) AND "syncToken" = $2`, [...ids], token);
  }

  /** Keeps DELETING documents hidden, records why their vectors could not be deleted, and releases the leases. */
  async failDelete(ids: readonly string[], token: string, error: string): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.document} SET "indexError" = $3, "indexStatusAt" = now(), "syncToken" = NULL, "syncLeaseUntil" = NULL
        WHERE id = ANY($1::text[]) AND "syncToken" = $2`,
      [...ids],
      token,
      error,
    );
  }
}
