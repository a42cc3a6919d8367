// The Prisma client generated from prisma/schema.prisma, and the plain types of its models
// (src/generated/models.ts), re-exported under the names the rest of dualstore uses. Nothing
// outside src/db imports src/generated/prisma directly.
export { PrismaClient, Prisma } from "../generated/prisma/client.js";
export { IndexStatus } from "../generated/models.js";
export type {
  User,
  Account,
  Session,
  Chat,
  Message,
  Artifact,
  UserSettings,
  Document,
  DocumentChunk,
  JsonValue,
} from "../generated/models.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";

/** The client handed to code that runs inside `prisma.$transaction(async (tx) => ...)`. */
export type TransactionClient = Prisma.TransactionClient;

/**
 * The client behind `ds.prisma`, typed as dualstore's own. Whichever client it is (dualstore's,
 * or an app's passed as `database.prisma`), it has dualstore's models, which is all this types.
 */
export function prismaOf(ds: { readonly prisma: unknown }): PrismaClient {
  return ds.prisma as PrismaClient;
}
