import { beforeAll, expect, it } from "vitest";
import {
  DimensionMismatchError,
  LocalEmbedder,
  MemoryVectorStore,
  ProviderError,
  ValidationError,
  createDualstore,
  type Dualstore,
  type Embedder,
  type User,
} from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { FaultyStore, storedIds } from "../helpers/doubles.js";
import { rejectsWith } from "../helpers/errors.js";
import { article } from "../helpers/text.js";
import type { PrismaClient } from "../../src/db/prisma.js";

/** An embedder whose output breaks its own promise in a chosen way. */
function misbehaving(kind: "short" | "nan" | "zero" | "count"): Embedder {
  const inner = new LocalEmbedder();
  return {
    id: `broken-${kind}:model:${inner.dimension}`,
    dimension: inner.dimension,
    maxBatchSize: 64,
    embedQuery: (text) => inner.embedQuery(text),
    async embedDocuments(texts) {
      const vectors = await inner.embedDocuments(texts);
      if (kind === "short") return vectors.map((v) => v.slice(1));
      if (kind === "nan") return vectors.map((v) => v.map((x, i) => (i === 0 ? Number.NaN : x)));
      if (kind === "zero") return vectors.map((v) => v.map(() => 0));
      return vectors.slice(1);
    },
  };
}

describeEachDatabase("bad input", (target) => {
  let ds: Dualstore<PrismaClient>;
  let store: FaultyStore;
  let user: User;
  beforeAll(async () => {
    store = new FaultyStore();
    ds = await target.open({ vectorStore: store, sync: { onWrite: "none" } });
    user = await ds.users.create({ email: "bad-input@example.com" });
  });

  it("indexes an empty document as zero chunks", async () => {
    const doc = await ds.documents.create({ userId: user.id, title: "empty", source: "api", content: "" });
    expect(await ds.indexDocument(doc.id)).toMatchObject({ status: "indexed", chunks: 0 });
    expect(await ds.documents.get(doc.id)).toMatchObject({ indexed: true, chunkCount: 0, vectorIds: [] });
  });

  it("indexes a 10 MB document and finds text at its very end", async () => {
    const big = `${article(1, 35_000)}\n\nThe final paragraph mentions a xylophone.`;
    expect(big.length).toBeGreaterThan(10_000_000);
    const doc = await ds.documents.create({ userId: user.id, title: "huge", source: "upload", content: big });
    const outcome = await ds.indexDocument(doc.id);
    expect(outcome.chunks).toBeGreaterThan(2_000);
    const row = await ds.documents.get(doc.id);
    expect(row.chunkCount).toBe(outcome.chunks);
    expect([...row.vectorIds].sort()).toEqual(await storedIds(store, `${doc.id}#`));
    const [hit] = await ds.search("xylophone", { userId: user.id, minScore: 0, documentIds: [doc.id] });
    expect(hit!.chunk.text).toContain("xylophone");
  }, 180_000);

  it("refuses invalid UTF-16 and NUL characters anywhere, naming the field, writing nothing", async () => {
    const before = await ds.prisma.document.count();
    const cases: Array<[Parameters<Dualstore["documents"]["create"]>[0], string[]]> = [
      [{ userId: user.id, title: "t", source: "api", content: "broken \uD83D pair" }, ["content"]],
      [{ userId: user.id, title: "nul\u0000title", source: "api" }, ["title"]],
      [{ userId: user.id, title: "t", source: "api", tags: ["ok", "bad\u0000"] }, ["tags.1"]],
      [{ userId: user.id, title: "t", source: "api", metadata: { note: "lone \uDC00 low" } }, ["metadata.note"]],
      [{ userId: user.id, title: "t", source: "api", metadata: { "key\u0000": 1 } }, ["metadata.key\u0000"]],
    ];
    for (const [input, fields] of cases) {
      const error = await rejectsWith(ds.documents.create(input), ValidationError);
      expect(error.fields).toEqual(fields);
    }
    expect(await ds.prisma.document.count()).toBe(before);
  });

  it("stores SQL-looking and filter-operator-looking strings as plain data, and filters on them exactly", async () => {
    const nasty = `Robert'); DROP TABLE "Document";--`;
    const doc = await ds.documents.create({
      userId: user.id,
      title: nasty,
      source: "api",
      content: "kinkajou facts",
      tags: ["$in", "' OR '1'='1", '{"$ne":null}'],
      metadata: { $where: "1 == 1", "a.b": { "$gt": "" }, "x'y": "z\"w" },
    });
    await ds.indexDocument(doc.id);
    expect((await ds.documents.get(doc.id)).title).toBe(nasty);
    expect(await ds.prisma.document.count()).toBeGreaterThan(0);
    const byTag = async (tag: string) => (await ds.search("kinkajou", { userId: user.id, minScore: -1, tags: [tag] })).map((h) => h.document.id);
    expect(await byTag("$in")).toEqual([doc.id]);
    expect(await byTag("' OR '1'='1")).toEqual([doc.id]);
    expect(await byTag("$ne")).toEqual([]);
    expect(await byTag("' OR 1=1 --")).toEqual([]);
    const [record] = await store.fetch((await ds.documents.get(doc.id)).vectorIds, "");
    expect(record!.metadata.title).toBe(nasty);
    expect(Object.keys(record!.metadata).every((key) => /^[A-Za-z0-9_.]+$/.test(key))).toBe(true);
  });

  it.each(["short", "nan", "zero", "count"] as const)("rejects a misconfigured embedder's %s output and writes no vector", async (kind) => {
    const bad = await target.open({ embedder: misbehaving(kind), vectorStore: new FaultyStore(), sync: { onWrite: "none", retry: { maxRetries: 0 } } });
    const doc = await bad.documents.create({ title: "victim", source: "api", content: "some text to embed" });
    const error = await bad.indexDocument(doc.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(kind === "short" ? error instanceof DimensionMismatchError : error instanceof ProviderError).toBe(true);
    const row = await bad.documents.get(doc.id);
    expect(row).toMatchObject({ indexStatus: "FAILED", vectorIds: [] });
    expect(row.indexError).toBeTruthy();
    expect(await storedIds(bad.vectorStore!, `${doc.id}#`)).toEqual([]);
  });

  it("refuses a vector store that already holds vectors of another dimension, and releases everything", async () => {
    const shared = new MemoryVectorStore();
    await target.open({ embedder: new LocalEmbedder({ dimension: 64 }), vectorStore: shared });
    const database = await target.freshDatabase();
    await expect(createDualstore<PrismaClient>({ database, embedder: new LocalEmbedder({ dimension: 128 }), vectorStore: shared, env: {} })).rejects.toBeInstanceOf(
      DimensionMismatchError,
    );
  });
});
