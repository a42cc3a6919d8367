// The usage ledger: what the pipeline sent to the embedder, per owner, embedder and UTC day, in
// PostgreSQL (PGlite and the server), read back through ds.usage().
import { expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { ValidationError, type Dualstore } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { CountingEmbedder, transient } from "../helpers/doubles.js";
import { article } from "../helpers/text.js";

const today = () => new Date().toISOString().slice(0, 10);

async function open(target: DatabaseTarget) {
  // Two texts per request, so one document takes several requests.
  const embedder = new CountingEmbedder(undefined, { maxBatchSize: 2 });
  const ds = await target.open({
    embedder,
    chunker: { chunkSize: 64, overlap: 0 },
    sync: { onWrite: "enqueue", retry: { maxRetries: 2, minDelayMs: 1, maxDelayMs: 2 } },
  });
  const owner = async (name: string) => (await ds.users.create({ email: `${name}-${Math.random().toString(36).slice(2)}@example.com` })).id;
  return { ds, embedder, alice: await owner("alice"), bob: await owner("bob") };
}

/** The chunks stored for an owner's documents: what their ledger row must add up to. */
async function chunksOf(ds: Dualstore<PrismaClient>, userId: string | null) {
  const documents = await ds.prisma.document.findMany({ where: { userId }, select: { id: true } });
  return ds.prisma.documentChunk.findMany({ where: { documentId: { in: documents.map((d) => d.id) } } });
}

describeEachDatabase(
  "usage ledger",
  (target) => {
    it("records tokens, texts and requests per owner and embedder for today, as the chunks add up", async () => {
      const { ds, embedder, alice, bob } = await open(target);
      await ds.documents.create({ userId: alice, title: "a1", source: "api", content: article(1, 12) });
      await ds.documents.create({ userId: alice, title: "a2", source: "api", content: article(2, 6) });
      await ds.documents.create({ userId: bob, title: "b1", source: "api", content: article(3, 4) });
      await ds.documents.create({ userId: null, title: "public", source: "system", content: article(4, 3) });
      await ds.sync.drain();

      const rows = await ds.usage();
      expect(rows.map((row) => row.userId).sort()).toEqual([alice, bob, null].sort());
      for (const userId of [alice, bob, null]) {
        const chunks = await chunksOf(ds, userId);
        const row = rows.find((r) => r.userId === userId)!;
        expect(row).toMatchObject({ day: today(), model: embedder.id, texts: chunks.length });
        expect(row.tokens).toBe(chunks.reduce((sum, chunk) => sum + chunk.tokenCount, 0));
        expect(row.tokens).toBeGreaterThan(0);
        // At least one request per two texts; a request shared by two owners counts for both.
        expect(row.requests).toBeGreaterThanOrEqual(Math.ceil(chunks.length / 2));
      }
      expect(rows.reduce((sum, row) => sum + row.texts, 0)).toBe(embedder.texts);
      expect(rows.reduce((sum, row) => sum + row.requests, 0)).toBeGreaterThanOrEqual(embedder.requests);
      // The rows carry ids and counts only: no document text.
      expect(JSON.stringify(rows)).not.toMatch(/[a-z]{12,}/);

      // Re-indexing what did not change embeds nothing and adds nothing.
      await ds.indexDocuments({ userId: alice });
      expect(await ds.usage()).toEqual(rows);
      // Filters: one owner, public documents, days.
      expect(await ds.usage({ userId: bob })).toEqual([rows.find((r) => r.userId === bob)]);
      expect(await ds.usage({ userId: null })).toEqual([rows.find((r) => r.userId === null)]);
      expect(await ds.usage({ from: today(), to: new Date() })).toEqual(rows);
      expect(await ds.usage({ to: "2000-01-01" })).toEqual([]);
      expect(await ds.usage({ from: new Date(Date.now() + 2 * 86_400_000) })).toEqual([]);
    });

    it("adds up across runs, and counts a retried request each time it was sent", async () => {
      const { ds, embedder, alice } = await open(target);
      const doc = await ds.documents.create({ userId: alice, title: "one", source: "api", content: "short note about wombats" });
      embedder.failNext(1, transient("overloaded"));
      await ds.sync.drain();
      const [first] = await ds.usage({ userId: alice });
      expect(first).toMatchObject({ texts: 1, requests: 2 });

      await ds.documents.update(doc.id, { content: "a different note about quokkas" });
      await ds.sync.drain();
      const [second] = await ds.usage({ userId: alice });
      expect(second).toMatchObject({ texts: 2, requests: 3 });
      expect(second!.tokens).toBeGreaterThan(first!.tokens);
    });

    it("rejects a malformed query with a ValidationError naming the field", async () => {
      const { ds } = await open(target);
      await expect(ds.usage({ from: "yesterday" })).rejects.toThrow(ValidationError);
      await expect(ds.usage({ from: "yesterday" })).rejects.toMatchObject({ issues: [{ path: "from" }] });
      await expect(ds.usage({ userId: "" })).rejects.toThrow(ValidationError);
    });
  },
  { neon: false },
);
