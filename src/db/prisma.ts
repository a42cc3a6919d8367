// The Prisma client generated from prisma/schema.prisma, re-exported under the names the rest of
// dualstore uses. Nothing outside src/db imports src/generated directly.
export { PrismaClient, Prisma, IndexStatus } from "../generated/prisma/client.js";
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
} from "../generated/prisma/client.js";
import type { Prisma } from "../generated/prisma/client.js";

/** The client handed to code that runs inside `prisma.$transaction(async (tx) => ...)`. */
export type TransactionClient = Prisma.TransactionClient;
