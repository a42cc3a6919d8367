// Cohere's reranker through the real SDK against the local protocol server, made to misbehave:
// what is retried (by the one retry policy), what is not, and what an error may carry.
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createCohereReranker } from "../../src/rerankers/cohere/cohere-reranker.js";
import { createReranker } from "../../src/rerankers/create-reranker.js";
import { ManagedReranker } from "../../src/rerankers/managed-reranker.js";
import { ConfigurationError, createDualstore, ProviderError } from "../../src/index.js";
import { rejectsWith } from "../helpers/errors.js";
import { startCohereServer, type CohereServer } from "../servers/cohere-server.js";

const SECRET = "co-rerank-secret-key-0123456789";
const documents = ["WAL ships to the standby.", "Sourdough needs a starter.", "Standby servers replay WAL from the primary."];
let server: CohereServer;
let reranker: ManagedReranker;

beforeAll(async () => {
  server = await startCohereServer({ apiKey: SECRET });
  const cohere = await createCohereReranker({ provider: "cohere", apiKey: SECRET, baseUrl: server.url, timeoutMs: 300 }, {});
  reranker = new ManagedReranker(cohere, { retry: { maxRetries: 2, minDelayMs: 5, maxDelayMs: 20 }, logger: silentLogger });
});
beforeEach(() => {
  server.faults.clear();
  server.requests.length = 0;
});
afterAll(async () => server?.close());

const statuses = () => server.requests.map((request) => request.status);
const rerankOnce = (signal?: AbortSignal) => reranker.rerank("wal standby primary", documents, { topN: 2, signal });

describe("Cohere reranker faults", () => {
  it("sends Cohere's v2 rerank request: model, query, documents and top_n", async () => {
    expect(await rerankOnce()).toEqual([
      { index: 2, score: 1 },
      { index: 0, score: 2 / 3 },
    ]);
    expect(server.requests[0]).toMatchObject({ path: "/v2/rerank", body: { model: "rerank-v3.5", query: "wal standby primary", documents, top_n: 2 } });
  });

  it("waits out a 429's Retry-After and retries", async () => {
    server.faults.next("429", { retryAfterSeconds: 1 });
    const started = performance.now();
    expect(await rerankOnce()).toHaveLength(2);
    expect(statuses()).toEqual([429, 200]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("retries server errors, a dropped connection and a timed-out request", async () => {
    server.faults.next("503");
    server.faults.next("500");
    expect(await rerankOnce()).toHaveLength(2);
    expect(statuses()).toEqual([503, 500, 200]);
    server.requests.length = 0;
    server.faults.next("drop");
    server.faults.next("timeout");
    expect(await rerankOnce()).toHaveLength(2);
    expect(statuses()).toEqual(["drop", "timeout", 200]);
  });

  it("gives up after maxRetries with a retryable ProviderError carrying the status and Cohere's request id", async () => {
    server.faults.next("503", { times: 3 });
    const error = await rejectsWith(rerankOnce(), ProviderError);
    expect(error).toMatchObject({ provider: "cohere", status: 503, retryable: true, code: "PROVIDER" });
    expect(error.requestId).toEqual(expect.any(String));
    expect(statuses()).toEqual([503, 503, 503]);
  });

  it("does not retry a request Cohere refuses (unknown model)", async () => {
    const cohere = await createCohereReranker({ provider: "cohere", apiKey: SECRET, baseUrl: server.url, model: "rerank-v0" }, {});
    const wrongModel = new ManagedReranker(cohere, { retry: { maxRetries: 2, minDelayMs: 5 }, logger: silentLogger });
    const error = await rejectsWith(wrongModel.rerank("q", documents), ProviderError);
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(statuses()).toEqual([404]);
  });

  it("reports a malformed answer as a non-retryable ProviderError, not as no relevant text", async () => {
    server.faults.next("malformed");
    const error = await rejectsWith(rerankOnce(), ProviderError);
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining("no results") });
    expect(statuses()).toEqual([200]);
  });

  it("never lets the API key into an error, its causes or its inspection", async () => {
    const cohere = await createCohereReranker({ provider: "cohere", apiKey: `${SECRET}-wrong`, baseUrl: server.url }, {});
    const unauthorized = new ManagedReranker(cohere, { retry: { maxRetries: 0 }, logger: silentLogger });
    const error = await rejectsWith(unauthorized.rerank("q", documents), ProviderError);
    expect(error.status).toBe(401);
    const shown = [error.message, error.stack, JSON.stringify(error), inspect(error, { depth: 10 }), inspect(cohere, { depth: 10 })].join("\n");
    expect(shown).not.toContain(SECRET);
  });
});

describe("Cohere reranker configuration", () => {
  it("refuses a missing API key, an unknown option and an unknown provider, naming the option", async () => {
    await expect(createReranker({ provider: "cohere" }, {})).rejects.toMatchObject({ option: "search.reranker.apiKey" });
    await expect(createReranker({ provider: "cohere", apiKey: SECRET, modle: "x" } as never, {})).rejects.toMatchObject({
      option: "search.reranker.modle",
      message: expect.stringContaining("model"),
    });
    await expect(createReranker({ provider: "jina" } as never, {})).rejects.toMatchObject({ option: "search.reranker.provider" });
  });

  it("takes the key and base URL from COHERE_API_KEY and COHERE_BASE_URL", async () => {
    const fromEnv = await createReranker({ provider: "cohere" }, { COHERE_API_KEY: SECRET, COHERE_BASE_URL: server.url });
    expect((await fromEnv.rerank("wal", documents))[0]!.index).toBe(0);
  });

  it("fails createDualstore before opening the database when the reranker or search settings are bad", async () => {
    const missing = await rejectsWith(createDualstore({ database: { url: "postgresql://nobody@127.0.0.1:1/none" }, search: { reranker: { provider: "cohere" } }, env: {} }), ConfigurationError);
    expect(missing.option).toBe("search.reranker.apiKey");
    const candidates = await rejectsWith(createDualstore({ database: { url: "postgresql://nobody@127.0.0.1:1/none" }, search: { candidates: 0 }, env: {} }), ConfigurationError);
    expect(candidates.option).toBe("search.candidates");
  });
});
