import { beforeAll, expect, it } from "vitest";
import { MemoryVectorStore, ValidationError, type ChunkText, type Dualstore, type QueryEvent, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { CountingEmbedder, FaultyStore } from "../helpers/doubles.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

// Paragraphs of a few words, so that with 16-token chunks each paragraph is a chunk of its own.
const paragraph = (word: string) => `The ${word} paragraph says a few more words here.`;
const paragraphs = (words: readonly string[]) => words.map(paragraph).join("\n\n");

describeEachDatabase("search by documents, with neighbouring chunks", (target) => {
  let ds: Dualstore<PrismaClient>;
  let user: User;
  const statements: QueryEvent[] = [];
  const docs: Record<string, string> = {};
  const contents: Record<string, string> = {};
  const store = new FaultyStore(new MemoryVectorStore());
  const embedder = new CountingEmbedder();

  beforeAll(async () => {
    ds = await target.open({
      database: { onQuery: (event) => statements.push(event) },
      vectorStore: store,
      embedder,
      chunker: { chunkSize: 16, overlap: 0 },
      sync: { onWrite: "none" },
    });
    user = await ds.users.create({ email: "documents@example.com" });
    const other = await ds.users.create({ email: "documents-other@example.com" });
    const corpus = {
      // More chunks about walruses, each ranking above the other documents', than a page of
      // chunks holds: ranked by chunks, it fills any page alone.
      many: paragraphs(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"].map((n) => `walrus walrus ${n}`)),
      few: paragraphs(["walrus tusks", "penguin colony"]),
      single: paragraphs(["walrus ivory"]),
      // Neighbours: the hit words sit first, in the middle and last.
      edges: paragraphs(["narwhal first", "plain alpha", "plain beta", "dugong middle", "plain gamma", "plain delta", "manatee last"]),
    };
    for (const [key, content] of Object.entries(corpus)) {
      docs[key] = (await ds.documents.create({ userId: user.id, title: key, source: "api", language: "en", content })).id;
      contents[docs[key]!] = content;
    }
    docs.theirs = (await ds.documents.create({ userId: other.id, title: "theirs", source: "api", language: "en", content: paragraphs(["walrus secret", "dugong secret", "hidden neighbour"]) })).id;
    await ds.indexDocuments(Object.values(docs));
    const chunks = await ds.prisma.documentChunk.findMany({ where: { documentId: docs.edges }, orderBy: { index: "asc" } });
    // The test's premise: one chunk per paragraph.
    expect(chunks.map((chunk) => chunk.text.trim())).toEqual(corpus.edges.split("\n\n"));
  });

  // Statements reading chunks (the index's own bookkeeping may run beside a search).
  const chunkStatements = () => statements.filter((event) => event.sql.includes("DocumentChunk"));
  const cited = (documentId: string, chunk: ChunkText) => expect(contents[documentId]!.slice(chunk.start, chunk.end)).toBe(chunk.text);

  it("returns topK distinct documents, each with its best chunks, even when one document matches more chunks than topK", async () => {
    for (const mode of ["lexical", "hybrid", "vector"] as const) {
      const found = await ds.search("walrus", { userId: user.id, mode, minScore: -1, topK: 3, group: "documents", chunksPerDocument: 1 });
      const ids = found.map((hit) => hit.document.id);
      expect(new Set(ids).size, mode).toBe(ids.length);
      expect(ids, mode).not.toContain(docs.theirs);
      // In vector mode the closest eight chunks (what the first ask reads) are all of "many": the
      // search asks the store again for more until it holds three documents.
      expect(ids.sort(), mode).toEqual([docs.many, docs.few, docs.single].sort());
      for (const hit of found) {
        expect(hit.chunks).toHaveLength(1);
        expect(hit.score).toBe(hit.chunks[0]!.score);
        for (let i = 1; i < hit.chunks.length; i++) expect(hit.chunks[i - 1]!.score).toBeGreaterThanOrEqual(hit.chunks[i]!.score);
        for (const chunk of hit.chunks) cited(hit.document.id, chunk.chunk);
      }
      for (let i = 1; i < found.length; i++) expect(found[i - 1]!.score).toBeGreaterThanOrEqual(found[i]!.score);
    }
    // Asking again embeds the query once, and stops when the store has no more to give.
    const before = { queries: store.calls.query, embedded: embedder.queries };
    await ds.search("walrus", { userId: user.id, mode: "vector", minScore: -1, topK: 3, group: "documents", chunksPerDocument: 1 });
    expect({ queries: store.calls.query - before.queries, embedded: embedder.queries - before.embedded }).toEqual({ queries: 2, embedded: 1 });
    const all = await ds.search("walrus", { userId: user.id, mode: "vector", minScore: -1, topK: 20, group: "documents", chunksPerDocument: 1 });
    expect(all.map((hit) => hit.document.id).sort()).toEqual([docs.many, docs.few, docs.single, docs.edges].sort());
    const [best] = await ds.search("walrus", { userId: user.id, mode: "lexical", topK: 1, group: "documents", chunksPerDocument: 4 });
    expect(best!.document.id).toBe(docs.many);
    expect(best!.chunks).toHaveLength(4);
    // By chunks, the same page holds one document three times.
    const chunks = await ds.search("walrus", { userId: user.id, mode: "lexical", topK: 3 });
    expect(chunks.map((hit) => hit.document.id)).toEqual([docs.many, docs.many, docs.many]);
  });

  it("returns the chunks before and after each hit, fewer at the document's edges, in one more statement", async () => {
    const neighbours = (hit: { chunk: ChunkText; context?: { before: readonly ChunkText[]; after: readonly ChunkText[] } }) => ({
      before: hit.context!.before.map((chunk) => chunk.text.trim()),
      after: hit.context!.after.map((chunk) => chunk.text.trim()),
    });
    statements.length = 0;
    const [first] = await ds.search("narwhal", { userId: user.id, mode: "lexical", topK: 1, context: 2 });
    expect(chunkStatements()).toHaveLength(2);
    expect(first!.chunk.index).toBe(0);
    expect(neighbours(first!)).toEqual({ before: [], after: [paragraph("plain alpha"), paragraph("plain beta")] });
    const [middle] = await ds.search("dugong", { userId: user.id, mode: "lexical", topK: 1, context: 1 });
    expect(middle!.document.id).toBe(docs.edges);
    expect(neighbours(middle!)).toEqual({ before: [paragraph("plain beta")], after: [paragraph("plain gamma")] });
    const [last] = await ds.search("manatee", { userId: user.id, mode: "lexical", topK: 1, context: 3 });
    expect(neighbours(last!)).toEqual({ before: [paragraph("dugong middle"), paragraph("plain gamma"), paragraph("plain delta")], after: [] });
    for (const hit of [first!, middle!, last!]) for (const chunk of [...hit.context!.before, ...hit.context!.after]) cited(docs.edges!, chunk);
    statements.length = 0;
    await ds.search("dugong", { userId: user.id, mode: "lexical", topK: 1 });
    expect(chunkStatements()).toHaveLength(1);
  });

  it("gives grouped hits their neighbours, never from another owner's document", async () => {
    const found = await ds.search("dugong secret hidden", { userId: user.id, mode: "hybrid", minScore: -1, topK: 5, group: "documents", context: 1 });
    expect(found.map((hit) => hit.document.id)).not.toContain(docs.theirs);
    for (const hit of found) {
      for (const chunk of hit.chunks) {
        for (const near of [...chunk.context!.before, ...chunk.context!.after]) {
          cited(hit.document.id, near);
          expect(near.text).not.toMatch(/secret|hidden/);
        }
      }
    }
  });

  it("rejects malformed grouping and context options, naming the field", async () => {
    expect((await rejectsWith(ds.search("x", { userId: user.id, group: "pages" as never }), ValidationError)).fields).toEqual(["group"]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, group: "documents", chunksPerDocument: 0 }), ValidationError)).fields).toEqual(["chunksPerDocument"]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, chunksPerDocument: 2 }), ValidationError)).fields).toEqual(["chunksPerDocument"]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, context: 11 }), ValidationError)).fields).toEqual(["context"]);
    expect((await rejectsWith(ds.search("x", { userId: user.id, context: 1.5 }), ValidationError)).fields).toEqual(["context"]);
  });
});
