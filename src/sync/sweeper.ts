import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../db/prisma.js";
import { BusyError } from "../errors.js";
import type { ManagedVectorStore } from "../vector-stores/managed-vector-store.js";
import type { DocumentStateTable } from "./document-state.js";
import type { JobQueue } from "./job-queue.js";
import { vectorIdPrefix } from "./vector-ids.js";

/**
 * Runs SWEEP jobs: deletes the vectors of a document that its row does not list, from one
 * namespace (and the row's own). They are writes of runs that gave up or died and landed after
 * (their ids carry an old epoch, so no run will ever list them again); search never returns
 * them, and this removes them. Once the row is gone, everything under the document's prefix goes.
 */
export class Sweeper {
  constructor(
    private readonly deps: { prisma: PrismaClient; table: DocumentStateTable; store: ManagedVectorStore; queue: JobQueue; leaseMs: number },
  ) {}

  /** Throws BusyError while a run holds the document. */
  async sweep(documentId: string, namespace: string): Promise<void> {
    const { prisma, table, store, queue, leaseMs } = this.deps;
    const token = randomUUID();
    const claim = await table.leaseForSweep(documentId, token, leaseMs);
    if (!claim) {
      // Document ids are never reused: whatever carries this prefix is an orphan.
      await store.deletePrefix(vectorIdPrefix(documentId), namespace);
      return;
    }
    if (!claim.held) {
      // A run died midway: the index run that takes the document over sweeps, and schedules what this would.
      if (claim.expired && claim.status === "INDEXING") await queue.enqueue(prisma, "INDEX", [documentId]);
      // A delete died midway: its job sweeps the whole prefix when it comes back.
      if (claim.expired) return;
      throw new BusyError(documentId, "another sync run holds it");
    }
    try {
      const listed = new Set(claim.vectorIds);
      for (const space of new Set([namespace, claim.vectorNamespace ?? namespace])) {
        // Collected first: deleting while paging could move the pages under the cursor.
        const orphans: string[] = [];
        for await (const page of store.allIds(vectorIdPrefix(documentId), space)) orphans.push(...page.filter((id) => !listed.has(id)));
        await store.delete(orphans, space);
      }
      // The lease taken over had run out recently: writes of its run may land later still.
      if (claim.lateWritesMs !== null) await queue.enqueueSweeps([{ documentId, namespace, delayMs: claim.lateWritesMs }]);
    } finally {
      await table.release([documentId], token);
    }
  }
}
