import { randomUUID } from "node:crypto";
import type { Logger } from "../core/logger.js";
import { redact } from "../core/redact.js";
import { sleep } from "../core/retry.js";
import { BusyError, NotFoundError } from "../errors.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { DocumentStateTable } from "./document-state.js";
import { namespaceFor, type Namespacing } from "./indexer.js";
import { vectorIdPrefix } from "./vector-ids.js";

export interface DeleterDeps {
  readonly table: DocumentStateTable;
  readonly store: ManagedVectorStore;
  readonly namespacing: Namespacing;
  readonly leaseMs: number;
  readonly logger: Logger;
}

/**
 * Deletes documents vectors first, row last. The row is marked DELETING before anything else,
 * which hides it from search at once; if the store cannot be reached the row stays that way,
 * with the error recorded, until a retry (or the sync worker) completes the delete. A run that
 * is indexing the document is waited for, so its vectors cannot land after the delete.
 */
export class Deleter {
  constructor(private readonly deps: DeleterDeps) {}

  async delete(documentId: string, options: { signal?: AbortSignal; waitMs?: number } = {}): Promise<void> {
    const token = randomUUID();
    const deadline = Date.now() + (options.waitMs ?? this.deps.leaseMs + 1_000);
    let claim = await this.deps.table.claimForDelete(documentId, token, this.deps.leaseMs);
    for (let pause = 25; claim && !claim.claimed; pause = Math.min(pause * 2, 1_000)) {
      if (Date.now() > deadline) throw new BusyError(documentId, "still being indexed; it stays hidden and marked DELETING until a retry");
      await sleep(pause, options.signal);
      claim = await this.deps.table.claimForDelete(documentId, token, this.deps.leaseMs);
    }
    if (!claim) throw new NotFoundError("Document", documentId);
    const namespace = claim.vectorNamespace ?? namespaceFor(this.deps.namespacing, claim.userId);
    try {
      await this.deps.store.deletePrefix(vectorIdPrefix(documentId), namespace, options.signal);
    } catch (error) {
      const message = redact(error instanceof Error ? error.message : String(error)).slice(0, 2_000);
      this.deps.logger.error("could not delete a document's vectors; it stays hidden and marked DELETING", { documentId, error });
      await this.deps.table.failDelete(documentId, token, message);
      throw error;
    }
    await this.deps.table.deleteRow(documentId, token);
  }

  /** Deletes a document's vectors when its row is already gone (a deleted user's documents). */
  async purge(documentId: string, namespace: string, signal?: AbortSignal): Promise<void> {
    await this.deps.store.deletePrefix(vectorIdPrefix(documentId), namespace, signal);
  }
}
