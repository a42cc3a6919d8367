import type { Document, TransactionClient } from "../db/prisma.js";

/**
 * How a document write reaches the vector index. `"none"`: only the row is written (the
 * document is marked PENDING; index it later). `"enqueue"`: a sync job is written in the same
 * transaction, so a crash can never lose the intent. `"now"`: the write is followed at once by
 * indexing (or, for deletes, by the vector delete then the row delete).
 */
export type SyncMode = "none" | "enqueue" | "now";

/** What the repositories ask of the sync machinery; the client wires the real one in. */
export interface DocumentSync {
  /** The mode used when a write does not name one. */
  readonly defaultMode: SyncMode;
  /** Inside a write's transaction, when the documents' indexed form may have changed. */
  changed(tx: TransactionClient, documents: ReadonlyArray<Pick<Document, "id">>, mode: SyncMode): Promise<void>;
  /** After the write committed, for mode "now". */
  indexNow(documentIds: readonly string[]): Promise<void>;
  /** Deletes a document: its vectors, then its row. Scope was already checked; a missing document is NotFoundError. */
  deleteNow(documentId: string): Promise<void>;
  /** Inside a transaction: marks the document as deleting and enqueues the job that will finish it. */
  deleteEnqueued(tx: TransactionClient, document: Pick<Document, "id">): Promise<void>;
  /** Inside the user-delete transaction, before the user's documents are deleted: keep what the vector purge needs. */
  userDeleting(tx: TransactionClient, userId: string): Promise<void>;
  /** After the user-delete transaction committed. */
  userDeleted(userId: string): Promise<void>;
}
