import type { PrismaClient } from "../db/prisma.js";
import { ConfigurationError, NotFoundError } from "../errors.js";
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
      const { count } = await prisma.document.deleteMany({ where: { id: documentId } });
      if (count === 0) throw new NotFoundError("Document", documentId);
    },
    deleteEnqueued: async (tx, document) => {
      await tx.document.delete({ where: { id: document.id } });
    },
    userDeleting: async () => {},
    userDeleted: async () => {},
  };
}
