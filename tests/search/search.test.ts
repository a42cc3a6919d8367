import { beforeAll, expect, it } from "vitest";
import { ValidationError, type Dualstore, type QueryEvent, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("search", (target) => {
  let ds: Dualstore<PrismaClient>;
  let user: User;
  const statements: QueryEvent[] = [];
  const docs: Record<string, string> = {};

  beforeAll(async () => {
    ds = await target.open({
      database: { onQuery: (event) => statements.push(event) },
      vectorStore: { provider: "memory" },
      sync: { onWrite: "none" },
    });
    user = await ds.users.create({ email: "searcher@example.com" });
    const corpus = [
      { key: "postgres", title: "Postgres replication", content: "Streaming replication ships WAL from the primary to a standby.", tags: ["db", "ops"], source: "upload" as const, language: "en" },
      { key: "pinecone", title: "Pinecone namespaces", content: "Namespaces partition a Pinecone index per tenant.", tags: ["vector"], source: "url" as const, language: "en" },
      { key: "bread", title: "Sourdough", content: "A sourdough starter needs flour, water and patience.", tags: ["food"], source: "api" as const, language: "en" },
      { key: "spanish", title: "Replicación", content: "La replicación en streaming envía WAL al standby.", tags: ["db"], source: "upload" as const, language: "es" },
    ];
    for (const item of corpus) {
      const { key, ...input } = item;
      docs[key] = (await ds.documents.create({ userId: user.id, ...input })).id;
    }
    await ds.indexDocuments(Object.values(docs));
  });

  it("ranks the most relevant document first, with its chunk and a cosine score", async () => {
    const hits = await ds.search("WAL streaming replication standby", { userId: user.id, minScore: 0, topK: 4 });
    expect(hits[0]!.document.id).toBe(docs.postgres);
    expect(hits[0]!.score).toBeGreaterThan(hits.at(-1)!.score);
    for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
    expect(hits[0]!.chunk).toMatchObject({ index: 0, text: expect.stringContaining("Streaming replication") });
    expect(hits[0]!.score).toBeGreaterThan(0);
    expect(hits[0]!.score).toBeLessThanOrEqual(1);
    for (const column of ["content", "vectorIds", "syncToken", "syncLeaseUntil"]) expect(hits[0]!.document).not.toHaveProperty(column);
    expect(hits[0]!.document).toMatchObject({ title: "Postgres replication", tags: ["db", "ops"] });
  });

  it("hydrates all hits in one SQL query when topK and minScore are given", async () => {
    statements.length = 0;
    const hits = await ds.search("replication", { userId: user.id, minScore: 0, topK: 4 });
    expect(hits.length).toBeGreaterThan(1);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.sql).toMatch(/JOIN/);
  });

  it("takes topK and minScore from the user's settings when not given", async () => {
    await ds.settings.update(user.id, { ragTopK: 1, ragMinScore: 0 });
    expect(await ds.search("replication", { userId: user.id })).toHaveLength(1);
    await ds.settings.update(user.id, { ragTopK: 5, ragMinScore: 0.99 });
    expect(await ds.search("replication", { userId: user.id })).toEqual([]);
    await ds.settings.update(user.id, { ragMinScore: 0 });
  });

  it("filters by tags (any), source, documents and language", async () => {
    const ids = async (options: Partial<Parameters<Dualstore["search"]>[1]>) =>
      (await ds.search("replication namespaces sourdough", { userId: user.id, minScore: -1, topK: 10, ...options })).map((h) => h.document.id).sort();
    expect(await ids({ tags: ["db"] })).toEqual([docs.postgres, docs.spanish].sort());
    expect(await ids({ tags: ["food", "vector"] })).toEqual([docs.bread, docs.pinecone].sort());
    expect(await ids({ source: "url" })).toEqual([docs.pinecone]);
    expect(await ids({ source: ["api", "url"] })).toEqual([docs.bread, docs.pinecone].sort());
    expect(await ids({ documentIds: [docs.bread!] })).toEqual([docs.bread]);
    expect(await ids({ language: "es" })).toEqual([docs.spanish]);
  });

  it("hides documents being deleted", async () => {
    const doc = await ds.documents.create({ userId: user.id, title: "Soon gone", source: "api", content: "ephemeral marmot" });
    await ds.indexDocument(doc.id);
    await ds.prisma.document.update({ where: { id: doc.id }, data: { indexStatus: "DELETING" } });
    const hits = await ds.search("ephemeral marmot", { userId: user.id, minScore: -1, topK: 10 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.map((h) => h.document.id)).not.toContain(doc.id);
  });

  it("rejects searches without an explicit owner, and malformed options, naming the field", async () => {
    expect((await rejectsWith(ds.search("x", {} as never), ValidationError)).fields).toEqual(["userId"]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, topK: 0 }), ValidationError)).fields).toEqual(["topK"]);
    expect((await rejectsWith(ds.search("", { userId: user.id }), ValidationError)).fields).toEqual([""]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, tags: ["a\u0000"] }), ValidationError)).fields).toEqual(["tags.0"]);
  });
});
