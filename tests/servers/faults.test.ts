import { Errors, Pinecone } from "@pinecone-database/pinecone";
import { CohereClientV2, CohereError, CohereTimeoutError } from "cohere-ai";
import OpenAI, { type APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startCohereServer, type CohereServer } from "./cohere-server.js";
import { startOpenAIServer, type OpenAIServer } from "./openai-server.js";
import { startPineconeServer, type PineconeServer } from "./pinecone-server.js";
import { rejection, testVector } from "./test-helpers.js";

let openaiServer: OpenAIServer;
let pineconeServer: PineconeServer;
let cohereServer: CohereServer;

const openaiClient = (options: { maxRetries?: number; timeout?: number } = {}): OpenAI =>
  new OpenAI({ apiKey: openaiServer.apiKey, baseURL: `${openaiServer.url}/v1`, maxRetries: 0, ...options });
const embedOnce = (client: OpenAI = openaiClient()) =>
  client.embeddings.create({ model: "text-embedding-3-small", input: "fault injection" });

beforeAll(async () => {
  [openaiServer, pineconeServer, cohereServer] = await Promise.all([
    startOpenAIServer(),
    startPineconeServer({ apiKey: "faults-key", indexes: [{ name: "faulty", dimension: 4 }] }),
    startCohereServer(),
  ]);
});

beforeEach(() => {
  for (const server of [openaiServer, pineconeServer, cohereServer]) {
    server.faults.clear();
    server.requests.length = 0;
  }
});

afterAll(async () => {
  await Promise.all([openaiServer.close(), pineconeServer.close(), cohereServer.close()]);
});

describe("injected HTTP errors", () => {
  it("answers 429 with a Retry-After header and the service's error body", async () => {
    openaiServer.faults.next("429", { retryAfterSeconds: 7 });
    const error = await rejection(embedOnce());
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimited = error as APIError;
    expect(rateLimited.status).toBe(429);
    expect(rateLimited.headers?.get("retry-after")).toBe("7");
    expect(rateLimited.code).toBe("rate_limit_exceeded");

    cohereServer.faults.next("429", { retryAfterSeconds: 3 });
    const cohere = new CohereClientV2({ token: cohereServer.apiKey, environment: cohereServer.url, maxRetries: 0 });
    const cohereError = await rejection(cohere.embed({ model: "embed-english-v3.0", texts: ["x"], inputType: "search_query", embeddingTypes: ["float"] }));
    expect((cohereError as CohereError).statusCode).toBe(429);
    expect((cohereError as CohereError).rawResponse?.headers.get("retry-after")).toBe("3");
    expect((cohereError as CohereError).body).toMatchObject({ message: expect.any(String) });
  });

  it("lets the OpenAI SDK retry a 429 after the Retry-After delay", async () => {
    openaiServer.faults.next("429", { retryAfterSeconds: 0 });
    const response = await embedOnce(openaiClient({ maxRetries: 2 }));
    expect(response.data).toHaveLength(1);
    expect(openaiServer.requests.map((request) => request.status)).toEqual([429, 200]);
  });

  it("answers 500 and 503 in each service's format", async () => {
    openaiServer.faults.next("500");
    const serverError = await rejection(embedOnce());
    expect(serverError).toBeInstanceOf(OpenAI.InternalServerError);
    expect((serverError as APIError).type).toBe("server_error");

    cohereServer.faults.next("503");
    const cohere = new CohereClientV2({ token: cohereServer.apiKey, environment: cohereServer.url, maxRetries: 0 });
    const unavailable = await rejection(cohere.embed({ model: "embed-english-v3.0", texts: ["x"], inputType: "search_query", embeddingTypes: ["float"] }));
    expect((unavailable as CohereError).statusCode).toBe(503);

    pineconeServer.faults.next("503");
    const pc = new Pinecone({ apiKey: pineconeServer.apiKey, controllerHostUrl: pineconeServer.url, maxRetries: 0 });
    const pineconeError = await rejection(pc.listIndexes());
    // The SDK's retry wrapper turns any final 5xx into this error, even with maxRetries: 0.
    expect(pineconeError).toBeInstanceOf(Errors.PineconeMaxRetriesExceededError);
    expect(pineconeServer.requests.at(-1)).toMatchObject({ status: 503, fault: "503" });
  });

  it("lets the Pinecone SDK retry a 5xx by default", async () => {
    pineconeServer.faults.next("500", { match: "/describe_index_stats" });
    const pc = new Pinecone({ apiKey: pineconeServer.apiKey, controllerHostUrl: pineconeServer.url });
    const stats = await pc.index({ host: pineconeServer.indexHost("faulty") }).describeIndexStats();
    expect(stats.dimension).toBe(4);
    expect(pineconeServer.requests.map((request) => request.status)).toEqual([500, 200]);
  });

  it("applies a fault only to matching requests, as many times as asked", async () => {
    openaiServer.faults.next("500", { match: "/nowhere" });
    await embedOnce();
    openaiServer.faults.next("503", { times: 2, match: (request) => request.method === "POST" });
    await rejection(embedOnce());
    await rejection(embedOnce());
    await embedOnce();
    expect(openaiServer.requests.map((request) => request.status)).toEqual([200, 503, 503, 200]);
  });
});

describe("unanswered requests", () => {
  it("never answers a timed-out request until the client gives up", async () => {
    openaiServer.faults.next("timeout");
    const started = Date.now();
    const error = await rejection(embedOnce(openaiClient({ timeout: 300 })));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(openaiServer.requests.at(-1)?.status).toBe("timeout");

    cohereServer.faults.next("timeout");
    const cohere = new CohereClientV2({ token: cohereServer.apiKey, environment: cohereServer.url, maxRetries: 0, timeoutInSeconds: 0.2 });
    const cohereError = await rejection(cohere.embed({ model: "embed-english-v3.0", texts: ["x"], inputType: "search_query", embeddingTypes: ["float"] }));
    // cohere-ai@8 aborts with the string "timeout", so Node's fetch rejects with a non-Error
    // and the SDK reports a plain CohereError, not its CohereTimeoutError.
    expect(cohereError).toBeInstanceOf(CohereError);
    expect(cohereError).not.toBeInstanceOf(CohereTimeoutError);
    expect(cohereError).toMatchObject({ statusCode: undefined, cause: "timeout" });
    expect(cohereServer.requests.at(-1)?.status).toBe("timeout");

    // The Pinecone SDK has no timeout of its own; a fetchApi with a signal provides one.
    pineconeServer.faults.next("timeout");
    const pc = new Pinecone({
      apiKey: pineconeServer.apiKey,
      controllerHostUrl: pineconeServer.url,
      maxRetries: 0,
      fetchApi: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(200) }),
    });
    const pineconeError = await rejection(pc.listIndexes());
    expect(pineconeError).toBeInstanceOf(Errors.PineconeConnectionError);
  });

  it("drops the connection without a response", async () => {
    openaiServer.faults.next("drop");
    const error = await rejection(embedOnce());
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(openaiServer.requests.at(-1)?.status).toBe("drop");

    pineconeServer.faults.next("drop");
    const pc = new Pinecone({ apiKey: pineconeServer.apiKey, controllerHostUrl: pineconeServer.url, maxRetries: 0 });
    expect(await rejection(pc.listIndexes())).toBeInstanceOf(Errors.PineconeConnectionError);
  });

  it("closes hung connections on close() so the process can exit", async () => {
    const server = await startOpenAIServer();
    server.faults.next("timeout");
    const client = new OpenAI({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 60_000 });
    const pending = rejection(client.embeddings.create({ model: "text-embedding-3-small", input: "hang" }));
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

describe("stalled requests", () => {
  const stalledIndex = () =>
    new Pinecone({ apiKey: pineconeServer.apiKey, controllerHostUrl: pineconeServer.url, maxRetries: 0 }).index({
      host: pineconeServer.indexHost("faulty"),
      namespace: "stalled",
    });

  it("answers a stalled request once the stall is over", async () => {
    pineconeServer.faults.next("stall", { match: "/vectors/upsert", stallMs: 300 });
    const started = performance.now();
    await stalledIndex().upsert({ records: [{ id: "s1", values: testVector(4, 1) }] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(pineconeServer.requests.at(-1)).toMatchObject({ fault: "stall", status: 200 });
  });

  it("still applies a stalled write after its client gave up, when the stall ends", async () => {
    pineconeServer.faults.next("stall", { match: "/vectors/upsert", stallMs: 400 });
    const index = new Pinecone({
      apiKey: pineconeServer.apiKey,
      controllerHostUrl: pineconeServer.url,
      maxRetries: 0,
      fetchApi: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(100) }),
    }).index({ host: pineconeServer.indexHost("faulty"), namespace: "stalled-late" });
    expect(await rejection(index.upsert({ records: [{ id: "late", values: testVector(4, 2) }] }))).toBeInstanceOf(Errors.PineconeConnectionError);
    const stalled = pineconeServer.requests.at(-1)!;
    expect(stalled.status).toBeUndefined();
    expect(pineconeServer.storedVectors("faulty", "stalled-late")).toEqual([]);
    while (stalled.status === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pineconeServer.storedVectors("faulty", "stalled-late").map((vector) => vector.id)).toEqual(["late"]);
  });
});

describe("partial batch failures", () => {
  it("writes the first half of an upsert batch, then answers 500", async () => {
    const index = new Pinecone({ apiKey: pineconeServer.apiKey, controllerHostUrl: pineconeServer.url, maxRetries: 0 }).index({
      host: pineconeServer.indexHost("faulty"),
      namespace: "partial",
    });
    pineconeServer.faults.next("partial", { match: "/vectors/upsert" });
    const records = Array.from({ length: 10 }, (_, i) => ({ id: `p${i}`, values: testVector(4, i) }));
    expect(await rejection(index.upsert({ records }))).toBeInstanceOf(Errors.PineconeMaxRetriesExceededError);
    expect(pineconeServer.requests.at(-1)?.status).toBe(500);
    expect(pineconeServer.storedVectors("faulty", "partial").map((vector) => vector.id)).toEqual(["p0", "p1", "p2", "p3", "p4"]);

    pineconeServer.faults.next("partial");
    await rejection(index.deleteMany({ ids: ["p0", "p1", "p2", "p3"] }));
    expect(pineconeServer.storedVectors("faulty", "partial").map((vector) => vector.id)).toEqual(["p2", "p3", "p4"]);

    // Endpoints without batch semantics fail whole.
    pineconeServer.faults.next("partial");
    await rejection(index.query({ vector: testVector(4, 1), topK: 1 }));
    expect(pineconeServer.requests.at(-1)?.status).toBe(500);
  });

  it("fails an embeddings request whole", async () => {
    openaiServer.faults.next("partial");
    expect(await rejection(embedOnce())).toBeInstanceOf(OpenAI.InternalServerError);
  });
});

describe("malformed bodies", () => {
  it("answers 200 with a body that is not the endpoint's format, and applies nothing", async () => {
    openaiServer.faults.next("malformed");
    const response = await embedOnce();
    expect(response.data).toBeUndefined();
    expect(openaiServer.requests.at(-1)).toMatchObject({ status: 200, fault: "malformed" });
    expect((await embedOnce()).data).toHaveLength(1);
  });
});

describe("random failure rate", () => {
  async function failurePattern(seed: number): Promise<string[]> {
    const server = await startOpenAIServer();
    try {
      server.faults.setRandomFailureRate(0.4, seed);
      const client = new OpenAI({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
      for (let i = 0; i < 25; i += 1) {
        await client.embeddings.create({ model: "text-embedding-3-small", input: `request ${i}` }).catch(() => undefined);
      }
      return server.requests.map((request) => String(request.status));
    } finally {
      await server.close();
    }
  }

  it("fails the same requests, the same way, for the same seed", async () => {
    const first = await failurePattern(42);
    const second = await failurePattern(42);
    expect(second).toEqual(first);
    expect(first).toContain("200");
    expect(first.some((status) => status !== "200")).toBe(true);
    expect(new Set(first.filter((status) => status !== "200"))).toSatisfy((kinds: Set<string>) =>
      [...kinds].every((kind) => ["500", "429", "drop"].includes(kind)),
    );
    expect(await failurePattern(7)).not.toEqual(first);
  });

  it("stops failing after clear()", async () => {
    openaiServer.faults.setRandomFailureRate(1, 1, ["503"]);
    await rejection(embedOnce());
    openaiServer.faults.clear();
    await embedOnce();
    expect(openaiServer.requests.map((request) => request.status)).toEqual([503, 200]);
  });
});
