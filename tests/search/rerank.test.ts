// Reranking the first-stage candidates before topK, on PGlite and PostgreSQL: with a scoring
// function, and with Cohere's reranker (the real SDK) against the local protocol server.
import { afterAll, beforeAll, expect, it } from "vitest";
import { AbortedError, MemoryVectorStore, ProviderError, type Dualstore, type LogFields, type QueryEvent } from "../../src/index.js";
import type { PrismaClient } from "../../src/db/prisma.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import { startCohereServer, type CohereServer } from "../servers/cohere-server.js";

const corpus = {
  facts: { title: "Okapi facts", content: "Okapi okapi okapi: the okapi is an okapi giraffid." },
  forest: { title: "Forest notes", content: "A shy giraffid lives in the Congo rainforest; some call it the okapi." },
  zoo: { title: "Zoo", content: "The zoo keeps an okapi." },
  theirs: { title: "Bob's okapi", content: "Bob's secret okapi giraffid notes from the Congo rainforest." },
  shared: { title: "Handbook", content: "Public handbook: okapi facts from the Congo." },
};
type Key = keyof typeof corpus;

describeEachDatabase(
  "search with a reranker",
  (target) => {
    let ds: Dualstore<PrismaClient>;
    let cohereDs: Dualstore<PrismaClient>;
    let cohere: CohereServer;
    const statements: QueryEvent[] = [];
    const warnings: Array<{ message: string; fields?: LogFields }> = [];
    /** Every list of texts the function reranker was given. */
    const seen: string[][] = [];
    let failure: Error | undefined;
    let hang = false;
    const ids = { alice: "", bob: "" } as Record<"alice" | "bob" | Key, string>;
    const keyOf = (documentId: string) => (Object.keys(corpus) as Key[]).find((key) => ids[key] === documentId);

    beforeAll(async () => {
      cohere = await startCohereServer();
      const logger = { debug() {}, info() {}, error() {}, warn: (message: string, fields?: LogFields) => warnings.push({ message, fields }) };
      ds = await target.open({
        // The recorded generation is read again once its last read is over 2 s old: not the search's cost.
        database: { onQuery: (event) => void (event.sql.includes("IndexGeneration") || statements.push(event)) },
        vectorStore: new MemoryVectorStore(),
        embedder: { provider: "local" },
        sync: { onWrite: "none", retry: { maxRetries: 1, minDelayMs: 5, maxDelayMs: 10 } },
        logger,
        search: {
          // Prefers texts about the Congo rainforest: an order no first-stage ranking here gives.
          reranker: async ({ texts, signal }) => {
            seen.push([...texts]);
            if (failure) throw failure;
            if (hang) await new Promise((resolve) => signal?.addEventListener("abort", resolve));
            return texts.map((text) => (text.includes("Congo") ? 2 : 0) + (text.includes("rainforest") ? 1 : 0));
          },
        },
      });
      ids.alice = (await ds.users.create({ email: "alice-rerank@example.com" })).id;
      ids.bob = (await ds.users.create({ email: "bob-rerank@example.com" })).id;
      for (const key of Object.keys(corpus) as Key[]) {
        const owner = key === "shared" ? null : key === "theirs" ? ids.bob : ids.alice;
        ids[key] = (await ds.documents.create({ userId: owner, source: "upload", ...corpus[key] })).id;
      }
      expect(await ds.indexDocuments((Object.keys(corpus) as Key[]).map((key) => ids[key]))).toMatchObject({ failed: 0 });

      cohereDs = await target.open({
        vectorStore: new MemoryVectorStore(),
        embedder: { provider: "local" },
        sync: { onWrite: "none", retry: { maxRetries: 1, minDelayMs: 5, maxDelayMs: 10 } },
        logger,
        search: { reranker: { provider: "cohere", apiKey: cohere.apiKey, baseUrl: cohere.url, timeoutMs: 2_000 } },
      });
      for (const key of ["facts", "forest", "zoo"] as const) await cohereDs.documents.create({ userId: null, source: "upload", ...corpus[key] });
      expect(await cohereDs.indexDocuments({})).toMatchObject({ indexed: 3 });
    });
    afterAll(async () => cohere?.close());

    const search = (options: Parameters<Dualstore["search"]>[1]) => ds.search("okapi giraffid", options);

    it("reorders the fused candidates by the reranker's relevance, keeping the fused score", async () => {
      const fused = await search({ userId: ids.alice, topK: 4, rerank: false });
      const reranked = await search({ userId: ids.alice, topK: 4 });
      expect(fused.map((hit) => keyOf(hit.document.id))[0]).not.toBe("forest");
      expect(reranked.map((hit) => keyOf(hit.document.id)).slice(0, 2)).toEqual(["forest", "shared"]);
      expect(reranked.map((hit) => hit.score)).toEqual([3, 2, 0, 0]);
      for (const hit of reranked) expect(hit.fusedScore).toBe(fused.find((f) => f.chunk.vectorId === hit.chunk.vectorId)!.score);
      expect(fused.every((hit) => hit.fusedScore === undefined)).toBe(true);
      expect(reranked.degraded).toBeUndefined();
    });

    it("never shows the reranker, nor returns, another user's chunks", async () => {
      seen.length = 0;
      const hits = await search({ userId: ids.alice, topK: 10 });
      expect(hits.map((hit) => keyOf(hit.document.id)).sort()).toEqual(["facts", "forest", "shared", "zoo"]);
      expect(seen.flat().some((text) => text.includes("Bob's secret"))).toBe(false);
      const publicOnly = await search({ userId: null, topK: 10 });
      expect(publicOnly.map((hit) => keyOf(hit.document.id))).toEqual(["shared"]);
    });

    it("reads the candidate pool (title and chunk text), not only topK, and honours a per-call candidates", async () => {
      seen.length = 0;
      const [best] = await search({ userId: ids.alice, topK: 1 });
      expect(keyOf(best!.document.id)).toBe("forest");
      expect(seen[0]).toHaveLength(4);
      expect(seen[0]).toContain(`${corpus.forest.title}\n\n${corpus.forest.content}`);
      seen.length = 0;
      await search({ userId: ids.alice, topK: 1, rerank: { candidates: 2 } });
      expect(seen[0]).toHaveLength(2);
    });

    it("costs one SQL statement and one rerank request, and none with rerank: false", async () => {
      statements.length = 0;
      seen.length = 0;
      await search({ userId: ids.alice, topK: 3, minScore: 0 });
      expect(statements).toHaveLength(1);
      expect(seen).toHaveLength(1);
      await search({ userId: ids.alice, topK: 3, minScore: 0, rerank: false });
      expect(seen).toHaveLength(1);
    });

    it("answers in the fused order, flagged and logged, when the reranker fails; throws when strict", async () => {
      const fused = await search({ userId: ids.alice, topK: 3, rerank: false });
      failure = new Error("reranker unreachable (Authorization: Bearer sk-live-abcdefghijklmnop)");
      warnings.length = 0;
      try {
        const hits = await search({ userId: ids.alice, topK: 3 });
        expect(hits.map((hit) => [hit.chunk.vectorId, hit.score])).toEqual(fused.map((hit) => [hit.chunk.vectorId, hit.score]));
        expect(hits.degraded).toMatchObject({ component: "reranker", code: "PROVIDER" });
        expect(hits.degraded!.message).not.toContain("sk-live-abcdefghijklmnop");
        expect(Object.keys(hits)).toEqual(hits.map((_, i) => String(i)));
        expect(warnings).toEqual([expect.objectContaining({ fields: expect.objectContaining({ component: "reranker", reranker: "function" }) })]);
        await rejectsWith(search({ userId: ids.alice, topK: 3, rerank: { strict: true } }), ProviderError);
      } finally {
        failure = undefined;
      }
    });

    it("rejects at once with AbortedError when the search is aborted during the rerank", async () => {
      hang = true;
      try {
        const controller = new AbortController();
        setTimeout(() => controller.abort(new Error("user left")), 50);
        await rejectsWith(search({ userId: ids.alice, topK: 3, signal: controller.signal }), AbortedError);
      } finally {
        hang = false;
      }
    });

    it("reranks with Cohere's rerank endpoint, retries a 429, and degrades when it stays down", async () => {
      const hits = await cohereDs.search("congo rainforest giraffid", { userId: null, topK: 2, mode: "vector", minScore: -1 });
      expect(hits.map((hit) => hit.document.title)).toEqual(["Forest notes", "Okapi facts"]);
      expect(hits.map((hit) => hit.score)).toEqual([1, 1 / 3]);
      // The whole pool is reranked (the three documents' chunks), then cut to topK.
      expect(cohere.requests.at(-1)).toMatchObject({ path: "/v2/rerank", body: { documents: expect.arrayContaining([expect.stringContaining("Forest notes")]) } });
      expect((cohere.requests.at(-1)!.body as { documents: string[] }).documents).toHaveLength(3);

      cohere.requests.length = 0;
      cohere.faults.next("429", { retryAfterSeconds: 0 });
      expect(await cohereDs.search("congo rainforest giraffid", { userId: null, topK: 1 })).toHaveLength(1);
      expect(cohere.requests.map((request) => request.status)).toEqual([429, 200]);

      cohere.faults.next("503", { times: Number.POSITIVE_INFINITY, match: "/v2/rerank" });
      try {
        const degraded = await cohereDs.search("congo rainforest giraffid", { userId: null, topK: 2 });
        expect(degraded).toHaveLength(2);
        expect(degraded.degraded).toMatchObject({ component: "reranker", code: "PROVIDER", message: expect.stringContaining("503") });
        expect(JSON.stringify(degraded.degraded)).not.toContain(cohere.apiKey);
      } finally {
        cohere.faults.clear();
      }
    });
  },
  { neon: false },
);
