import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { expect, it } from "vitest";
import { createDualstore, MemoryVectorStore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { CountingEmbedder, CrashingStore, FaultyStore, storedIds } from "../helpers/doubles.js";
import { article } from "../helpers/text.js";
import type { PrismaClient } from "../../src/db/prisma.js";

const LEASE_MS = 300;
const sync: DualstoreOptions["sync"] = { leaseMs: LEASE_MS, retry: { maxRetries: 0 }, jobs: { baseDelayMs: 5, maxDelayMs: 20 } };

/**
 * Two instances over one database and one vector index: the first crashes (its run stops dead
 * at the chosen point), the second is the process that starts after it.
 */
async function crashAndRestart(target: DatabaseTarget) {
  const inner = new MemoryVectorStore();
  const crashing = new CrashingStore(inner);
  const base = await target.freshDatabase();
  const database = target.name === "pglite" ? { pglite: await PGlite.create({ extensions: { vector } }) } : base;
  const before = await createDualstore<PrismaClient>({ database, embedder: new CountingEmbedder(), vectorStore: crashing, chunker: { chunkSize: 96, overlap: 8 }, sync, env: {} });
  const store = new FaultyStore(inner);
  const restart = () => createDualstore<PrismaClient>({ database, embedder: new CountingEmbedder(), vectorStore: store, chunker: { chunkSize: 96, overlap: 8 }, sync, env: {} });
  return { before, crashing, store, restart, cleanup: async () => {
    await before.close();
    if ("pglite" in database && database.pglite) await database.pglite.close();
  } };
}

async function converge(after: Dualstore<PrismaClient>) {
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
  await after.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
  await after.reconcile({ fix: true });
  await after.sync.drain({ waitForRetries: true, timeoutMs: 10_000 });
  return after.reconcile();
}

async function expectConsistent(after: Dualstore<PrismaClient>, store: FaultyStore) {
  for (const doc of await after.prisma.document.findMany({ select: { id: true, vectorIds: true, indexStatus: true } })) {
    expect(doc.indexStatus).toBe("INDEXED");
    expect([...doc.vectorIds].sort()).toEqual(await storedIds(store, `${doc.id}#`));
  }
  expect(await after.prisma.syncJob.count({ where: { status: { not: "DONE" } } })).toBe(0);
}

describeEachDatabase("recovery after a crash", (target) => {
  for (const point of ["before-upsert", "mid-upsert", "after-upsert"] as const) {
    it(`converges after a worker dies ${point === "before-upsert" ? "after embedding" : point === "mid-upsert" ? "after a partial upsert" : "after the upsert, before recording it"}`, async () => {
      const { before, crashing, store, restart, cleanup } = await crashAndRestart(target);
      try {
        const user = await before.users.create({ email: "crash@example.com" });
        const docs = [];
        for (let i = 0; i < 5; i++) docs.push(await before.documents.create({ userId: user.id, title: `c${i}`, source: "api", content: article(i, 12) }));
        crashing.crashAt(point);
        // The dead run's call: its lease runs out and it ends with LEASE_LOST, which a crashed process never sees.
        before.sync.drain().catch(() => undefined);
        await crashing.reached;
        // The document changes while its run is dead: what the dead run wrote is now stale.
        await before.documents.update(docs[0]!.id, { content: article(99, 9) });
        const after = await restart();
        try {
          const report = await converge(after);
          expect(report).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, stuck: { indexing: [], deleting: [] } });
          await expectConsistent(after, store);
        } finally {
          await after.close();
        }
      } finally {
        await cleanup();
      }
    });
  }

  it("converges after a delete dies between the vector delete and the row delete", async () => {
    const { before, crashing, store, restart, cleanup } = await crashAndRestart(target);
    try {
      const user = await before.users.create({ email: "crash-delete@example.com" });
      const doc = await before.documents.create({ userId: user.id, title: "doomed", source: "api", content: article(7, 10) }, { sync: "now" });
      crashing.crashAt("after-delete");
      // The dead run's call: its lease runs out and it ends with LEASE_LOST, which a crashed process never sees.
      before.documents.delete(doc.id).catch(() => undefined);
      await crashing.reached;
      const after = await restart();
      try {
        const report = await converge(after);
        expect(report).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, stuck: { indexing: [], deleting: [] } });
        expect(await after.prisma.document.count({ where: { id: doc.id } })).toBe(0);
        expect(await storedIds(store, `${doc.id}#`)).toEqual([]);
      } finally {
        await after.close();
      }
    } finally {
      await cleanup();
    }
  });
});
