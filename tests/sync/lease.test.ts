// Sync leases against a store that answers late: renewal while a run makes progress, abort when
// it stops, waits bounded by the lease, and the two sequences where a run that lost its lease
// had a write land after the next run's commit. (tests/sync/lease-processes.test.ts does the
// same with real worker processes, SIGKILL and the Pinecone protocol server.)
import { expect, it } from "vitest";
import { LeaseLostError, ProviderError, type User } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { CountingEmbedder, LateStore, storedIds } from "../helpers/doubles.js";
import { rejectsWith } from "../helpers/errors.js";
import { article } from "../helpers/text.js";

const LEASE_MS = 1_000;

async function setup(target: DatabaseTarget, options: { leaseMs?: number; maxBatchSize?: number } = {}) {
  const embedder = new CountingEmbedder(undefined, { maxBatchSize: options.maxBatchSize });
  const store = new LateStore();
  const ds = await target.open({
    embedder,
    vectorStore: store,
    chunker: { chunkSize: 96, overlap: 8 },
    sync: {
      onWrite: "none",
      leaseMs: options.leaseMs ?? LEASE_MS,
      embedConcurrency: 1,
      retry: { maxRetries: 3, minDelayMs: 1, maxDelayMs: 5 },
      jobs: { baseDelayMs: 5, maxDelayMs: 20 },
    },
  });
  const user: User = await ds.users.create({ email: `lease-${Math.random().toString(36).slice(2)}@example.com` });
  return { ds, embedder, store, user };
}

describeEachDatabase(
  "sync leases",
  (target) => {
    it("renews its lease while it makes progress: a run longer than its lease keeps its document", async () => {
      const s = await setup(target, { leaseMs: 1_500, maxBatchSize: 1 });
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "long run", source: "api", content: article(11, 12) });
      s.embedder.slowDown(400);
      const first = s.ds.indexDocument(doc.id);
      // Past the lease: without renewal, this call would take the document over and embed it all again.
      await new Promise((resolve) => setTimeout(resolve, 1_800));
      const second = s.ds.indexDocument(doc.id);
      const outcome = await first;
      expect(outcome).toMatchObject({ status: "indexed" });
      expect(outcome.chunks * 400).toBeGreaterThan(1_800);
      expect(await second).toMatchObject({ status: "unchanged" });
      expect(s.embedder.texts).toBe(outcome.chunks);
      expect((await s.ds.prisma.document.findUniqueOrThrow({ where: { id: doc.id } })).syncEpoch).toBe(1);
    });

    it("keeps a worker's jobs while their run makes progress past the lease: no other worker takes them", async () => {
      const s = await setup(target, { leaseMs: 1_500, maxBatchSize: 1 });
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "long job", source: "api", content: article(17, 12) });
      await s.ds.sync.enqueue([doc.id]);
      s.embedder.slowDown(400);
      const first = s.ds.sync.drain();
      await new Promise((resolve) => setTimeout(resolve, 1_800));
      // Another worker polls the queue after the job's first lease would have run out.
      const second = s.ds.sync.drain();
      expect(await first).toMatchObject({ processed: 1, done: 1 });
      expect(await s.ds.prisma.syncJob.findMany({ where: { documentId: doc.id } })).toMatchObject([{ status: "DONE", attempts: 1 }]);
      expect(await second).toMatchObject({ processed: 0 });
      expect(s.embedder.texts).toBe((await s.ds.documents.get(doc.id)).chunkCount);
    });

    it("stops a run whose store request stalls past the lease, with LEASE_LOST, instead of waiting on it", async () => {
      const s = await setup(target);
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "stalled", source: "api", content: article(12, 3) });
      const held = s.store.holdNext("upsert");
      const started = performance.now();
      const error = await rejectsWith(s.ds.indexDocument(doc.id), LeaseLostError);
      expect(performance.now() - started).toBeLessThan(LEASE_MS + 1_000);
      expect(error.code).toBe("LEASE_LOST");
      expect(error.documentIds).toEqual([doc.id]);
      const row = await s.ds.documents.get(doc.id);
      expect(row).toMatchObject({ indexStatus: "FAILED", vectorIds: [] });
      expect(row.indexError).toContain("Lost the sync lease");
      await held.land();
    });

    it("stops a delete whose store request stalls past the lease; the document stays hidden and the outbox finishes the delete", async () => {
      const s = await setup(target);
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "doomed", source: "api", content: article(18, 3) });
      await s.ds.indexDocument(doc.id);
      const held = s.store.holdNext("delete");
      await rejectsWith(s.ds.documents.delete(doc.id), LeaseLostError);
      const row = await s.ds.prisma.document.findUniqueOrThrow({ where: { id: doc.id } });
      expect(row.indexStatus).toBe("DELETING");
      expect(row.indexError).toContain("Lost the sync lease");
      expect(await s.ds.search("document", { userId: s.user.id, minScore: -1 })).toEqual([]);
      await held.land();
      await s.ds.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
      expect(await s.ds.prisma.document.count({ where: { id: doc.id } })).toBe(0);
      expect(await storedIds(s.store, `${doc.id}#`)).toEqual([]);
    });

    it("sweeps a write that lands after its document was deleted", async () => {
      const s = await setup(target, { leaseMs: 2_000 });
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "gone", source: "api", content: article(19, 3) });
      const held = s.store.holdNext("upsert");
      const run = s.ds.indexDocument(doc.id).catch((error: unknown) => error);
      await held.reached;
      expect(await run).toBeInstanceOf(LeaseLostError);
      await s.ds.documents.delete(doc.id);
      // The index run's upsert lands after the document and its vectors are gone.
      await held.land();
      expect(await storedIds(s.store, `${doc.id}#`)).not.toEqual([]);
      await s.ds.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
      expect(await storedIds(s.store, `${doc.id}#`)).toEqual([]);
      expect(await s.ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 } });
    });

    it("sweeps what a run wrote when its commit finds the document gone", async () => {
      const s = await setup(target, { leaseMs: 5_000 });
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "cascaded", source: "api", content: article(20, 3) });
      const held = s.store.holdNext("upsert");
      const run = s.ds.indexDocument(doc.id).catch((error: unknown) => error);
      await held.reached;
      // The row goes while the run writes its vectors (as a user delete's cascade takes it).
      await s.ds.prisma.document.delete({ where: { id: doc.id } });
      await held.land();
      await run;
      expect(await storedIds(s.store, `${doc.id}#`)).not.toEqual([]);
      await s.ds.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
      expect(await storedIds(s.store, `${doc.id}#`)).toEqual([]);
    });

    it("fails a run at once when a Retry-After outlasts its lease, rather than waiting past it", async () => {
      const s = await setup(target);
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "throttled", source: "api", content: article(13, 3) });
      s.store.failNext("upsert", 1, () => new ProviderError("test", "rate limited", { status: 429, retryable: true, retryAfterMs: 30_000 }));
      const started = performance.now();
      const error = await rejectsWith(s.ds.indexDocument(doc.id), ProviderError);
      expect(performance.now() - started).toBeLessThan(LEASE_MS);
      expect(error.retryAfterMs).toBe(30_000);
      expect(s.store.calls.upsert).toBe(1);
    });

    it("sequence 1: an upsert landing after its run lost the lease cannot overwrite the tags a later run recorded", async () => {
      const s = await setup(target);
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "retagged", source: "api", content: article(14, 4), tags: ["delta", "beta"] });
      const held = s.store.holdNext("upsert");
      const first = s.ds.indexDocument(doc.id).catch((error: unknown) => error);
      await held.reached;
      await s.ds.documents.update(doc.id, { tags: ["gamma"] });
      expect(await first).toBeInstanceOf(LeaseLostError);
      expect(await s.ds.indexDocument(doc.id)).toMatchObject({ status: "indexed" });
      // The first run's upsert, tagged [delta, beta], lands now.
      await held.land();

      const found = async (tag: string) => (await s.ds.search("document", { userId: s.user.id, tags: [tag], minScore: -1, topK: 50 })).map((hit) => hit.document.id);
      expect(await found("delta")).toEqual([]);
      expect(await found("gamma")).toContain(doc.id);
      const row = await s.ds.documents.get(doc.id);
      for (const record of await s.store.fetch(row.vectorIds, "")) expect(record.metadata.tags).toEqual(["gamma"]);
      // What landed late is unlisted; the sweep scheduled for when it could no longer land removes it.
      await s.ds.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
      expect(await storedIds(s.store, `${doc.id}#`)).toEqual([...row.vectorIds].sort());
      expect(await s.ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
    });

    it("sequence 2: a delete landing after its run lost the lease cannot remove a vector a later run recorded", async () => {
      const s = await setup(target);
      const original = article(15, 4);
      const doc = await s.ds.documents.create({ userId: s.user.id, title: "undone", source: "api", content: original });
      await s.ds.indexDocument(doc.id);
      await s.ds.documents.update(doc.id, { content: article(16, 4) });
      const held = s.store.holdNext("delete");
      const first = s.ds.indexDocument(doc.id);
      await held.reached;
      // The first run committed the edit and is deleting the original's vectors: the app undoes the edit.
      await s.ds.documents.update(doc.id, { content: original });
      expect(await s.ds.indexDocument(doc.id)).toMatchObject({ status: "indexed" });
      expect(await first).toMatchObject({ status: "indexed" });
      // The first run's delete of the original's vectors lands now.
      await held.land();

      const row = await s.ds.documents.get(doc.id);
      const stored = await storedIds(s.store, `${doc.id}#`);
      for (const id of row.vectorIds) expect(stored).toContain(id);
      expect((await s.ds.search(original.slice(0, 80), { userId: s.user.id, minScore: 0 }))[0]?.document.id).toBe(doc.id);
      await s.ds.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
      expect(await storedIds(s.store, `${doc.id}#`)).toEqual([...row.vectorIds].sort());
      expect(await s.ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
    });
  },
  { neon: false },
);
