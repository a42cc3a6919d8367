// PineconeVectorStore through the real @pinecone-database/pinecone SDK against the local
// protocol server: index creation and checks, the shared retry policy on every kind of
// failure, request limits, configuration errors, and that the API key never leaks.
import { executionAsyncId } from "node:async_hooks";
import { inspect } from "node:util";
import { Pinecone } from "@pinecone-database/pinecone";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { ConfigurationError, DimensionMismatchError, ProviderError, type VectorRecord } from "../../src/index.js";
import { ManagedVectorStore } from "../../src/vector-stores/managed-vector-store.js";
import type { PineconeVectorStoreConfig } from "../../src/vector-stores/pinecone/pinecone-config.js";
import { createPineconeVectorStore } from "../../src/vector-stores/pinecone/pinecone-vector-store.js";
import { rejectsWith } from "../helpers/errors.js";
import type { FaultKind } from "../servers/faults.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

const DIMENSION = 8;
const API_KEY = "dualstore-test-secret-4f7a9c2e";
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

let server: PineconeServer;
let namespaceCounter = 0;
const freshNamespace = () => `providers-${++namespaceCounter}`;

beforeAll(async () => {
  server = await startPineconeServer({
    apiKey: API_KEY,
    indexes: [
      { name: "docs", dimension: DIMENSION },
      { name: "wide", dimension: 1536 },
      { name: "dots", dimension: DIMENSION, metric: "dotproduct" },
    ],
  });
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.faults.clear();
  server.requests.length = 0;
});

/** The store as dualstore uses it, with a fast retry policy. */
async function openStore(config: PineconeVectorStoreConfig = {}, dimension = DIMENSION): Promise<ManagedVectorStore> {
  const inner = await createPineconeVectorStore(
    { apiKey: API_KEY, index: "docs", controllerHostUrl: server.url, ...config },
    { env: {}, logger: silentLogger },
  );
  return new ManagedVectorStore(inner, dimension, { retry: { maxRetries: 3, minDelayMs: 10 }, concurrency: 4, logger: silentLogger });
}

function vector(seed: number, dimension = DIMENSION): number[] {
  return Array.from({ length: dimension }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5 + 0.6);
}

function records(count: number, prefix = "r#"): VectorRecord[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, values: vector(i), metadata: { i } }));
}

const requestsTo = (pathEnd: string) => server.requests.filter((request) => request.path.endsWith(pathEnd));
const storedIds = (namespace: string, index = "docs") => server.storedVectors(index, namespace).map((stored) => stored.id);

describe("Pinecone index setup", () => {
  it("creates a missing index with the embedder's dimension and the cosine metric when createIfMissing is set", async () => {
    const store = await openStore({ index: "created-on-init", createIfMissing: { cloud: "aws", region: "eu-west-1" } }, 12);
    await store.ready();

    const sdk = new Pinecone({ apiKey: API_KEY, controllerHostUrl: server.url, maxRetries: 0 });
    const model = await sdk.describeIndex("created-on-init");
    expect(model.dimension).toBe(12);
    expect(model.metric).toBe("cosine");
    expect(model.status.ready).toBe(true);
    expect(requestsTo("/indexes").filter((request) => request.method === "POST")).toHaveLength(1);

    const ns = freshNamespace();
    await store.upsert([{ id: "a", values: vector(1, 12), metadata: {} }], ns);
    expect(storedIds(ns, "created-on-init")).toEqual(["a"]);
  });

  it("uses an existing index as it is, creating nothing", async () => {
    const store = await openStore({ createIfMissing: { cloud: "aws", region: "us-east-1" } });
    await store.ready();
    expect(requestsTo("/indexes").filter((request) => request.method === "POST")).toHaveLength(0);
  });

  it("refuses an index of another dimension with DimensionMismatchError", async () => {
    const store = await openStore({}, 12);
    const error = await rejectsWith(store.ready(), DimensionMismatchError);
    expect(error).toMatchObject({ expected: DIMENSION, actual: 12 });
  });

  it("refuses a host-only index of another dimension with DimensionMismatchError, from its stats", async () => {
    const store = await openStore({ index: undefined, host: server.indexHost("docs") }, 12);
    await rejectsWith(store.ready(), DimensionMismatchError);
    expect(requestsTo("/describe_index_stats")).toHaveLength(1);
  });

  it("refuses an index whose metric is not cosine with a ConfigurationError", async () => {
    const store = await openStore({ index: "dots" });
    const error = await rejectsWith(store.ready(), ConfigurationError);
    expect(error.message).toContain("dotproduct");
  });

  it("says how to create a missing index when createIfMissing is not set", async () => {
    const store = await openStore({ index: "nowhere" });
    const error = await rejectsWith(store.ready(), ConfigurationError);
    expect(error.message).toMatch(/"nowhere" does not exist/);
    expect(error.message).toContain("createIfMissing");
    expect(error.message).toContain(`dimension ${DIMENSION}`);
  });
});

describe("Pinecone namespaces, hosts and filters", () => {
  it("works with only a host, never calling the control plane", async () => {
    const store = await openStore({ index: undefined, host: server.indexHost("docs") });
    const ns = freshNamespace();
    await store.upsert(records(2), ns);
    expect((await store.fetch(["r#0", "r#1"], ns)).map((record) => record.id)).toEqual(["r#0", "r#1"]);
    expect(server.requests.filter((request) => request.path.startsWith("/indexes"))).toEqual([]);
  });

  it("prefixes every namespace on the wire and strips the prefix when listing and counting", async () => {
    const store = await openStore({ namespacePrefix: "app1-" });
    await store.upsert(records(2), "tenant-a");
    await store.upsert(records(1), "");
    const other = await openStore();
    await other.upsert(records(1), "");

    expect(storedIds("app1-tenant-a")).toEqual(["r#0", "r#1"]);
    expect((await store.listNamespaces()).sort()).toEqual(["", "tenant-a"]);
    expect((await store.describe()).count).toBe(3);
    expect(await other.listNamespaces()).toContain("");
    expect(await other.listNamespaces()).toContain("app1-tenant-a");
  });

  it("sends upserts and deletes, which bypass the SDK, with the API key and API version of the SDK's own requests", async () => {
    const store = await openStore();
    const ns = freshNamespace();
    await store.upsert(records(3), ns);
    await store.query({ vector: vector(0), topK: 1, namespace: ns });
    await store.delete(["r#1"], ns);

    const [query] = requestsTo("/query");
    for (const request of [...requestsTo("/vectors/upsert"), ...requestsTo("/vectors/delete")]) {
      expect(request.headers["x-pinecone-api-version"]).toBe(query!.headers["x-pinecone-api-version"]);
      expect(request.headers["api-key"]).toBe(API_KEY);
      expect(request.headers["content-type"]).toBe("application/json");
    }
    expect(requestsTo("/vectors/delete")[0]!.body).toEqual({ ids: ["r#1"], namespace: ns });
    expect(storedIds(ns)).toEqual(["r#0", "r#2"]);
  });

  it("filters a set holding a boolean with an $or of $eq, since Pinecone's $in takes strings and numbers", async () => {
    const store = await openStore();
    const ns = freshNamespace();
    await store.upsert(
      [true, false].map((published, i) => ({ id: `b#${i}`, values: vector(i), metadata: { published } })),
      ns,
    );
    const matches = await store.query({ vector: vector(0), topK: 5, namespace: ns, filter: { field: "published", in: [true] } });
    expect(matches.map((match) => match.id)).toEqual(["b#0"]);
    expect(requestsTo("/query").at(-1)?.body).toMatchObject({ filter: { $or: [{ published: { $eq: true } }] } });
  });
});

describe("Pinecone failures under the shared retry policy", () => {
  it("waits for Retry-After before retrying a 429", async () => {
    const store = await openStore();
    await store.ready();
    const ns = freshNamespace();
    server.faults.next("429", { match: "/vectors/upsert", retryAfterSeconds: 1 });

    await store.upsert(records(3), ns);

    const attempts = requestsTo("/vectors/upsert");
    expect(attempts.map((request) => request.status)).toEqual([429, 200]);
    expect(attempts[1]!.timestamp - attempts[0]!.timestamp).toBeGreaterThanOrEqual(950);
    expect(storedIds(ns)).toHaveLength(3);
  });

  it.each<[string, FaultKind]>([
    ["a 500", "500"],
    ["a 503", "503"],
    ["a timeout", "timeout"],
    ["a dropped connection", "drop"],
  ])("retries an upsert after %s and succeeds", async (_name, fault) => {
    const store = await openStore({ requestTimeoutMs: 300 });
    await store.ready();
    const ns = freshNamespace();
    server.faults.next(fault, { match: "/vectors/upsert" });

    await store.upsert(records(5), ns);

    expect(requestsTo("/vectors/upsert").map((request) => request.fault)).toEqual([fault, undefined]);
    expect(storedIds(ns)).toHaveLength(5);
  });

  it("retries a read that timed out and returns its answer", async () => {
    const store = await openStore({ requestTimeoutMs: 300 });
    await store.ready();
    const ns = freshNamespace();
    await store.upsert(records(2), ns);
    server.faults.next("timeout", { match: "/vectors/fetch" });

    const fetched = await store.fetch(["r#0", "r#1"], ns);

    expect(fetched.map((record) => record.id)).toEqual(["r#0", "r#1"]);
    expect(requestsTo("/vectors/fetch")).toHaveLength(2);
  });

  it("ends a partially applied upsert with every record present after the retry", async () => {
    const store = await openStore();
    await store.ready();
    const ns = freshNamespace();
    server.faults.next("partial", { match: "/vectors/upsert" });

    await store.upsert(records(10), ns);

    expect(requestsTo("/vectors/upsert").map((request) => request.status)).toEqual([500, 200]);
    expect(storedIds(ns)).toHaveLength(10);
  });

  it("does not retry a 400: an id over 512 characters is sent once and fails", async () => {
    const store = await openStore();
    await store.ready();
    const error = await rejectsWith(store.upsert([{ id: "x".repeat(513), values: vector(1), metadata: {} }], freshNamespace()), ProviderError);
    expect(error).toMatchObject({ status: 400, retryable: false, provider: "pinecone" });
    expect(error.message).toMatch(/512/);
    expect(requestsTo("/vectors/upsert")).toHaveLength(1);
  });

  it("gives up after the policy's retries with a retryable ProviderError carrying the status", async () => {
    const store = await openStore();
    await store.ready();
    server.faults.next("503", { match: "/query", times: Infinity });
    const error = await rejectsWith(store.query({ vector: vector(1), topK: 1, namespace: freshNamespace() }), ProviderError);
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(requestsTo("/query")).toHaveLength(4);
  });
});

describe("Pinecone queries", () => {
  it("ask for no metadata when the caller hydrates hits elsewhere, so no chunk text crosses the network", async () => {
    const store = await openStore();
    await store.ready();
    const ns = freshNamespace();
    await store.upsert([{ id: "q#1", values: vector(1), metadata: { text: "a long chunk text ".repeat(50) } }], ns);
    server.requests.length = 0;
    const [match] = await store.query({ vector: vector(1), topK: 1, namespace: ns, includeMetadata: false });
    expect(match).toMatchObject({ id: "q#1", metadata: {} });
    expect((requestsTo("/query")[0]!.body as { includeMetadata?: boolean }).includeMetadata).toBe(false);
  });

  it("leave Node's promise hooks off once no SDK call is in flight, so the process's other awaits pay nothing for them", async () => {
    const store = await openStore();
    await store.ready();
    const ns = freshNamespace();
    await store.upsert([{ id: "h#1", values: vector(1), metadata: {} }], ns);
    // list and describe go through the SDK (its fetch finds the call's record in an AsyncLocalStorage); query and upsert do not.
    expect(await store.listIds("h#", ns, { limit: 10 })).toMatchObject({ ids: ["h#1"] });
    await store.describe();
    await store.query({ vector: vector(1), topK: 1, namespace: ns, includeMetadata: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // With promise hooks on, every promise gets an async id of its own, so an await changes executionAsyncId().
    const outer = executionAsyncId();
    await null;
    expect(executionAsyncId()).toBe(outer);
  });
});

describe("Pinecone request limits", () => {
  it("splits a large upsert into requests of at most 1,000 records", async () => {
    const store = await openStore();
    await store.ready();
    const ns = freshNamespace();

    await store.upsert(records(2_500, "bulk#"), ns);

    const sizes = requestsTo("/vectors/upsert").map((request) => (request.body as { vectors: unknown[] }).vectors.length);
    expect(sizes.every((size) => size <= 1_000)).toBe(true);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(2_500);
    expect(storedIds(ns)).toHaveLength(2_500);
  });

  it("keeps every upsert request under 2 MB with 1536-dimension vectors and large metadata", async () => {
    const store = await openStore({ index: "wide" }, 1536);
    await store.ready();
    const ns = freshNamespace();
    const wide = Array.from({ length: 150 }, (_, i) => ({
      id: `wide#${i}`,
      values: vector(i, 1536),
      metadata: { text: "dualstore ".repeat(3_500), i },
    }));

    await store.upsert(wide, ns);

    const upserts = requestsTo("/vectors/upsert");
    expect(upserts.length).toBeGreaterThan(1);
    expect(upserts.every((request) => request.status === 200 && request.bodyBytes <= MAX_REQUEST_BYTES)).toBe(true);
    expect(storedIds(ns, "wide")).toHaveLength(150);
  });

  it("fills upserts of dense embeddings close to the 2 MB limit, so they stay few", async () => {
    const store = await openStore({ index: "wide" }, 1536);
    await store.ready();
    const ns = freshNamespace();
    // Dense unit vectors as embedding models return them (float32 values, about ±1/√1536): ~32 KB each in JSON.
    const dense = Array.from({ length: 200 }, (_, i) => ({
      id: `dense#${i}`,
      values: Array.from({ length: 1536 }, (_, j) => Math.fround(Math.sin(i * 7.1 + j * 3.7) / 28)),
      metadata: { text: "a chunk of text ".repeat(70) },
    }));

    await store.upsert(dense, ns);

    const sizes = requestsTo("/vectors/upsert").map((request) => request.bodyBytes);
    expect(sizes.every((bytes) => bytes <= MAX_REQUEST_BYTES)).toBe(true);
    // Requests go out concurrently: any one of them may hold the remainder.
    expect(sizes.toSorted((a, b) => b - a).slice(0, -1).every((bytes) => bytes > 1_850_000)).toBe(true);
    expect(storedIds(ns, "wide")).toHaveLength(200);
  });
});

describe("Pinecone configuration", () => {
  const logger = silentLogger;

  it("names PINECONE_API_KEY when no API key is configured", async () => {
    const error = await rejectsWith(createPineconeVectorStore({ index: "docs" }, { env: {}, logger }), ConfigurationError);
    expect(error.message).toContain("PINECONE_API_KEY");
  });

  it("names PINECONE_INDEX and PINECONE_HOST when neither an index nor a host is configured", async () => {
    const error = await rejectsWith(createPineconeVectorStore({}, { env: { PINECONE_API_KEY: API_KEY }, logger }), ConfigurationError);
    expect(error.message).toContain("PINECONE_INDEX");
    expect(error.message).toContain("PINECONE_HOST");
  });

  it("names the environment variable of a malformed setting without printing its value", async () => {
    const env = { PINECONE_API_KEY: API_KEY, PINECONE_INDEX: "Not_A_Valid_Name" };
    const error = await rejectsWith(createPineconeVectorStore({}, { env, logger }), ConfigurationError);
    expect(error.message).toContain("PINECONE_INDEX");
    expect(error.message).not.toContain("Not_A_Valid_Name");
  });

  it("names a malformed option", async () => {
    const error = await rejectsWith(createPineconeVectorStore({ apiKey: API_KEY, index: "docs", requestTimeoutMs: -1 }, { env: {}, logger }), ConfigurationError);
    expect(error.message).toContain("vectorStore.requestTimeoutMs");
  });

  it("reads the API key and index from the environment", async () => {
    const inner = await createPineconeVectorStore({ controllerHostUrl: server.url }, { env: { PINECONE_API_KEY: API_KEY, PINECONE_INDEX: "docs" }, logger });
    await inner.init({ dimension: DIMENSION });
    expect((await inner.describe()).dimension).toBe(DIMENSION);
  });

  it("takes PINECONE_HOST as PINECONE_INDEX's host: another index named in the options is found by its name, not sent there", async () => {
    const env = { PINECONE_API_KEY: API_KEY, PINECONE_HOST: server.indexHost("wide") };
    const named = await createPineconeVectorStore({ controllerHostUrl: server.url, index: "docs" }, { env, logger });
    await named.init({ dimension: DIMENSION });
    const ns = freshNamespace();
    await named.upsert([{ id: "named#1", values: vector(1), metadata: {} }], ns);
    server.settle();
    expect(storedIds(ns)).toEqual(["named#1"]);
    const paired = await createPineconeVectorStore({ controllerHostUrl: server.url, index: "wide" }, { env: { ...env, PINECONE_INDEX: "wide" }, logger });
    await paired.init({ dimension: 1536 });
    await paired.upsert([{ id: "paired#1", values: vector(1, 1536), metadata: {} }], ns);
    server.settle();
    expect(storedIds(ns, "wide")).toEqual(["paired#1"]);
  });
});

describe("Pinecone errors never carry the API key", () => {
  function expectNoKey(error: unknown, key: string): void {
    const renderings = [JSON.stringify(error), String(error), inspect(error, { depth: 10 })];
    for (let current: unknown = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
      renderings.push(current.message, current.stack ?? "", JSON.stringify(current), inspect(current, { depth: 10 }));
    }
    for (const text of renderings) expect(text).not.toContain(key);
  }

  it.each<[string, FaultKind]>([
    ["server errors", "500"],
    ["rate limiting", "429"],
    ["timeouts", "timeout"],
    ["dropped connections", "drop"],
  ])("in failures from %s", async (_name, fault) => {
    const store = await openStore({ requestTimeoutMs: 200 });
    await store.ready();
    server.faults.next(fault, { times: Infinity, retryAfterSeconds: 0 });
    const error = await rejectsWith(store.query({ vector: vector(1), topK: 1, namespace: freshNamespace() }), ProviderError);
    expect(error.cause).toBeInstanceOf(Error);
    expectNoKey(error, API_KEY);
  });

  it("in a rejected request", async () => {
    const store = await openStore();
    await store.ready();
    const error = await rejectsWith(store.upsert([{ id: "x".repeat(600), values: vector(1), metadata: {} }], freshNamespace()), ProviderError);
    expectNoKey(error, API_KEY);
  });

  it("in a refused key", async () => {
    const wrongKey = "dualstore-wrong-secret-8b1d3f";
    const store = await openStore({ apiKey: wrongKey });
    const error = await rejectsWith(store.ready(), ProviderError);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expectNoKey(error, wrongKey);
  });

  it("in configuration errors", async () => {
    const store = await openStore({ index: "missing-index" });
    expectNoKey(await rejectsWith(store.ready(), ConfigurationError), API_KEY);
  });
});
