// The contract every Reranker must meet, run against each one by adding a line to rerankers.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { ManagedReranker } from "../../src/rerankers/managed-reranker.js";
import { AbortedError, type Reranker } from "../../src/index.js";

export interface RerankerHarness {
  readonly reranker: Reranker;
  /** Leaves the next request unanswered (providers behind a protocol server), to abort it in flight. */
  hangNextRequest?(): void;
  cleanup(): Promise<void>;
}

const documents = [
  "Baking sourdough bread needs a lively starter and a long, cool proof.",
  "PostgreSQL streaming replication ships WAL records from the primary to standby servers.",
  "Tropical aquarium fish need warm water, filtration and a varied diet.",
  "The standby server replays WAL.",
];
const query = "How does PostgreSQL streaming replication ship WAL to a standby?";

export function rerankerContract(name: string, open: () => Promise<RerankerHarness>): void {
  describe(`Reranker contract: ${name}`, () => {
    let harness: RerankerHarness;
    let reranker: ManagedReranker;
    beforeAll(async () => {
      harness = await open();
      reranker = new ManagedReranker(harness.reranker, { retry: { maxRetries: 2, minDelayMs: 5 }, logger: silentLogger });
    });
    afterAll(async () => harness?.cleanup());

    it("names itself with a non-empty id and accepts at least a hundred texts a call", () => {
      expect(harness.reranker.id).toMatch(/^[a-z0-9-]+(:[^:]+)?$/);
      expect(harness.reranker.maxTexts).toBeGreaterThanOrEqual(100);
    });

    it("ranks the text that answers the query first, and unrelated texts last", async () => {
      const results = await harness.reranker.rerank(query, documents);
      expect(results[0]!.index).toBe(1);
      expect(results.slice(-2).map((result) => result.index).sort()).toEqual([0, 2]);
    });

    it("returns each text's index once, best first, with finite scores", async () => {
      const results = await harness.reranker.rerank(query, documents);
      expect(results.map((result) => result.index).sort()).toEqual([0, 1, 2, 3]);
      for (let i = 1; i < results.length; i++) expect(results[i - 1]!.score).toBeGreaterThanOrEqual(results[i]!.score);
      expect(results.every((result) => Number.isFinite(result.score))).toBe(true);
    });

    it("returns only the best topN when asked", async () => {
      const all = await harness.reranker.rerank(query, documents);
      const top = await harness.reranker.rerank(query, documents, { topN: 2 });
      expect(top).toEqual(all.slice(0, 2));
    });

    it("scores a text the same wherever it stands in the list", async () => {
      const forward = await harness.reranker.rerank(query, documents);
      const reversed = await harness.reranker.rerank(query, [...documents].reverse());
      const scoreOf = (results: typeof forward, index: number) => results.find((result) => result.index === index)!.score;
      for (let i = 0; i < documents.length; i++) expect(scoreOf(reversed, documents.length - 1 - i)).toBeCloseTo(scoreOf(forward, i), 6);
    });

    it("rejects a call whose signal is already aborted with AbortedError", async () => {
      const signal = AbortSignal.abort(new Error("search cancelled"));
      await expect(harness.reranker.rerank(query, documents, { signal })).rejects.toBeInstanceOf(AbortedError);
      await expect(reranker.rerank(query, documents, { signal })).rejects.toBeInstanceOf(AbortedError);
    });

    it("rejects a call aborted in flight with AbortedError at once", async (context) => {
      if (!harness.hangNextRequest) return context.skip("this reranker answers in process; nothing stays in flight");
      const controller = new AbortController();
      harness.hangNextRequest();
      const started = performance.now();
      const reranking = reranker.rerank(query, documents, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error("search cancelled")), 100);
      await expect(reranking).rejects.toBeInstanceOf(AbortedError);
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it("makes no request for no texts", async () => {
      let requests = 0;
      const counted = new ManagedReranker(
        { id: harness.reranker.id, maxTexts: harness.reranker.maxTexts, rerank: (...args) => (requests++, harness.reranker.rerank(...args)) },
        { retry: { maxRetries: 0 }, logger: silentLogger },
      );
      expect(await counted.rerank(query, [])).toEqual([]);
      expect(requests).toBe(0);
    });
  });
}
