import { expect, it } from "vitest";
import { MemoryVectorStore, type Dualstore } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { CountingEmbedder, FaultyStore, storedIds } from "../helpers/doubles.js";
import { article } from "../helpers/text.js";
import type { PrismaClient } from "../../src/db/prisma.js";

async function vectorsOf(ds: Dualstore<PrismaClient>, store: FaultyStore, documentId: string) {
  const row = await ds.prisma.document.findUnique({ where: { id: documentId }, select: { vectorIds: true } });
  return { recorded: [...(row?.vectorIds ?? [])].sort(), stored: await storedIds(store, `${documentId}#`) };
}

describeEachDatabase("reconcile", (target) => {
  it("finds orphans, missing vectors and stuck documents, and fix repairs them all", async () => {
    const store = new FaultyStore(new MemoryVectorStore());
    const ds = await target.open({ embedder: new CountingEmbedder(), vectorStore: store, chunker: { chunkSize: 96, overlap: 8 }, sync: { onWrite: "none" } });
    const user = await ds.users.create({ email: "reconcile@example.com" });
    const docs = [];
    for (let i = 0; i < 6; i++) docs.push(await ds.documents.create({ userId: user.id, title: `r${i}`, source: "api", content: article(i, 8) }));
    await ds.indexDocuments(docs.map((d) => d.id));
    expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, stuck: { indexing: [], deleting: [] } });

    const [a, b, c, d] = docs;
    const template = (await store.fetch([(await ds.documents.get(a!.id)).vectorIds[0]!], ""))[0]!;
    // An orphan of a live document, and vectors of a document whose row is long gone.
    await store.upsert([{ ...template, id: `${a!.id}#orphan1` }, { ...template, id: "cdeleteddocument000000000#x" }], "");
    // The store lost two of b's vectors.
    const lost = (await ds.documents.get(b!.id)).vectorIds.slice(0, 2);
    await store.delete(lost, "");
    // c's sync run died midway; d's delete never finished.
    await ds.prisma.document.update({ where: { id: c!.id }, data: { indexStatus: "INDEXING", syncToken: "dead-run", syncLeaseUntil: new Date(Date.now() - 1_000) } });
    await ds.prisma.document.update({ where: { id: d!.id }, data: { indexStatus: "DELETING" } });

    const report = await ds.reconcile();
    expect(report.orphans).toMatchObject({ count: 2 });
    expect(report.orphans.sample.sort()).toEqual([`${a!.id}#orphan1`, "cdeleteddocument000000000#x"].sort());
    expect(report.missing).toMatchObject({ count: 2, documents: 1 });
    expect(report.missing.sample.sort()).toEqual([...lost].sort());
    expect(report.stuck).toEqual({ indexing: [c!.id], deleting: [d!.id] });
    expect(report.fixed).toEqual({ orphansDeleted: 0, documentsEnqueued: 0 });

    const fixed = await ds.reconcile({ fix: true });
    expect(fixed.fixed).toEqual({ orphansDeleted: 2, documentsEnqueued: 3 });
    await ds.sync.drain();
    expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, stuck: { indexing: [], deleting: [] } });
    for (const doc of [a, b, c]) {
      const { recorded, stored } = await vectorsOf(ds, store, doc!.id);
      expect(recorded).toEqual(stored);
      expect((await ds.documents.get(doc!.id)).indexStatus).toBe("INDEXED");
    }
    expect(await ds.prisma.document.count({ where: { id: d!.id } })).toBe(0);
    expect(await storedIds(store, `${d!.id}#`)).toEqual([]);
  });

  it("pages through both sides: every vector is compared once, a page at a time", async () => {
    const store = new FaultyStore(new MemoryVectorStore());
    const ds = await target.open({ embedder: new CountingEmbedder(), vectorStore: store, chunker: { chunkSize: 32, overlap: 0 }, sync: { onWrite: "none" } });
    const user = await ds.users.create({ email: "pages@example.com" });
    const ids = [];
    for (let i = 0; i < 30; i++) ids.push((await ds.documents.create({ userId: user.id, title: `p${i}`, source: "api", content: article(500 + i, 10) })).id);
    await ds.indexDocuments(ids);
    const total = (await ds.prisma.documentChunk.count());
    expect(total).toBeGreaterThan(150);
    store.resetCalls();
    const report = await ds.reconcile({ pageSize: 50 });
    expect(report).toMatchObject({ vectorsInStore: total, vectorsRecorded: total, orphans: { count: 0 }, missing: { count: 0 } });
    expect(store.calls.listIds).toBe(Math.ceil(total / 50) + (total % 50 === 0 ? 1 : 0));
    // Their metadata is fetched a page at a time too, unless only ids are compared.
    expect(store.calls.fetch).toBe(Math.ceil(total / 50));
    store.resetCalls();
    await ds.reconcile({ pageSize: 50, compareMetadata: false });
    expect(store.calls.fetch).toBe(0);
  });

  it("finds vectors whose metadata or text no longer match their row, and fix writes them anew", async () => {
    const store = new FaultyStore(new MemoryVectorStore());
    const ds = await target.open({ embedder: new CountingEmbedder(), vectorStore: store, chunker: { chunkSize: 96, overlap: 8 }, sync: { onWrite: "none" } });
    const user = await ds.users.create({ email: "mismatch@example.com" });
    const doc = await ds.documents.create({ userId: user.id, title: "tagged", source: "api", content: article(40, 6), tags: ["gamma"] });
    await ds.indexDocument(doc.id);
    const [retagged, rewritten] = await store.fetch((await ds.documents.get(doc.id)).vectorIds.slice(0, 2), "");
    // Same ids, other metadata: what a stale write landing late did before vector ids carried epochs.
    await store.upsert(
      [
        { ...retagged!, metadata: { ...retagged!.metadata, tags: ["delta", "beta"] } },
        { ...rewritten!, metadata: { ...rewritten!.metadata, text: "text of another version" } },
      ],
      "",
    );
    const report = await ds.reconcile();
    expect(report).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 2, documents: 1 } });
    expect(report.mismatched.sample.sort()).toEqual([retagged!.id, rewritten!.id].sort());

    expect((await ds.reconcile({ fix: true })).fixed).toEqual({ orphansDeleted: 0, documentsEnqueued: 1 });
    await ds.sync.drain();
    expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
    const { recorded, stored } = await vectorsOf(ds, store, doc.id);
    expect(recorded).toEqual(stored);
    for (const record of await store.fetch(recorded, "")) expect(record.metadata.tags).toEqual(["gamma"]);
    expect(await ds.search("text of another version", { userId: user.id, tags: ["delta"], minScore: -1 })).toEqual([]);
  });

  it("leaves alone the vectors of a run that still holds its lease", async () => {
    const store = new FaultyStore(new MemoryVectorStore());
    const ds = await target.open({ embedder: new CountingEmbedder(), vectorStore: store, sync: { onWrite: "none" } });
    const user = await ds.users.create({ email: "inflight@example.com" });
    const doc = await ds.documents.create({ userId: user.id, title: "in flight", source: "api", content: "tapir" });
    await ds.indexDocument(doc.id);
    const [record] = await store.fetch((await ds.documents.get(doc.id)).vectorIds, "");
    // A run holds the lease and has written a vector it has not recorded yet.
    await ds.prisma.document.update({ where: { id: doc.id }, data: { syncToken: "live-run", syncLeaseUntil: new Date(Date.now() + 60_000) } });
    await store.upsert([{ ...record!, id: `${doc.id}#uncommitted` }], "");
    const report = await ds.reconcile({ fix: true });
    expect(report.orphans.count).toBe(1);
    expect(report.fixed.orphansDeleted).toBe(0);
    expect(await storedIds(store, `${doc.id}#`)).toContain(`${doc.id}#uncommitted`);
  });
});
