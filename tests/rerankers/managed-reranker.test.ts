// What every reranker gets from dualstore: answers checked, retries by the one policy, and a
// span and metrics that carry ids and counts, never the query or the texts.
import { beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { loadTelemetry } from "../../src/core/telemetry.js";
import { ManagedReranker } from "../../src/rerankers/managed-reranker.js";
import { FunctionReranker, ProviderError, type Reranker, type RerankResult } from "../../src/index.js";
import { rejectsWith } from "../helpers/errors.js";
import { reader, spans } from "../helpers/telemetry.js";

beforeAll(() => loadTelemetry());

const texts = ["alpha", "beta", "gamma"];
const managed = (reranker: Reranker) => new ManagedReranker(reranker, { retry: { maxRetries: 2, minDelayMs: 1, maxDelayMs: 2 }, logger: silentLogger });
/** A provider answering `results` whatever it is asked. */
const answering = (results: unknown): Reranker => ({ id: "fixed", maxTexts: 100, rerank: async () => results as RerankResult[] });

describe("ManagedReranker", () => {
  it("refuses answers that would put the wrong chunk in front: an index out of range or twice, a non-finite score, more than topN", async () => {
    const bad: Array<[unknown, RegExp, number?]> = [
      [[{ index: 3, score: 1 }], /outside the 3 texts/],
      [[{ index: -1, score: 1 }], /outside/],
      [[{ index: 1.5, score: 1 }], /outside/],
      [[{ index: 0, score: 1 }, { index: 0, score: 0.5 }], /index 0 twice/],
      [[{ index: 0, score: Number.NaN }], /non-finite/],
      [undefined, /no results/],
      [[{ index: 0, score: 1 }, { index: 1, score: 1 }], /at most 1/, 1],
    ];
    for (const [results, message, topN] of bad) {
      const error = await rejectsWith(managed(answering(results)).rerank("q", texts, { topN }), ProviderError);
      expect(error).toMatchObject({ retryable: false, message: expect.stringMatching(message) });
    }
  });

  it("orders a valid answer best first, and sends at most maxTexts texts", async () => {
    const seen: number[] = [];
    const reranker: Reranker = {
      id: "small",
      maxTexts: 2,
      rerank: async (_query, given) => {
        seen.push(given.length);
        return [{ index: 0, score: 0.1 }, { index: 1, score: 0.9 }];
      },
    };
    expect(await managed(reranker).rerank("q", texts)).toEqual([{ index: 1, score: 0.9 }, { index: 0, score: 0.1 }]);
    expect(seen).toEqual([2]);
  });

  it("retries a function's retryable ProviderError, and not its other errors", async () => {
    let calls = 0;
    const flaky = managed(
      new FunctionReranker(() => {
        calls++;
        if (calls === 1) throw new ProviderError("my-model", "busy", { status: 503, retryable: true });
        return [0.2, 0.9, 0.1];
      }),
    );
    expect((await flaky.rerank("q", texts)).map((result) => result.index)).toEqual([1, 0, 2]);
    expect(calls).toBe(2);

    calls = 0;
    const broken = managed(
      new FunctionReranker(() => {
        calls++;
        throw new TypeError("model file missing");
      }, { id: "local-cross-encoder" }),
    );
    const error = await rejectsWith(broken.rerank("q", texts), ProviderError);
    expect(error).toMatchObject({ provider: "local-cross-encoder", retryable: false, message: expect.stringContaining("model file missing") });
    expect(calls).toBe(1);
    await expect(managed(new FunctionReranker(() => [1])).rerank("q", texts)).rejects.toThrow(/returned 1 scores for 3 texts/);
  });

  it("records a span, a duration and a request count per call, with the reranker's id and counts only", async () => {
    spans.reset();
    await managed(new FunctionReranker(({ texts: given }) => given.map((_, i) => i), { id: "telemetry-test" })).rerank("secret query words", ["hidden text one", "hidden text two"]);
    const [span] = spans.getFinishedSpans().filter((finished) => finished.name === "dualstore.rerank");
    expect(span!.attributes).toMatchObject({ "dualstore.reranker": "telemetry-test", "dualstore.texts": 2, "dualstore.attempts": 1 });
    const { resourceMetrics } = await reader.collect();
    const recorded = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    const requests = recorded.find((metric) => metric.descriptor.name === "dualstore.reranker.requests")!;
    expect(requests.dataPoints.find((point) => point.attributes.reranker === "telemetry-test")!.value).toBe(1);
    expect(recorded.map((metric) => metric.descriptor.name)).toContain("dualstore.reranker.duration");
    const exported = JSON.stringify([span!.attributes, recorded.map((metric) => metric.dataPoints.map((point) => point.attributes))]);
    expect(exported).not.toMatch(/secret|hidden/);
  });
});
