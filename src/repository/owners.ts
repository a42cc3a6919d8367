import type { DatabaseClient, RepositoryContext } from "./scope.js";

/**
 * Who the owners (`userId`) of chats, artifacts and settings are (documents are owned by an owner
 * key with no foreign key, decision D1, so they need no row).
 * - `"users"`: rows of dualstore's User table, made with `ds.users.create()`; an unknown owner is NotFoundError.
 * - `"external"`: an app's own user ids. Chat, Artifact and UserSettings keep ADR-002's foreign
 *   key to User, so dualstore gives each owner a minimal User row (no email) the first time it
 *   owns something, in the same transaction as that write; the app never copies its users.
 */
export type OwnerMode = "users" | "external";

/** Gives each owner its minimal User row when owners are external; one statement, safe against a concurrent twin. */
export async function ensureOwners(client: DatabaseClient, mode: OwnerMode, userIds: readonly string[]): Promise<void> {
  if (mode === "external" && userIds.length > 0) {
    await client.user.createMany({ data: userIds.map((id) => ({ id })), skipDuplicates: true });
  }
}

/** Runs `write` for a row `userId` will own, together with its owner row when owners are external. */
export function writeAsOwner<T>(ctx: RepositoryContext, userId: string, write: (client: DatabaseClient) => Promise<T>): Promise<T> {
  if (ctx.owners === "users") return write(ctx.client);
  return ctx.transaction(async (tx) => {
    await ensureOwners(tx, ctx.owners, [userId]);
    return write(tx);
  });
}
