import { z } from "zod";
import { ValidationError } from "../errors.js";
import { id, storableDate } from "./fields.js";

/** One page of a list, and the cursor for the next (null on the last page). */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export const pageInput = {
  /** Rows per page, 1..100. Default 20. */
  limit: z.number().int().min(1).max(100).default(20),
  /** `nextCursor` of the previous page. */
  cursor: z.string().min(1).max(500).optional(),
};

/** Where the previous page ended: the sort value and id of its last row. */
interface CursorPosition {
  readonly at: Date;
  readonly id: string;
}

function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.at.getTime(), position.id])).toString("base64url");
}

/**
 * The position a cursor encodes. A cursor travels through clients, so it is checked as input:
 * anything but what encodeCursor made (a storable instant and a valid id) names `cursor`.
 */
export function decodeCursor(cursor: string): CursorPosition {
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(position) && position.length === 2) {
      const [ms, key] = position as unknown[];
      if (typeof ms === "number" && Number.isInteger(ms) && storableDate(new Date(ms)) && id.safeParse(key).success) {
        return { at: new Date(ms), id: key as string };
      }
    }
  } catch {
    // fall through to the typed error
  }
  throw new ValidationError("cursor", [{ path: "cursor", message: "not a cursor returned by this list" }]);
}

/**
 * Keyset pagination on (field, id): the rows strictly after the cursor in the given direction.
 * Unlike offset or Prisma's row cursor, it stays correct when rows are added or the cursor row
 * is deleted between pages, and it is served by the (owner, field, id) indexes.
 */
export function afterCursor<F extends string>(
  field: F,
  cursor: string | undefined,
  direction: "asc" | "desc",
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  const { at, id } = decodeCursor(cursor);
  const beyond = direction === "desc" ? "lt" : "gt";
  return { OR: [{ [field]: { [beyond]: at } }, { [field]: at, id: { [beyond]: id } }] };
}

/** Turns `limit + 1` fetched rows into a page: the extra row only says another page exists. */
export function toPage<T extends { id: string }>(rows: T[], limit: number, sortValue: (row: T) => Date): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor({ at: sortValue(last), id: last.id }) : null,
  };
}
