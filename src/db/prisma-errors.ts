import { ConflictError, DatabaseError, DualstoreError, NotFoundError } from "../errors.js";

interface AdapterCause {
  kind?: string;
  constraint?: { fields?: string[]; index?: string };
  table?: string;
}

/**
 * Maps a Prisma error to dualstore's: unique violations to ConflictError (naming the fields),
 * missing rows and dangling foreign keys to NotFoundError, anything else to DatabaseError with
 * the original kept as `cause`. DualstoreErrors pass through untouched.
 */
export interface ErrorContext {
  /** The entity being written or read, e.g. "Chat". */
  readonly entity: string;
  readonly id?: string | undefined;
  /** For foreign keys: the entity and id each reference column points at, e.g. { userId: ["User", id] }. */
  readonly refs?: Readonly<Record<string, readonly [entity: string, id: string | null | undefined]>>;
}

export function fromPrismaError(error: unknown, context: ErrorContext): DualstoreError {
  const { entity, id } = context;
  if (error instanceof DualstoreError) return error;
  if (isKnownRequestError(error)) {
    const cause = (error.meta?.driverAdapterError as { cause?: AdapterCause } | undefined)?.cause;
    switch (error.code) {
      case "P2002":
        return new ConflictError(entity, uniqueFields(cause), { cause: error });
      case "P2025":
        return new NotFoundError(entity, id ?? "");
      case "P2021":
        return new DatabaseError(`${entity}: its table does not exist: this database has not been migrated (run \`dualstore migrate\`, or migrate() at deploy time)`, { cause: error });
      case "P2003": {
        // PostgreSQL names foreign keys `<Table>_<column>_fkey`: the row that column points at is missing.
        const column = /^[^_]+_(\w+)_fkey$/.exec(cause?.constraint?.index ?? "")?.[1] ?? cause?.constraint?.fields?.[0];
        const ref = column ? context.refs?.[column] : undefined;
        if (ref) return new NotFoundError(ref[0], ref[1] ?? "");
        break;
      }
    }
  }
  const message = error instanceof Error ? lastLine(error.message) : String(error);
  return new DatabaseError(`${entity}: ${message}`, { cause: error });
}

/**
 * Prisma's "known request error", recognised by its name and code rather than by class: an app
 * may pass its own PrismaClient (`database.prisma`), whose error classes are not dualstore's.
 */
function isKnownRequestError(error: unknown): error is { code: string; meta?: Record<string, unknown>; message: string } {
  return (
    error instanceof Error &&
    error.name === "PrismaClientKnownRequestError" &&
    typeof (error as { code?: unknown }).code === "string"
  );
}

function uniqueFields(cause: AdapterCause | undefined): string[] {
  if (cause?.constraint?.fields?.length) return cause.constraint.fields.map((f) => f.replace(/^"|"$/g, ""));
  // PostgreSQL names unique indexes `<Table>_<field>[_<field>]_key`.
  const index = cause?.constraint?.index;
  const match = index ? /^[^_]+_(.+)_key$/.exec(index) : null;
  return match ? match[1]!.split("_") : [];
}

function lastLine(message: string): string {
  const lines = message.trim().split("\n").filter((line) => line.trim() !== "");
  return (lines.at(-1) ?? message).trim();
}
