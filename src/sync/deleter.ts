import { randomUUID } from "node:crypto";
import type { CallContext } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { redactAndClip } from "../core/redact.js";
import { sleep } from "../core/retry.js";
import { BusyError, NotFoundError } from "../errors.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { DeleteClaim, DocumentStateTable } from "./document-state.js";
import { namespaceFor, type Namespacing } from "./indexer.js";
import type { JobQueue } from "./job-queue.js";
import { RunLease } from "./run-lease.js";
import { vectorIdPrefix } from "./vector-ids.js";

export interface DeleterDeps {
  readonly table: DocumentStateTable;
  /** The id of the embedder whose generation this deleter's store holds. */
  readonly embedder: string;
  readonly queue: JobQueue;
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
    const { missing } = await this.deleteMany([documentId], options);
    if (missing.length > 0) throw new NotFoundError("Document", documentId);
  }

  /**
   * Deletes documents together: one statement marks and claims them, one request per namespace
   * deletes the vectors their rows record (plus a prefix sweep for documents an earlier run may
   * have left orphans of), one statement deletes the rows.
   */
  async deleteMany(ids: readonly string[], options: { signal?: AbortSignal; waitMs?: number } = {}): Promise<{ deleted: string[]; missing: string[] }> {
    const { table, leaseMs } = this.deps;
    const token = randomUUID();
    const deadline = Date.now() + (options.waitMs ?? leaseMs + 1_000);
    const held: DeleteClaim[] = [];
    let pending = [...new Set(ids)];
    const found = new Set<string>();
    let claimedAt = performance.now();
    for (let pause = 25; pending.length > 0; pause = Math.min(pause * 2, 1_000)) {
      const claims = await table.claimForDelete(pending, token, leaseMs, this.deps.embedder);
      if (claims.some((claim) => !claim.live)) {
        await table.release(held.map((claim) => claim.id), token);
        throw new BusyError(claims[0]!.id, "a model change made another index generation live; delete it again through that one");
      }
      for (const claim of claims) found.add(claim.id);
      held.push(...claims.filter((claim) => claim.claimed));
      pending = claims.filter((claim) => !claim.claimed).map((claim) => claim.id);
      if (pending.length === 0) break;
      if (Date.now() > deadline) {
        await table.release(held.map((claim) => claim.id), token);
        throw new BusyError(pending[0]!, "still being indexed; it stays hidden and marked DELETING until a retry");
      }
      await sleep(pause, options.signal);
      // The leases taken first have been running while this one waited for the rest.
      claimedAt = performance.now();
      if (held.length > 0) await table.renewLease(held.map((claim) => claim.id), token, leaseMs);
    }
    const heldIds = held.map((claim) => claim.id);
    const lease = new RunLease(this.deps, token, heldIds, claimedAt, options.signal);
    try {
      await this.deleteVectors(held, lease.call);
    } catch (caught) {
      const error: unknown = lease.lost ?? caught;
      const message = redactAndClip(error instanceof Error ? error.message : String(error), 2_000);
      this.deps.logger.error("could not delete documents' vectors; they stay hidden and marked DELETING", { documents: heldIds, error });
      await table.failDelete(heldIds, token, message);
      throw error;
    } finally {
      lease.end();
    }
    await table.deleteRows(heldIds, token);
    // An index run that died or gave up may still have writes on the way: sweep them once they can no longer land.
    const late = held.flatMap((claim) =>
      claim.lateWritesMs === null ? [] : [{ documentId: claim.id, namespace: this.namespaceOf(claim), delayMs: claim.lateWritesMs }],
    );
    await this.deps.queue
      .enqueueSweeps(late)
      .catch((error: unknown) => this.deps.logger.warn("could not schedule sweeps for late vector writes; reconcile finds what they leave", { error }));
    return { deleted: heldIds, missing: ids.filter((id) => !found.has(id)) };
  }

  private async deleteVectors(claims: DeleteClaim[], call: CallContext): Promise<void> {
    const { store } = this.deps;
    const byNamespace = new Map<string, string[]>();
    for (const claim of claims) {
      const namespace = this.namespaceOf(claim);
      // A run that failed or died may have written vectors its row never recorded: only a
      // sweep of the document's id prefix finds those.
      if (claim.mayHaveOrphans) await store.deletePrefix(vectorIdPrefix(claim.id), namespace, call);
      else byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), ...claim.vectorIds]);
    }
    for (const [namespace, vectorIds] of byNamespace) await store.delete(vectorIds, namespace, call);
  }

  private namespaceOf(claim: DeleteClaim): string {
    return claim.vectorNamespace ?? namespaceFor(this.deps.namespacing, claim.userId);
  }

  /** Deletes a document's vectors when its row is already gone (a deleted user's documents). */
  async purge(documentId: string, namespace: string, signal?: AbortSignal): Promise<void> {
    await this.deps.store.deletePrefix(vectorIdPrefix(documentId), namespace, { signal });
  }
}
