import type { PrismaClient } from "../db/prisma.js";
import { ConfigurationError } from "../errors.js";
import type { DocumentSync } from "../repository/hooks.js";

/** Document sync when no vector index is configured: rows only, nothing to index or purge. */
export function rowOnlySync(prisma: PrismaClient): DocumentSync {
  return {
    defaultMode: "none",
    changed: async () => {},
    indexNow: async () => {
      throw new ConfigurationError("sync: indexing needs an embedder and a vector store; none is configured");
    },
    deleteNow: async (documentId) => {
      await prisma.document.delete({ where: { id: documentId } });
    },
    deleteEnqueued: async (tx, document) => {
      await tx.document.delete({ where: { id: document.id } });
    },
    userDeleting: async () => {},
    userDeleted: async () => {},
  };
}
