// The contract every Embedder must meet, run against each one by adding a line to embedders.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { AbortedError, type Embedder } from "../../src/index.js";
import { ManagedEmbedder } from "../../src/embedders/managed-embedder.js";

export interface EmbedderHarness {
  readonly embedder: Embedder;
  /** Leaves the next request unanswered (providers behind a protocol server), to abort it in flight. */
  hangNextRequest?(): void;
  cleanup(): Promise<void>;
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export function embedderContract(name: string, open: () => Promise<EmbedderHarness>): void {
  describe(`Embedder contract: ${name}`, () => {
    let harness: EmbedderHarness;
    let embedder: ManagedEmbedder;
    beforeAll(async () => {
      harness = await open();
      embedder = new ManagedEmbedder(harness.embedder, { retry: { maxRetries: 2, minDelayMs: 5 }, concurrency: 2, logger: silentLogger });
    });
    afterAll(async () => harness?.cleanup());

    it("names its provider, model and dimension in its id", () => {
      expect(harness.embedder.id).toMatch(/^[a-z0-9-]+:[^:]+:\d+$/);
      expect(harness.embedder.id.endsWith(`:${harness.embedder.dimension}`)).toBe(true);
      expect(harness.embedder.maxBatchSize).toBeGreaterThan(0);
    });

    it("rejects a call whose signal is already aborted with AbortedError", async () => {
      const signal = AbortSignal.abort(new Error("lease lost"));
      await expect(harness.embedder.embedDocuments(["never sent"], { signal })).rejects.toBeInstanceOf(AbortedError);
      await expect(harness.embedder.embedQuery("never sent", { signal })).rejects.toBeInstanceOf(AbortedError);
      await expect(embedder.embedDocuments(["never sent"], { signal })).rejects.toBeInstanceOf(AbortedError);
    });

    it("rejects a call aborted in flight with AbortedError at once", async (context) => {
      if (!harness.hangNextRequest) return context.skip("this embedder answers in process; nothing stays in flight");
      const controller = new AbortController();
      harness.hangNextRequest();
      const started = performance.now();
      const embedding = embedder.embedDocuments(["left hanging"], { signal: controller.signal });
      setTimeout(() => controller.abort(new Error("lease lost")), 100);
      await expect(embedding).rejects.toBeInstanceOf(AbortedError);
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it("returns one vector of its dimension per text, in input order", async () => {
      const texts = ["alpha beta", "数据库 向量", "emoji 😀 text", "alpha beta", "a completely different sentence about gardens"];
      const vectors = await embedder.embedDocuments(texts);
      expect(vectors).toHaveLength(texts.length);
      for (const vector of vectors) expect(vector).toHaveLength(harness.embedder.dimension);
      expect(cosine(vectors[0]!, vectors[3]!)).toBeGreaterThan(0.99);
      expect(cosine(vectors[0]!, vectors[4]!)).toBeLessThan(0.95);
    });

    it("embeds a query into the same space", async () => {
      const [doc] = await embedder.embedDocuments(["streaming replication in PostgreSQL"]);
      const query = await embedder.embedQuery("streaming replication in PostgreSQL");
      expect(query).toHaveLength(harness.embedder.dimension);
      expect(cosine(query, doc!)).toBeGreaterThan(0.8);
    });

    it("ranks a related document above unrelated ones", async () => {
      const documents = [
        "Baking sourdough bread needs a lively starter and a long, cool proof.",
        "PostgreSQL streaming replication ships WAL records from the primary to standby servers.",
        "Tropical aquarium fish need warm water, filtration and a varied diet.",
      ];
      const vectors = await embedder.embedDocuments(documents);
      const query = await embedder.embedQuery("How does postgres WAL replication to a standby work?");
      const scores = vectors.map((vector) => cosine(query, vector));
      expect(scores.indexOf(Math.max(...scores))).toBe(1);
    });

    it("splits a batch larger than maxBatchSize into requests within it", async () => {
      const size = Math.min(harness.embedder.maxBatchSize, 100);
      const limited = new ManagedEmbedder(
        { ...harness.embedder, id: harness.embedder.id, dimension: harness.embedder.dimension, maxBatchSize: size,
          embedDocuments: (t, o) => harness.embedder.embedDocuments(t, o), embedQuery: (t, o) => harness.embedder.embedQuery(t, o) },
        { retry: { maxRetries: 0 }, concurrency: 3, logger: silentLogger },
      );
      const texts = Array.from({ length: size * 2 + 1 }, (_, i) => `text number ${i}`);
      const vectors = await limited.embedDocuments(texts);
      expect(vectors).toHaveLength(texts.length);
      expect(limited.stats.requests).toBe(3);
    });

    it("gives text of symbols only a real (non-zero) vector", async () => {
      const [vector] = await embedder.embedDocuments(["!!! ??? ..."]);
      expect(vector!.some((value) => value !== 0)).toBe(true);
    });
  });
}
