import { beforeAll, expect, it } from "vitest";
import { ConfigurationError, MemoryVectorStore, ValidationError, type Dualstore, type QueryEvent, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { CountingEmbedder, FaultyStore } from "../helpers/doubles.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("search", (target) => {
  let ds: Dualstore<PrismaClient>;
  let user: User;
  const statements: QueryEvent[] = [];
  const docs: Record<string, string> = {};

  const store = new FaultyStore(new MemoryVectorStore());
  const embedder = new CountingEmbedder();
  const storeStats = () => ({ query: store.calls.query, embedderQueries: embedder.queries });

  let database: Awaited<ReturnType<typeof target.freshDatabase>>;

  beforeAll(async () => {
    database = await target.freshDatabase();
    ds = await target.open({
      // The recorded generation is read again once its last read is over 2 s old: not the search's cost.
      database: { ...database, onQuery: (event) => void (event.sql.includes("IndexGeneration") || statements.push(event)) },
      vectorStore: store,
      embedder,
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
    expect(await ds.search("replication", { userId: user.id, mode: "vector" })).toEqual([]);
    // minScore gates the vector side only: hybrid still finds the chunks holding the word.
    const hybrid = await ds.search("replication", { userId: user.id });
    expect(hybrid.map((hit) => hit.document.id)).toEqual([docs.postgres]);
    expect(hybrid[0]).not.toHaveProperty("vectorScore");
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

  it("finds a rare exact word lexically, in each document's own language, with no embedder or vector store call", async () => {
    const before = { ...storeStats() };
    const hits = await ds.search("replicaciones", { userId: user.id, mode: "lexical", minScore: 0, topK: 5 });
    // The Spanish stemmer reads "replicaciones" and "replicación" as one word; English would not.
    expect(hits.map((hit) => hit.document.id)).toEqual([docs.spanish]);
    expect(hits[0]!.score).toBeGreaterThan(0);
    expect(hits[0]!.lexicalScore).toBe(hits[0]!.score);
    expect(storeStats()).toEqual(before);
  });

  it("does not match documents with no language by stop words alone, and still finds their other words", async () => {
    const reader = await ds.users.create({ email: "stopwords@example.com" });
    const plain = await ds.documents.create({ userId: reader.id, title: "Plain", source: "api", content: "The history of the kingdom and the people in it." });
    const marmot = await ds.documents.create({ userId: reader.id, title: "Marmot", source: "api", content: "The marmot whistles." });
    const english = await ds.documents.create({ userId: reader.id, title: "English", source: "api", language: "en", content: "The walrus of the north." });
    await ds.indexDocuments([plain.id, marmot.id, english.id]);
    const found = async (query: string) => (await ds.search(query, { userId: reader.id, mode: "lexical", topK: 10 })).map((hit) => hit.document.id).sort();
    expect(await found("the marmot of it")).toEqual([marmot.id]);
    expect(await found("walrus and marmot")).toEqual([english.id, marmot.id].sort());
    expect(await found("the of and in it")).toEqual([]);
  });

  it("reads the query in a language as soon as any client writes a document in it, with no table scan to find the languages", async () => {
    // A second client of the same database: its own connection pool on PostgreSQL; PGlite's in-memory database has one.
    const second = await target.open({ database: target.name === "pglite" ? { prisma: ds.prisma } : database, vectorStore: store, embedder, sync: { onWrite: "none" } });
    const found = async (query: string) => (await ds.search(query, { userId: null, mode: "lexical", topK: 5 })).map((hit) => hit.document.id);
    // Only the German stemmer reads "Katze" and "Katzen" as one word; no document is German yet.
    expect(await found("Katze")).toEqual([]);
    const german = await second.documents.create({ userId: null, title: "Katzen", source: "api", language: "de", content: "Die Katzen schlafen den ganzen Tag." });
    await second.indexDocuments([german.id]);
    statements.length = 0;
    expect(await found("Katze")).toEqual([german.id]);
    const lexical = statements.find((event) => event.sql.includes("ts_rank"))!.sql;
    await second.documents.delete(german.id);
    expect(await found("Katze")).toEqual([]);
    // The languages in use come from walking Document's index on language, not from reading every document.
    const params = [[], false, null, null, null, null, null, "Katze", 10, null];
    const plan = await ds.prisma.$queryRawUnsafe<Array<{ "QUERY PLAN": string }>>(`EXPLAIN ${lexical}`, ...params);
    expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).toMatch(/Index Only Scan.* using "?Document_language_idx"?/);
  });

  it("ranks by words and meaning together by default, in one SQL statement and one vector query", async () => {
    statements.length = 0;
    const before = storeStats().query;
    const hits = await ds.search("sourdough starter flour", { userId: user.id, minScore: 0, topK: 3 });
    expect(hits[0]!.document.id).toBe(docs.bread);
    expect(hits[0]!.vectorScore).toBeGreaterThan(0);
    expect(hits[0]!.lexicalScore).toBeGreaterThan(0);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    expect(statements).toHaveLength(1);
    expect(storeStats().query - before).toBe(1);
  });

  it("never returns another owner's document or a source mirror from either side", async () => {
    const other = await ds.users.create({ email: "other-searcher@example.com" });
    const theirs = await ds.documents.create({ userId: other.id, title: "Theirs", source: "api", content: "quokka quokka marsupial quokka" });
    const mirror = await ds.documents.create({ userId: user.id, title: "Mirror", source: "api", content: "quokka mirror marsupial" });
    await ds.indexDocuments([theirs.id, mirror.id]);
    await ds.prisma.document.update({ where: { id: mirror.id }, data: { sourceName: "products", sourceKey: "1" } });
    for (const mode of ["hybrid", "lexical", "vector"] as const) {
      const hits = await ds.search("quokka marsupial", { userId: user.id, mode, minScore: -1, topK: 20 });
      expect(hits.map((hit) => hit.document.id)).not.toContain(theirs.id);
      expect(hits.map((hit) => hit.document.id)).not.toContain(mirror.id);
    }
    const own = await ds.search("quokka marsupial", { userId: other.id, mode: "lexical", topK: 5 });
    expect(own.map((hit) => hit.document.id)).toEqual([theirs.id]);
  });

  it("rejects searches without an explicit owner, and malformed options, naming the field", async () => {
    expect((await rejectsWith(ds.search("x", {} as never), ValidationError)).fields).toEqual(["userId"]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, topK: 0 }), ValidationError)).fields).toEqual(["topK"]);
    expect((await rejectsWith(ds.search("", { userId: user.id }), ValidationError)).fields).toEqual([""]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, tags: ["a\u0000"] }), ValidationError)).fields).toEqual(["tags.0"]);
  });

  it("refuses reranking on an instance without a reranker, naming the option, and a malformed rerank option", async () => {
    const error = await rejectsWith(ds.search("x", { userId: user.id, rerank: true }), ConfigurationError);
    expect(error.option).toBe("search.reranker");
    expect((await rejectsWith(ds.search("x", { userId: user.id, rerank: { candidates: 0 } }), ValidationError)).fields).toEqual(["rerank.candidates"]);
    expect(await ds.search("replication", { userId: user.id, rerank: false, topK: 1 })).toHaveLength(1);
  });
});
