import { beforeEach, expect, it } from "vitest";
import { IndexStatus, ProviderError, type Dualstore, type QueryEvent, type User } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { CountingEmbedder, FaultyStore, permanent, storedIds, transient } from "../helpers/doubles.js";
import { rejectsWith } from "../helpers/errors.js";
import { article, paragraph, seededRandom } from "../helpers/text.js";
import type { PrismaClient } from "../../src/db/prisma.js";

const fastRetry = { maxRetries: 3, minDelayMs: 1, maxDelayMs: 5 };

interface Setup {
  ds: Dualstore<PrismaClient>;
  embedder: CountingEmbedder;
  store: FaultyStore;
  user: User;
  statements: QueryEvent[];
}

async function setup(target: DatabaseTarget, options: { storeLimits?: ConstructorParameters<typeof FaultyStore>[1]; chunkSize?: number } = {}): Promise<Setup> {
  const embedder = new CountingEmbedder();
  const store = new FaultyStore(undefined, options.storeLimits);
  const statements: QueryEvent[] = [];
  const ds = await target.open({
    database: { onQuery: (event) => statements.push(event) },
    embedder,
    vectorStore: store,
    chunker: { chunkSize: options.chunkSize ?? 128, overlap: 16 },
    sync: { retry: fastRetry, onWrite: "none" },
  });
  const user = await ds.users.create({ email: `u${Math.random().toString(36).slice(2)}@example.com` });
  return { ds, embedder, store, user, statements };
}

describeEachDatabase("indexing and search", (target) => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup(target);
  });

  it("indexes a document, records its vectors on the row, and finds it by search", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Replication", source: "upload", content: article(1, 30) + "\n\nWAL shipping keeps the standby replica current." });
    const outcome = await s.ds.indexDocument(doc.id);
    expect(outcome).toMatchObject({ status: "indexed", removed: 0 });
    expect(outcome.chunks).toBeGreaterThan(3);
    expect(outcome.embedded).toBe(outcome.chunks);
    const row = await s.ds.documents.get(doc.id);
    expect(row).toMatchObject({ indexed: true, indexStatus: IndexStatus.INDEXED, chunkCount: outcome.chunks, indexError: null, embedder: s.embedder.id });
    expect([...row.vectorIds].sort()).toEqual(await storedIds(s.store, `${doc.id}#`));
    const hits = await s.ds.search("WAL shipping standby replica", { userId: s.user.id, minScore: 0 });
    expect(hits[0]!.document.id).toBe(doc.id);
    expect(hits[0]!.chunk.text).toContain("WAL shipping");
    expect(hits[0]!.chunk.index).toBe(outcome.chunks - 1);
    expect(row.content!.slice(hits[0]!.chunk.start, hits[0]!.chunk.end)).toBe(hits[0]!.chunk.text);
    expect(hits[0]!.document).not.toHaveProperty("content");
  });

  it("re-indexing an unchanged document makes no embedder call, no store write and one SQL statement", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Same", source: "api", content: article(2, 20) });
    await s.ds.indexDocument(doc.id);
    s.embedder.reset();
    s.store.resetCalls();
    s.statements.length = 0;
    expect(await s.ds.indexDocument(doc.id)).toMatchObject({ status: "unchanged", embedded: 0 });
    expect(s.embedder.requests).toBe(0);
    expect(s.store.calls).toMatchObject({ upsert: 0, delete: 0, fetch: 0 });
    // The document's row; the recorded index generation is read again at most every 2 s.
    expect(s.statements.filter((event) => !event.sql.includes('"IndexGeneration"'))).toHaveLength(1);
  });

  it("editing one paragraph re-embeds only the chunks whose text changed", async () => {
    const paragraphs = article(3, 80).split("\n\n");
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Long", source: "api", content: paragraphs.join("\n\n") });
    const first = await s.ds.indexDocument(doc.id);
    paragraphs[40] = `${paragraphs[40]} ${paragraph(seededRandom(77), 2)}`;
    await s.ds.documents.update(doc.id, { content: paragraphs.join("\n\n") });
    s.embedder.reset();
    const second = await s.ds.indexDocument(doc.id);
    expect(first.chunks).toBeGreaterThan(15);
    expect(second.embedded).toBeGreaterThan(0);
    expect(second.embedded).toBeLessThanOrEqual(3);
    expect(s.embedder.texts).toBe(second.embedded);
    const row = await s.ds.documents.get(doc.id);
    expect([...row.vectorIds].sort()).toEqual(await storedIds(s.store, `${doc.id}#`));
  });

  it("shrinking a document deletes its stale vectors", async () => {
    const content = article(4, 60);
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Shrink", source: "api", content });
    const before = await s.ds.indexDocument(doc.id);
    await s.ds.documents.update(doc.id, { content: content.slice(0, Math.floor(content.length / 3)) });
    const after = await s.ds.indexDocument(doc.id);
    expect(after.removed).toBeGreaterThan(0);
    expect(after.chunks).toBeLessThan(before.chunks);
    const row = await s.ds.documents.get(doc.id);
    expect(row.chunkCount).toBe(after.chunks);
    expect([...row.vectorIds].sort()).toEqual(await storedIds(s.store, `${doc.id}#`));
    expect(await s.ds.prisma.documentChunk.count({ where: { documentId: doc.id } })).toBe(after.chunks);
  });

  it("deleting a document leaves no vector behind and no search hit", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Gone", source: "api", content: "ephemeral zygomorphic content" });
    await s.ds.indexDocument(doc.id);
    expect(await s.ds.search("zygomorphic", { userId: s.user.id, minScore: 0 })).toHaveLength(1);
    await s.ds.documents.delete(doc.id);
    expect(await storedIds(s.store, `${doc.id}#`)).toEqual([]);
    expect(await s.ds.search("zygomorphic", { userId: s.user.id, minScore: 0 })).toEqual([]);
    expect(await s.ds.prisma.document.count({ where: { id: doc.id } })).toBe(0);
  });

  it("never shows a user another user's documents; public documents are shown to everyone", async () => {
    const other = await s.ds.users.create({ email: `o${Math.random().toString(36).slice(2)}@example.com` });
    const mine = await s.ds.documents.create({ userId: s.user.id, title: "mine", source: "api", content: "quokka habitat notes" });
    const theirs = await s.ds.documents.create({ userId: other.id, title: "theirs", source: "api", content: "quokka private diary" });
    const shared = await s.ds.documents.create({ userId: null, title: "shared", source: "system", content: "quokka public handbook" });
    await s.ds.indexDocuments([mine.id, theirs.id, shared.id]);
    const ids = async (userId: string | null) => (await s.ds.search("quokka", { userId, minScore: 0, topK: 10 })).map((h) => h.document.id).sort();
    expect(await ids(s.user.id)).toEqual([mine.id, shared.id].sort());
    expect(await ids(other.id)).toEqual([theirs.id, shared.id].sort());
    expect(await ids(null)).toEqual([shared.id]);
    expect((await s.ds.as(s.user.id).search("quokka diary", { minScore: 0 })).map((h) => h.document.id)).not.toContain(theirs.id);
  });

  it("retries transient embedder errors and succeeds", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Flaky", source: "api", content: article(5, 5) });
    s.embedder.failNext(2, transient());
    expect(await s.ds.indexDocument(doc.id)).toMatchObject({ status: "indexed" });
    expect(s.embedder.requests).toBe(3);
  });

  it("a permanent embedder error leaves the document FAILED with the error, and no vectors", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Bad", source: "api", content: article(6, 5) });
    s.embedder.failNext(1, permanent("input rejected by the model"));
    const error = await rejectsWith(s.ds.indexDocument(doc.id), ProviderError);
    expect(error.retryable).toBe(false);
    expect(s.embedder.requests).toBe(1);
    const row = await s.ds.documents.get(doc.id);
    expect(row).toMatchObject({ indexStatus: "FAILED", indexed: false, vectorIds: [], chunkCount: 0 });
    expect(row.indexError).toContain("input rejected by the model");
    expect(await storedIds(s.store, `${doc.id}#`)).toEqual([]);
  });

  it("a failed re-index keeps the previous vectors listed, stored and searchable", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "v1", source: "api", content: "narwhal tusk anatomy\n\n" + article(7, 10) });
    await s.ds.indexDocument(doc.id);
    const before = (await s.ds.documents.get(doc.id)).vectorIds;
    await s.ds.documents.update(doc.id, { content: "entirely rewritten text about lichens\n\n" + article(8, 10) });
    s.embedder.failAlways(permanent());
    await rejectsWith(s.ds.indexDocument(doc.id), ProviderError);
    const row = await s.ds.documents.get(doc.id);
    expect(row.indexStatus).toBe("FAILED");
    expect(row.vectorIds).toEqual(before);
    expect((await storedIds(s.store, `${doc.id}#`)).sort()).toEqual([...before].sort());
    expect((await s.ds.search("narwhal tusk", { userId: s.user.id, minScore: 0 }))[0]!.document.id).toBe(doc.id);
  });

  it("a store failure mid-upsert leaves the row listing only vectors the store holds", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Half", source: "api", content: article(9, 40) });
    s.store.failAlways("upsert", transient("store down"));
    await rejectsWith(s.ds.indexDocument(doc.id), ProviderError);
    s.store.failAlways("upsert", undefined);
    const row = await s.ds.documents.get(doc.id);
    const stored = await storedIds(s.store, `${doc.id}#`);
    for (const id of row.vectorIds) expect(stored).toContain(id);
    expect(row.indexStatus).toBe("FAILED");
    expect(await s.ds.indexDocument(doc.id)).toMatchObject({ status: "indexed" });
    expect([...(await s.ds.documents.get(doc.id)).vectorIds].sort()).toEqual(await storedIds(s.store, `${doc.id}#`));
  });

  it("changing tags rewrites the vectors' metadata without embedding anything", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Tagged", source: "api", content: "okapi forest notes\n\n" + article(10, 8), tags: ["draft"] });
    const first = await s.ds.indexDocument(doc.id);
    await s.ds.documents.update(doc.id, { tags: ["final"] });
    s.embedder.reset();
    const second = await s.ds.indexDocument(doc.id);
    expect(second).toMatchObject({ status: "indexed", embedded: 0, rewritten: first.chunks });
    expect(s.embedder.texts).toBe(0);
    expect(await s.ds.search("okapi", { userId: s.user.id, minScore: 0, tags: ["draft"] })).toEqual([]);
    expect((await s.ds.search("okapi", { userId: s.user.id, minScore: 0, tags: ["final"] }))[0]!.document.id).toBe(doc.id);
  });

  it("keeps an unchanged chunk's vector when edits above it move it", async () => {
    const paragraphs = article(11, 40).split("\n\n");
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Moves", source: "api", content: paragraphs.join("\n\n") });
    const first = await s.ds.indexDocument(doc.id);
    await s.ds.documents.update(doc.id, { content: [paragraph(seededRandom(5), 6), ...paragraphs].join("\n\n") });
    s.embedder.reset();
    const second = await s.ds.indexDocument(doc.id);
    expect(second.embedded).toBeLessThanOrEqual(3);
    expect(second.rewritten).toBeGreaterThan(first.chunks / 2);
    const chunks = await s.ds.prisma.documentChunk.findMany({ where: { documentId: doc.id }, orderBy: { index: "asc" } });
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    const stored = await s.store.fetch(chunks.map((c) => c.vectorId), "");
    for (const chunk of chunks) expect(stored.find((r) => r.id === chunk.vectorId)!.metadata.chunkIndex).toBe(chunk.index);
  });

  it("keeps long chunks indexable: the store's copy of the text is cut to its metadata limit, search returns it whole", async () => {
    const t = await setup(target, { storeLimits: { maxMetadataBytes: 1_500 }, chunkSize: 512 });
    const doc = await t.ds.documents.create({ userId: t.user.id, title: "Big", source: "api", content: "axolotl éé ".repeat(600) });
    await t.ds.indexDocument(doc.id);
    const records = await t.store.fetch((await t.ds.documents.get(doc.id)).vectorIds, "");
    for (const record of records) expect(Buffer.byteLength(JSON.stringify(record.metadata))).toBeLessThanOrEqual(1_500);
    expect(records.every((record) => record.metadata.textTruncated === true)).toBe(true);
    const [hit] = await t.ds.search("axolotl", { userId: t.user.id, minScore: -1 });
    const stored = records.find((record) => record.id === hit!.chunk.vectorId)!;
    expect(hit!.chunk.text.startsWith(stored.metadata.text as string)).toBe(true);
    expect(hit!.chunk.text.length).toBeGreaterThan((stored.metadata.text as string).length);
  });

  it("ignores vectors no committed run recorded (orphans never reach search)", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Real", source: "api", content: "pangolin scales" });
    await s.ds.indexDocument(doc.id);
    const [real] = await s.store.fetch((await s.ds.documents.get(doc.id)).vectorIds, "");
    await s.store.upsert([{ ...real!, id: `${doc.id}#orphan` }], "");
    const hits = await s.ds.search("pangolin scales", { userId: s.user.id, minScore: -1, topK: 10 });
    expect(hits.map((h) => h.chunk.vectorId)).toEqual([real!.id]);
  });

  it("indexes documents stored without content through the content loader", async () => {
    const t = await target.open({
      embedder: new CountingEmbedder(),
      vectorStore: new FaultyStore(),
      sync: { retry: fastRetry, contentLoader: async (d) => `loaded text for ${d.title}: capybara` },
    });
    const doc = await t.documents.create({ title: "External", source: "url", sourceUrl: "https://example.com/x" });
    expect(await t.indexDocument(doc.id)).toMatchObject({ status: "indexed", chunks: 1 });
    expect((await t.search("capybara", { userId: null, minScore: 0 }))[0]!.chunk.text).toBe("loaded text for External: capybara");
  });

  it("indexes at write time with sync 'now'", async () => {
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "Now", source: "api", content: "immediate wombat" }, { sync: "now" });
    expect(doc).toMatchObject({ indexStatus: "INDEXED", indexed: true });
    expect((await s.ds.search("wombat", { userId: s.user.id, minScore: 0 }))[0]!.document.id).toBe(doc.id);
  });
});

describeEachDatabase("bulk indexing", (target) => {
  it("batches embedder and store calls across documents, reports progress, and costs a few SQL statements per batch", async () => {
    const s = await setup(target);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      ids.push((await s.ds.documents.create({ userId: s.user.id, title: `d${i}`, source: "api", content: article(100 + i, 6) })).id);
    }
    s.embedder.reset();
    s.store.resetCalls();
    s.statements.length = 0;
    const progress: Array<{ done: number; total: number }> = [];
    const result = await s.ds.indexDocuments({ userId: s.user.id }, { batchSize: 20, onProgress: (p) => progress.push({ done: p.done, total: p.total }) });
    expect(result).toMatchObject({ total: 40, done: 40, indexed: 40, failed: 0 });
    expect(progress).toEqual([
      { done: 20, total: 40 },
      { done: 40, total: 40 },
    ]);
    // Two batches: one embedder request and one upsert each, whatever the number of documents.
    expect(s.embedder.requests).toBe(2);
    expect(s.store.calls.upsert).toBe(2);
    // count + 3 id pages + (candidates, claim, embedding cache read, cache write, usage ledger,
    // commit) per batch + one eviction of the cache's oldest entries.
    expect(s.statements.length).toBeLessThanOrEqual(1 + 3 + 2 * 6 + 1);
    s.statements.length = 0;
    s.embedder.reset();
    const again = await s.ds.indexDocuments(ids, { batchSize: 20 });
    expect(again).toMatchObject({ unchanged: 40, indexed: 0 });
    expect(s.embedder.requests).toBe(0);
    // (+1 when the recorded index generation is read again, at most every 2 s.)
    expect(s.statements.length).toBeLessThanOrEqual(3);
  });

  it("isolates a document that fails for good from the rest of its batch", async () => {
    const s = await setup(target);
    const good = await s.ds.documents.create({ userId: s.user.id, title: "good", source: "api", content: "fine text" });
    const bad = await s.ds.documents.create({ userId: s.user.id, title: "bad", source: "api", content: "POISON text" });
    const original = s.embedder.embedDocuments.bind(s.embedder);
    s.embedder.embedDocuments = async (texts) => {
      if (texts.some((t) => t.includes("POISON"))) throw permanent("poisoned input")();
      return original(texts);
    };
    const result = await s.ds.indexDocuments([good.id, bad.id]);
    expect(result).toMatchObject({ indexed: 1, failed: 1 });
    expect((await s.ds.documents.get(good.id)).indexStatus).toBe("INDEXED");
    expect((await s.ds.documents.get(bad.id))).toMatchObject({ indexStatus: "FAILED", indexError: expect.stringContaining("poisoned input") });
  });
});

describeEachDatabase("deletes", (target) => {
  it("deletes many documents in one pass: one claim, one vector delete per namespace, one row delete", async () => {
    const s = await setup(target);
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await s.ds.documents.create({ userId: s.user.id, title: `bulk${i}`, source: "api", content: article(700 + i, 5) })).id);
    await s.ds.indexDocuments(ids);
    s.store.resetCalls();
    s.statements.length = 0;
    const result = await s.ds.deleteDocuments([...ids, "c-no-such-document"]);
    expect(result.deleted.sort()).toEqual([...ids].sort());
    expect(result.missing).toEqual(["c-no-such-document"]);
    expect(s.store.calls).toMatchObject({ delete: 1, deletePrefix: 0, listIds: 0 });
    expect(s.statements).toHaveLength(2);
    for (const id of ids) expect(await storedIds(s.store, `${id}#`)).toEqual([]);
    expect(await s.ds.prisma.document.count({ where: { id: { in: ids } } })).toBe(0);
  });

  it("sweeps a document's id prefix on delete when an earlier run may have left vectors it never recorded", async () => {
    const s = await setup(target);
    const doc = await s.ds.documents.create({ userId: s.user.id, title: "swept", source: "api", content: article(800, 20) });
    await s.ds.indexDocument(doc.id);
    await s.ds.documents.update(doc.id, { content: article(801, 20) });
    // The re-index commits, then cannot delete the old vectors: they stay, unrecorded.
    s.store.failNext("delete", 4, transient());
    await s.ds.indexDocument(doc.id);
    const recorded = (await s.ds.documents.get(doc.id)).vectorIds;
    expect((await storedIds(s.store, `${doc.id}#`)).length).toBeGreaterThan(recorded.length);
    await s.ds.deleteDocument(doc.id);
    expect(s.store.calls.deletePrefix).toBe(1);
    expect(await storedIds(s.store, `${doc.id}#`)).toEqual([]);
  });

  it("lets a scope delete only its own documents in bulk", async () => {
    const s = await setup(target);
    const other = await s.ds.users.create({ email: `x${Math.random().toString(36).slice(2)}@example.com` });
    const mine = await s.ds.documents.create({ userId: s.user.id, title: "mine", source: "api", content: "a" });
    const theirs = await s.ds.documents.create({ userId: other.id, title: "theirs", source: "api", content: "b" });
    const result = await s.ds.as(s.user.id).deleteDocuments([mine.id, theirs.id]);
    expect(result).toEqual({ deleted: [mine.id], missing: [theirs.id] });
    expect(await s.ds.prisma.document.count({ where: { id: theirs.id } })).toBe(1);
  });
});
