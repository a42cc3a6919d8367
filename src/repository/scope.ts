import type { PrismaClient, TransactionClient } from "../db/prisma.js";
import { PermissionError } from "../errors.js";
import type { OwnerMode } from "./owners.js";

/**
 * Whose data a repository call may see. `null` is the trusted server-side view (every row,
 * owners named explicitly in inputs); `{ userId }` is a caller's view: another user's rows
 * are invisible (reads and writes of them fail with NotFoundError, so ids do not leak).
 */
export type Scope = { readonly userId: string } | null;

export type DatabaseClient = PrismaClient | TransactionClient;

/** Where a repository runs: its Prisma client (or transaction), scope, and how to open a transaction. */
export interface RepositoryContext {
  readonly client: DatabaseClient;
  readonly scope: Scope;
  /** Whose ids owners are: dualstore's users, or an app's (with minimal User rows made on demand). */
  readonly owners: OwnerMode;
  /** True inside `ds.transaction()`: `client` is that transaction. */
  readonly inTransaction: boolean;
  /** Runs `work` in a transaction; inside `ds.transaction()` that is the surrounding one. */
  transaction<T>(work: (tx: TransactionClient) => Promise<T>): Promise<T>;
  /** Runs `work` once the current transaction has committed (at once when there is none open). */
  afterCommit(work: () => Promise<void>): Promise<void>;
}

/** The owner to write: the scope's user, or the input's when unscoped. A scoped caller cannot write for someone else. */
export function ownerForWrite(scope: Scope, requested: string | null | undefined, entity: string): string | null | undefined {
  if (scope === null) return requested;
  if (requested !== undefined && requested !== scope.userId) {
    throw new PermissionError(`${entity}: a user scope can only create rows it owns`);
  }
  return scope.userId;
}

/** Whose rows a list shows: the scope's user (null when it asked for someone else's), or the input's when unscoped. */
export function listOwner(scope: Scope, requested: string | undefined): string | null | undefined {
  if (scope === null) return requested;
  return requested === undefined || requested === scope.userId ? scope.userId : null;
}
