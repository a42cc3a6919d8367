import { expect, it } from "vitest";
import { fromPrismaError } from "../../src/db/prisma-errors.js";
import { ConflictError, createDualstore, DatabaseError, NotFoundError } from "../../src/index.js";

/** An error as another copy of @prisma/client (the app's own) throws it: same name and code, not our class. */
function foreignKnownError(code: string, meta: Record<string, unknown>): Error {
  class PrismaClientKnownRequestError extends Error {
    readonly code = code;
    readonly meta = meta;
  }
  const error = new PrismaClientKnownRequestError("Invalid `prisma.user.create()` invocation: unique constraint failed");
  error.name = "PrismaClientKnownRequestError";
  return error;
}

it("maps an app's own Prisma client errors by name and code, not by class", () => {
  const conflict = fromPrismaError(foreignKnownError("P2002", { driverAdapterError: { cause: { constraint: { fields: ["email"] } } } }), { entity: "User" });
  expect(conflict).toBeInstanceOf(ConflictError);
  expect((conflict as ConflictError).fields).toEqual(["email"]);
  expect(fromPrismaError(foreignKnownError("P2025", {}), { entity: "Chat", id: "c1" })).toBeInstanceOf(NotFoundError);
  const dangling = fromPrismaError(foreignKnownError("P2003", { driverAdapterError: { cause: { constraint: { index: "Chat_userId_fkey" } } } }), {
    entity: "Chat",
    refs: { userId: ["User", "u1"] },
  });
  expect(dangling).toMatchObject({ code: "NOT_FOUND", entity: "User", id: "u1" });
  // Anything else is a DatabaseError keeping the original as its cause.
  const other = new Error("boom");
  expect(fromPrismaError(other, { entity: "Chat" })).toMatchObject({ code: "DATABASE", cause: other });
  expect(fromPrismaError(other, { entity: "Chat" })).toBeInstanceOf(DatabaseError);
});

it("opening an index on a database that was never migrated says to migrate it, on a real PGlite", async () => {
  const opening = createDualstore({ database: { driver: "pglite" }, migrate: false, vectorStore: { provider: "memory" }, env: {} });
  await expect(opening).rejects.toBeInstanceOf(DatabaseError);
  await expect(opening).rejects.toThrow(/IndexGeneration: its table does not exist: this database has not been migrated \(run `dualstore migrate`/);
});
