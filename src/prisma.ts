// `dualstore/prisma`: the PrismaClient dualstore generates from its own schema, with Prisma's
// full types. It is the type of `ds.prisma` when no client is passed, and lives in an entry of
// its own so that the main declarations stay small: an app loads these types only through it.
export { PrismaClient, Prisma } from "./generated/prisma/client.js";
