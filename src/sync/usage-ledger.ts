import { z } from "zod";
import { qualifiedName } from "../db/driver.js";
import type { PrismaClient } from "../db/prisma.js";
import { parseInput } from "../internal/validate.js";
import { storableDate } from "../repository/fields.js";

/** One row of the usage ledger: what one owner's documents cost with one embedder on one UTC day. */
export interface UsageRow {
  /** The UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** The documents' owner; null for public documents. */
  readonly userId: string | null;
  /** The embedder's id (provider, model and dimension). */
  readonly model: string;
  /** Tokens of the texts embedded, as the chunker counts them. */
  readonly tokens: number;
  readonly texts: number;
  /** Embedding requests sent, retries included; a request carrying several owners' texts counts for each. */
  readonly requests: number;
}

export interface UsageQuery {
  /** One owner's rows (null: public documents'). Default: every owner. */
  userId?: string | null;
  /** First UTC day, inclusive (`YYYY-MM-DD` or a Date). Default: no lower bound. */
  from?: string | Date;
  /** Last UTC day, inclusive. Default: no upper bound. */
  to?: string | Date;
}

/** What one embedding call used for one owner, to add to today's row. */
export interface UsageEntry {
  readonly userId: string | null;
  readonly model: string;
  readonly tokens: number;
  readonly texts: number;
  readonly requests: number;
}

const day = z.union([
  z.iso.date(),
  // Years 1 to 9999 only: a later one's ISO string ("+010000-...") is no date PostgreSQL reads.
  z
    .date()
    .refine(storableDate, { message: "must be between the years 1 and 9999" })
    .transform((date) => date.toISOString().slice(0, 10)),
]);
const usageQuery = z
  .object({ userId: z.string().min(1).max(191).nullable().optional(), from: day.optional(), to: day.optional() })
  .strict()
  .optional();

/** Public documents' rows carry this owner key (a primary key column cannot be null). */
const PUBLIC = "";

/** The EmbeddingUsage table: adds to today's row per owner and model, reads rows back by owner and day. */
export class UsageLedger {
  private readonly table: string;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
  ) {
    this.table = qualifiedName(schema, "EmbeddingUsage");
  }

  /** Adds `entries` to today's (UTC) rows, in one statement. */
  async record(entries: readonly UsageEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((entry) => ({ ...entry, userId: entry.userId ?? PUBLIC }));
    await this.prisma.$executeRawUnsafe(
      `INSERT INTO ${this.table} AS u (day, "userId", model, tokens, texts, requests, "updatedAt")
       SELECT (now() AT TIME ZONE 'UTC')::date, x."userId", x.model, x.tokens, x.texts, x.requests, now()
         FROM jsonb_to_recordset($1::jsonb) AS x("userId" text, model text, tokens bigint, texts int, requests int)
        -- Rows are taken in one order by every writer, so concurrent workers never deadlock on them.
        ORDER BY x."userId", x.model
       ON CONFLICT (day, "userId", model) DO UPDATE
          SET tokens = u.tokens + excluded.tokens, texts = u.texts + excluded.texts,
              requests = u.requests + excluded.requests, "updatedAt" = now()`,
      JSON.stringify(rows),
    );
  }

  /** Rows by day, then owner, then model. Throws ValidationError for a malformed query. */
  async read(query?: UsageQuery): Promise<UsageRow[]> {
    const { userId, from, to } = parseInput(usageQuery, query, "usage query") ?? {};
    const rows = await this.prisma.$queryRawUnsafe<Array<{ day: string; userId: string; model: string; tokens: string; texts: number; requests: number }>>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, "userId", model, tokens::text AS tokens, texts, requests
         FROM ${this.table}
        WHERE ($1::text IS NULL OR "userId" = $1) AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
        ORDER BY day, "userId", model`,
      userId === undefined ? null : (userId ?? PUBLIC),
      from ?? null,
      to ?? null,
    );
    return rows.map((row) => ({
      day: row.day,
      userId: row.userId === PUBLIC ? null : row.userId,
      model: row.model,
      tokens: Number(row.tokens),
      texts: row.texts,
      requests: row.requests,
    }));
  }
}
