import { expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, EmbedderMismatchError, IndexLayoutMismatchError, MemoryVectorStore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { CountingEmbedder } from "../helpers/doubles.js";
import { rejectsWith } from "../helpers/errors.js";
import { article } from "../helpers/text.js";

type Options = Omit<DualstoreOptions, "database">;

/**
 * A first process on a fresh database and a way to open others on the same one. PostgreSQL here
 * has no pgvector: there every process shares one in-memory store, as they would share Pinecone.
 */
async function firstProcess(target: DatabaseTarget, options: Options) {
  const shared = target.name === "pglite" ? undefined : new MemoryVectorStore();
  const first = await target.open({ ...(shared ? { vectorStore: shared } : {}), ...options });
  const opened: Dualstore<PrismaClient>[] = [];
  const reopen = async (more: Options = {}) => {
    const ds = (await createDualstore({
      ...(shared ? { vectorStore: shared } : {}),
      ...more,
      database: { prisma: first.prisma, schema: first.database.schema },
      migrate: false,
      env: {},
    })) as unknown as Dualstore<PrismaClient>;
    opened.push(ds);
    return ds;
  };
  return { first, reopen, closeAll: () => Promise.all(opened.map((ds) => ds.close())) };
}

const TEXT = "Logical replication streams row changes from a publisher to subscribers.";

describeEachDatabase(
  "the index records what built it",
  (target) => {
    it("reopened with an embedder of another dimension and no migration: EMBEDDER_MISMATCH naming both models, never an empty result, health not up", async () => {
      const { first, reopen, closeAll } = await firstProcess(target, { embedder: { provider: "local", dimension: 64 }, sync: { onWrite: "now" } });
      const doc = await first.documents.create({ title: "Replication", source: "api", content: TEXT });
      expect((await first.search("logical replication subscribers", { userId: null }))[0]!.document.id).toBe(doc.id);
      const [generation] = await first.prisma.indexGeneration.findMany();
      expect(generation).toMatchObject({
        state: "LIVE",
        embedder: "local:hashing-v1:64",
        embedderConfig: { provider: "local", dimension: 64 },
        dimension: 64,
        namespacing: "single",
        chunker: "recursive-v1:512/50:approx",
        store: target.name === "pglite" ? "pgvector:default.vectors_<dimension>" : "memory:custom",
      });

      const other = await reopen({ embedder: { provider: "local", dimension: 32 } });
      const error = await rejectsWith(other.search("logical replication subscribers", { userId: null }), EmbedderMismatchError);
      expect(error.code).toBe("EMBEDDER_MISMATCH");
      expect(error.message).toContain("local:hashing-v1:64");
      expect(error.message).toContain("local:hashing-v1:32");
      expect(error.message).toContain("dualstore embeddings migrate");
      await rejectsWith(other.indexDocument(doc.id, { force: true }), EmbedderMismatchError);
      await rejectsWith(other.sync.drain(), EmbedderMismatchError);
      const health = await other.health();
      expect(health.status).toBe("degraded");
      expect(health.index).toMatchObject({ status: "down" });
      expect(health.index!.error).toContain("local:hashing-v1:64");
      // Nothing of the other model was written.
      expect((await first.documents.get(doc.id)).embedder).toBe("local:hashing-v1:64");

      // A process that names no embedder uses the recorded one.
      const unset = await reopen();
      expect(unset.embedder!.id).toBe("local:hashing-v1:64");
      expect((await unset.search("logical replication subscribers", { userId: null }))[0]!.document.id).toBe(doc.id);
      expect((await unset.health()).index).toMatchObject({ status: "up" });
      await closeAll();
    });

    it("a process whose namespacing differs refuses to sync and search; one that leaves it unset follows the recorded per-user namespaces", async () => {
      const { first, reopen, closeAll } = await firstProcess(target, { embedder: { provider: "local", dimension: 64 }, sync: { namespacing: "per-user" } });
      const user = await first.users.create({ email: `ns${Math.random().toString(36).slice(2)}@example.com` });
      const doc = await first.documents.create({ userId: user.id, title: "Mine", source: "api", content: TEXT });
      await first.sync.drain();
      expect((await first.documents.get(doc.id)).vectorNamespace).toBe(user.id);

      const single = await reopen({ sync: { namespacing: "single" } });
      const error = await rejectsWith(single.sync.drain(), IndexLayoutMismatchError);
      expect(error.code).toBe("INDEX_LAYOUT_MISMATCH");
      expect(error.differences).toEqual(['namespacing: recorded "per-user", configured "single"']);
      await rejectsWith(single.as(user.id).search("replication", {}), IndexLayoutMismatchError);

      const later = await first.documents.create({ userId: user.id, title: "Later", source: "api", content: "Vacuum reclaims dead tuples left by updates." });
      const unset = await reopen({ embedder: { provider: "local", dimension: 64 } });
      await unset.sync.drain();
      expect(await first.documents.get(later.id)).toMatchObject({ indexStatus: "INDEXED", vectorNamespace: user.id });
      expect((await first.as(user.id).search("vacuum dead tuples", {}))[0]!.document.id).toBe(later.id);
      await closeAll();
    });

    it("a configuration recorded over an empty index gives way to the next process's explicit one", async () => {
      const { first, reopen, closeAll } = await firstProcess(target, { embedder: { provider: "local", dimension: 64 } });
      expect((await first.prisma.indexGeneration.findFirstOrThrow()).namespacing).toBe("single");
      await reopen({ embedder: { provider: "local", dimension: 64 }, sync: { namespacing: "per-user" } });
      expect(await first.prisma.indexGeneration.findMany()).toMatchObject([{ namespacing: "per-user" }]);
      await closeAll();
    });

    it("re-creating a deleted document with the same text makes no embedder request", async () => {
      const embedder = new CountingEmbedder();
      const { first, closeAll } = await firstProcess(target, { embedder, sync: { onWrite: "now" }, chunker: { chunkSize: 64, overlap: 8 } });
      const content = article(7, 8);
      const doc = await first.documents.create({ title: "Original", source: "api", content });
      expect(embedder.texts).toBeGreaterThan(2);
      await first.documents.delete(doc.id);
      embedder.reset();
      const again = await first.documents.create({ title: "Original, again", source: "api", content });
      expect(embedder.requests).toBe(0);
      const row = await first.documents.get(again.id);
      expect(row.indexStatus).toBe("INDEXED");
      expect(row.chunkCount).toBeGreaterThan(2);
      const [hit] = await first.search(content.slice(0, 200), { userId: null });
      expect(hit!.document.id).toBe(again.id);
      expect(hit!.score).toBeGreaterThan(0.5);
      // Only the query was embedded.
      expect(embedder.queries).toBe(1);
      await closeAll();
    });

    it("the embedding cache keeps at most maxEntries vectors", async () => {
      const embedder = new CountingEmbedder();
      const { first, closeAll } = await firstProcess(target, { embedder, sync: { onWrite: "now", embeddingCache: { maxEntries: 3 } }, chunker: { chunkSize: 64, overlap: 8 } });
      const doc = await first.documents.create({ title: "Long", source: "api", content: article(9, 10) });
      expect((await first.documents.get(doc.id)).chunkCount).toBeGreaterThan(3);
      expect(await first.prisma.embeddingCacheEntry.count()).toBe(3);
      await closeAll();
    });
  },
  { neon: false },
);
