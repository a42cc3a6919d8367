import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { MemoryVectorStore } from "../../src/index.js";
import { PrismaClient } from "../../src/db/prisma.js";
import { PgVectorStore } from "../../src/vector-stores/pgvector/pgvector-vector-store.js";
import { vectorStoreContract } from "./vector-store-contract.js";

vectorStoreContract("memory", async () => ({ store: new MemoryVectorStore(), cleanup: async () => {} }));

vectorStoreContract("pgvector (PGlite)", async () => {
  const pglite = await PGlite.create({ extensions: { vector } });
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    store: new PgVectorStore({ prisma, schema: undefined, driver: "pglite" }),
    cleanup: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
});
