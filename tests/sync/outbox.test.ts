import { expect, it } from "vitest";
import { createDualstore, ProviderError, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { CountingEmbedder, FaultyStore, permanent, storedIds, transient } from "../helpers/doubles.js";
import { article } from "../helpers/text.js";
import type { PrismaClient } from "../../src/db/prisma.js";

const fast: DualstoreOptions["sync"] = { retry: { maxRetries: 1, minDelayMs: 1, maxDelayMs: 2 }, jobs: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } };

async function open(target: DatabaseTarget, extra: Partial<DualstoreOptions> = {}) {
  const embedder = new CountingEmbedder();
  const store = new FaultyStore();
  const ds = await target.open({ embedder, vectorStore: store, chunker: { chunkSize: 128, overlap: 16 }, sync: fast, ...extra });
  const user = await ds.users.create({ email: `u${Math.random().toString(36).slice(2)}@example.com` });
  return { ds, embedder, store, user };
}

const jobs = (ds: Dualstore<PrismaClient>, documentId: string) => ds.prisma.syncJob.findMany({ where: { documentId }, orderBy: { createdAt: "asc" } });

describeEachDatabase("sync outbox", (target) => {
  it("writes a document's sync job in the same transaction as the document", async () => {
    const { ds, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "queued", source: "api", content: "x" });
    expect(await jobs(ds, doc.id)).toMatchObject([{ kind: "INDEX", status: "PENDING", attempts: 0 }]);
    const before = await ds.prisma.syncJob.count();
    await expect(
      ds.transaction(async (tx) => {
        await tx.documents.create({ userId: user.id, title: "never", source: "api", content: "y" });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await ds.prisma.syncJob.count()).toBe(before);
  });

  it("drain indexes what was enqueued and marks the jobs done", async () => {
    const { ds, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "drained", source: "api", content: "koala eucalyptus" });
    expect(await ds.search("koala", { userId: user.id, minScore: 0 })).toEqual([]);
    expect(await ds.sync.drain()).toMatchObject({ processed: 1, done: 1, dead: 0 });
    expect((await ds.documents.get(doc.id)).indexStatus).toBe("INDEXED");
    expect((await ds.search("koala", { userId: user.id, minScore: 0 }))[0]!.document.id).toBe(doc.id);
    expect(await jobs(ds, doc.id)).toMatchObject([{ status: "DONE" }]);
    expect(await ds.sync.stats()).toMatchObject({ pending: 0, running: 0, dead: 0, oldestPendingMs: 0 });
  });

  it("coalesces repeated jobs for one document into one run", async () => {
    const { ds, embedder, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "busy", source: "api", content: article(1, 10) });
    for (let i = 0; i < 4; i++) await ds.documents.update(doc.id, { content: article(2 + i, 10) });
    expect(await jobs(ds, doc.id)).toHaveLength(5);
    await ds.sync.drain();
    const row = await ds.documents.get(doc.id);
    expect(embedder.texts).toBe(row.chunkCount);
    expect((await jobs(ds, doc.id)).every((job) => job.status === "DONE")).toBe(true);
  });

  it("retries transient failures with backoff, then parks the job as dead with its last error; retryDead brings it back", async () => {
    const { ds, embedder, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "flaky", source: "api", content: "wallaby" });
    embedder.failAlways(transient("embeddings service overloaded"));
    const result = await ds.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
    expect(result).toMatchObject({ processed: 3, retried: 2, dead: 1 });
    const [job] = await jobs(ds, doc.id);
    expect(job).toMatchObject({ status: "DEAD", attempts: 3 });
    expect(job!.lastError).toContain("embeddings service overloaded");
    expect(await ds.sync.stats()).toMatchObject({ dead: 1, pending: 0 });
    expect((await ds.sync.stats()).failureRate).toBeGreaterThan(0.9);
    embedder.failAlways(undefined);
    expect(await ds.sync.retryDead()).toBe(1);
    await ds.sync.drain();
    expect((await ds.documents.get(doc.id)).indexStatus).toBe("INDEXED");
  });

  it("reschedules a job no sooner than a Retry-After too long to wait out in the call", async () => {
    const { ds, embedder, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "throttled", source: "api", content: "bilby burrows" });
    embedder.failNext(1, () => new ProviderError("test", "rate limited", { status: 429, retryable: true, retryAfterMs: 120_000 }));
    const started = Date.now();
    expect(await ds.sync.drain()).toMatchObject({ processed: 1, retried: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    const [job] = await jobs(ds, doc.id);
    expect(job!.status).toBe("PENDING");
    expect(job!.runAt.getTime()).toBeGreaterThanOrEqual(started + 120_000);
  });

  it("parks a job as dead at once when no retry can fix it", async () => {
    const { ds, embedder, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "bad", source: "api", content: "quoll" });
    embedder.failAlways(permanent("model rejected the input"));
    expect(await ds.sync.drain({ waitForRetries: true, timeoutMs: 5_000 })).toMatchObject({ processed: 1, dead: 1 });
    expect(await jobs(ds, doc.id)).toMatchObject([{ status: "DEAD", attempts: 1 }]);
    expect((await ds.documents.get(doc.id)).indexStatus).toBe("FAILED");
  });

  it("deletes inside a transaction by hiding the document and enqueueing the rest", async () => {
    const { ds, store, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "doomed", source: "api", content: "bandicoot" }, { sync: "now" });
    await ds.transaction(async (tx) => tx.documents.delete(doc.id));
    expect((await ds.documents.get(doc.id)).indexStatus).toBe("DELETING");
    expect(await ds.search("bandicoot", { userId: user.id, minScore: 0 })).toEqual([]);
    await ds.sync.drain();
    expect(await ds.prisma.document.count({ where: { id: doc.id } })).toBe(0);
    expect(await storedIds(store, `${doc.id}#`)).toEqual([]);
  });

  it("keeps a document hidden and DELETING when the store is down, and finishes the delete from the queue", async () => {
    const { ds, store, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "stubborn", source: "api", content: "dingo" }, { sync: "now" });
    store.failAlways("delete", transient("store unreachable"));
    store.failAlways("deletePrefix", transient("store unreachable"));
    await expect(ds.documents.delete(doc.id)).rejects.toThrow(/store unreachable/);
    const row = await ds.documents.get(doc.id);
    expect(row.indexStatus).toBe("DELETING");
    expect(row.indexError).toContain("store unreachable");
    expect(await ds.search("dingo", { userId: user.id, minScore: 0 })).toEqual([]);
    store.failAlways("delete", undefined);
    store.failAlways("deletePrefix", undefined);
    await ds.sync.drain();
    expect(await ds.prisma.document.count({ where: { id: doc.id } })).toBe(0);
    expect(await storedIds(store, `${doc.id}#`)).toEqual([]);
  });

  it("purges a deleted user's vectors, durably when the store is down", async () => {
    const { ds, store, user } = await open(target);
    const a = await ds.documents.create({ userId: user.id, title: "a", source: "api", content: "echidna" }, { sync: "now" });
    const b = await ds.documents.create({ userId: user.id, title: "b", source: "api", content: "platypus" }, { sync: "now" });
    store.failAlways("deletePrefix", transient());
    await ds.users.delete(user.id);
    expect(await storedIds(store, `${a.id}#`)).not.toEqual([]);
    expect(await ds.prisma.syncJob.count({ where: { kind: "PURGE", status: "PENDING" } })).toBe(2);
    store.failAlways("deletePrefix", undefined);
    await ds.sync.drain({ waitForRetries: true, timeoutMs: 5_000 });
    expect(await storedIds(store, `${a.id}#`)).toEqual([]);
    expect(await storedIds(store, `${b.id}#`)).toEqual([]);
  });

  it("lets several workers share one queue without running a document twice", async () => {
    const embedder = new CountingEmbedder();
    const store = new FaultyStore();
    const database = await target.freshDatabase();
    const first = await target.open({ database, embedder, vectorStore: store, chunker: { chunkSize: 128, overlap: 16 }, sync: fast });
    // PGlite is one connection in one process: its "workers" share the instance. PostgreSQL gets
    // three instances with their own pools, as three processes would have.
    const others =
      target.name === "pglite"
        ? [first, first]
        : await Promise.all([1, 2].map(() => createDualstore<PrismaClient>({ database, embedder, vectorStore: store, chunker: { chunkSize: 128, overlap: 16 }, sync: fast, env: {} })));
    try {
      const user = await first.users.create({ email: "workers@example.com" });
      for (let i = 0; i < 60; i++) await first.documents.create({ userId: user.id, title: `w${i}`, source: "api", content: article(300 + i, 4) });
      await Promise.all([first, ...others].map((ds) => ds.sync.drain({ batchSize: 7 })));
      const totalChunks = (await first.prisma.document.findMany({ select: { chunkCount: true } })).reduce((sum, d) => sum + d.chunkCount, 0);
      expect(embedder.texts).toBe(totalChunks);
      expect(await first.prisma.syncJob.count({ where: { status: { not: "DONE" } } })).toBe(0);
      expect(await first.prisma.document.count({ where: { indexStatus: { not: "INDEXED" } } })).toBe(0);
    } finally {
      if (target.name === "postgres") await Promise.all(others.map((ds) => ds.close()));
    }
  });

  it("runs a worker, with the store's upkeep now and then, until it is stopped", async () => {
    const { ds, store, user } = await open(target);
    const controller = new AbortController();
    const worker = ds.sync.runWorker({ pollMs: 10, maintainEveryMs: 0, signal: controller.signal });
    const doc = await ds.documents.create({ userId: user.id, title: "live", source: "api", content: "numbat" });
    for (let i = 0; i < 500 && (await ds.documents.get(doc.id)).indexStatus !== "INDEXED"; i++) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect((await worker).done).toBeGreaterThanOrEqual(1);
    expect(store.calls.maintain).toBeGreaterThan(0);
    expect((await ds.documents.get(doc.id)).indexStatus).toBe("INDEXED");
  });

  it("ends concurrent index and delete of one document with the row gone and no vector left", async () => {
    const { ds, store, user } = await open(target);
    for (let round = 0; round < 8; round++) {
      const doc = await ds.documents.create({ userId: user.id, title: `race${round}`, source: "api", content: article(round, 12) }, { sync: round % 2 ? "now" : "none" });
      const work = [ds.indexDocument(doc.id).catch(() => undefined), ds.deleteDocument(doc.id)];
      if (round % 3 === 0) work.reverse();
      await Promise.all(work);
      await ds.sync.drain();
      expect(await ds.prisma.document.count({ where: { id: doc.id } })).toBe(0);
      expect(await storedIds(store, `${doc.id}#`)).toEqual([]);
    }
  });

  it("ends concurrent index runs and edits with the row listing exactly what the store holds", async () => {
    const { ds, store, user } = await open(target);
    const doc = await ds.documents.create({ userId: user.id, title: "edited", source: "api", content: article(50, 12) });
    await Promise.all([
      ds.indexDocument(doc.id),
      ds.documents.update(doc.id, { content: article(51, 14) }),
      ds.indexDocument(doc.id),
      ds.documents.update(doc.id, { content: article(52, 6) }),
    ]);
    await ds.sync.drain();
    await ds.indexDocument(doc.id);
    const row = await ds.documents.get(doc.id);
    expect(row.indexStatus).toBe("INDEXED");
    expect([...row.vectorIds].sort()).toEqual(await storedIds(store, `${doc.id}#`));
  });
});
