import { Errors, Pinecone, type PineconeRecord, type RecordMetadata } from "@pinecone-database/pinecone";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPineconeServer, type PineconeServer } from "./pinecone-server.js";
import { rejection, sleep, testVector } from "./test-helpers.js";

const DIMENSION = 8;

let server: PineconeServer;
let pc: Pinecone;

beforeAll(async () => {
  server = await startPineconeServer({
    indexes: [
      { name: "docs", dimension: DIMENSION },
      { name: "big", dimension: 1536 },
      { name: "dots", dimension: 2, metric: "dotproduct" },
      { name: "euclid", dimension: 2, metric: "euclidean" },
    ],
  });
  // maxRetries: 0 so error tests see the first answer, not the SDK's retries.
  pc = new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
});

function lastStatus(pathEnd: string): unknown {
  return server.requests.filter((request) => request.path.endsWith(pathEnd)).at(-1)?.status;
}

describe("Pinecone control plane", () => {
  it("creates a serverless index whose host serves the data plane over plain http", async () => {
    const model = await pc.createIndex({
      name: "created-index",
      dimension: 4,
      metric: "dotproduct",
      spec: { serverless: { cloud: "aws", region: "eu-west-1" } },
    });
    expect(model.name).toBe("created-index");
    expect(model.dimension).toBe(4);
    expect(model.metric).toBe("dotproduct");
    expect(model.status.ready).toBe(true);
    expect(model.host).toBe(server.indexHost("created-index"));
    expect(model.spec).toMatchObject({ serverless: { cloud: "aws", region: "eu-west-1" } });

    const described = await pc.describeIndex("created-index");
    expect(described.host).toBe(model.host);

    // Resolving the host by name goes through describe/create and reaches this server.
    const index = pc.index({ name: "created-index" });
    await index.upsert({ records: [{ id: "a", values: [1, 0, 0, 0] }] });
    const stats = await index.describeIndexStats();
    expect(stats.totalRecordCount).toBe(1);
    expect(stats.dimension).toBe(4);
  });

  it("lists every index with its dimension", async () => {
    const list = await pc.listIndexes();
    const names = (list.indexes ?? []).map((index) => index.name);
    expect(names).toEqual(expect.arrayContaining(["docs", "big", "created-index"]));
    expect(list.indexes?.find((index) => index.name === "docs")?.dimension).toBe(DIMENSION);
  });

  it("answers 409 when creating an index that already exists", async () => {
    const error = await rejection(
      pc.createIndex({ name: "docs", dimension: DIMENSION, spec: { serverless: { cloud: "aws", region: "us-east-1" } } }),
    );
    expect(error).toBeInstanceOf(Errors.PineconeConflictError);
    expect(lastStatus("/indexes")).toBe(409);
  });

  it("deletes an index, after which describing it answers 404", async () => {
    await pc.createIndex({ name: "doomed", dimension: 2, spec: { serverless: { cloud: "aws", region: "us-east-1" } } });
    await pc.deleteIndex("doomed");
    const error = await rejection(pc.describeIndex("doomed"));
    expect(error).toBeInstanceOf(Errors.PineconeNotFoundError);
  });

  it("refuses to delete an index with deletion protection enabled", async () => {
    await pc.createIndex({
      name: "protected",
      dimension: 2,
      deletionProtection: "enabled",
      spec: { serverless: { cloud: "aws", region: "us-east-1" } },
    });
    const error = await rejection(pc.deleteIndex("protected"));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError); // the SDK maps 403 to this class
    expect(lastStatus("/indexes/protected")).toBe(403);
  });

  it("rejects a wrong API key with 401", async () => {
    const intruder = new Pinecone({ apiKey: "wrong", controllerHostUrl: server.url, maxRetries: 0 });
    const error = await rejection(intruder.listIndexes());
    expect(error).toBeInstanceOf(Errors.PineconeAuthorizationError);
    const dataError = await rejection(intruder.index({ host: server.indexHost("docs") }).describeIndexStats());
    expect(dataError).toBeInstanceOf(Errors.PineconeAuthorizationError);
  });
});

describe("Pinecone data plane", () => {
  const records: PineconeRecord[] = [
    { id: "doc#1", values: testVector(DIMENSION, 1), metadata: { genre: "drama", year: 2019, tags: ["a", "b"], published: true } },
    { id: "doc#2", values: testVector(DIMENSION, 2), metadata: { genre: "comedy", year: 2021, tags: ["b", "c"], published: false } },
    { id: "doc#3", values: testVector(DIMENSION, 3), metadata: { genre: "drama", year: 2023, tags: ["c"] } },
    { id: "doc#4", values: testVector(DIMENSION, 4), metadata: { genre: "horror", year: 2020 } },
  ];

  beforeAll(async () => {
    await pc.index({ host: server.indexHost("docs"), namespace: "filters" }).upsert({ records });
  });

  it("returns the nearest records first, with metadata when asked", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "filters" });
    const result = await index.query({ vector: testVector(DIMENSION, 3), topK: 2, includeMetadata: true });
    expect(result.matches.map((match) => match.id)[0]).toBe("doc#3");
    expect(result.matches).toHaveLength(2);
    expect(result.matches[0]?.score).toBeCloseTo(1, 5);
    expect(result.matches[0]?.metadata).toEqual(records[2]?.metadata);
    expect((result.matches[0]?.score ?? 0) >= (result.matches[1]?.score ?? 0)).toBe(true);
  });

  it("omits values and metadata unless they are asked for", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "filters" });
    const bare = await index.query({ id: "doc#1", topK: 1 });
    expect(bare.matches[0]?.id).toBe("doc#1");
    expect(bare.matches[0]?.metadata).toBeUndefined();
    expect(bare.matches[0]?.values).toEqual([]);
    const full = await index.query({ id: "doc#1", topK: 1, includeValues: true });
    expect(full.matches[0]?.values).toHaveLength(DIMENSION);
  });

  it.each([
    ["implicit equality", { genre: "drama" }, ["doc#1", "doc#3"]],
    ["$eq on a list matches any element", { tags: { $eq: "b" } }, ["doc#1", "doc#2"]],
    ["$in on a list matches any element", { tags: { $in: ["a", "z"] } }, ["doc#1"]],
    ["$nin excludes lists holding any listed value", { tags: { $nin: ["c"] } }, ["doc#1", "doc#4"]],
    ["$ne matches records without the field", { published: { $ne: true } }, ["doc#2", "doc#3", "doc#4"]],
    ["numeric ranges", { year: { $gte: 2020, $lt: 2023 } }, ["doc#2", "doc#4"]],
    ["$exists", { tags: { $exists: false } }, ["doc#4"]],
    ["$or", { $or: [{ genre: "horror" }, { year: { $gt: 2022 } }] }, ["doc#3", "doc#4"]],
    ["$and", { $and: [{ genre: { $in: ["drama", "comedy"] } }, { tags: "c" }] }, ["doc#2", "doc#3"]],
  ])("filters with %s", async (_name, filter, expected) => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "filters" });
    const result = await index.query({ vector: testVector(DIMENSION, 9), topK: 10, filter });
    expect(result.matches.map((match) => match.id).sort()).toEqual(expected);
  });

  it("rejects an unknown filter operator with 400", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "filters" });
    const error = await rejection(index.query({ vector: testVector(DIMENSION, 1), topK: 1, filter: { genre: { $regex: "dr.*" } } }));
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toContain("$regex");
  });

  it("scores dotproduct as the dot product and euclidean as squared distance, nearest first", async () => {
    const dots = pc.index({ host: server.indexHost("dots") });
    await dots.upsert({ records: [{ id: "x", values: [2, 0] }, { id: "y", values: [1, 1] }] });
    const dotResult = await dots.query({ vector: [3, 1], topK: 2 });
    expect(dotResult.matches.map((match) => [match.id, match.score])).toEqual([["x", 6], ["y", 4]]);

    const euclid = pc.index({ host: server.indexHost("euclid") });
    await euclid.upsert({ records: [{ id: "near", values: [1, 1] }, { id: "far", values: [4, 5] }] });
    const euclidResult = await euclid.query({ vector: [1, 2], topK: 2 });
    expect(euclidResult.matches.map((match) => [match.id, match.score])).toEqual([["near", 1], ["far", 18]]);
  });

  it("fetches records by id and leaves out missing ones", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "filters" });
    const fetched = await index.fetch({ ids: ["doc#1", "doc#2", "nope"] });
    expect(Object.keys(fetched.records).sort()).toEqual(["doc#1", "doc#2"]);
    expect(fetched.records["doc#2"]?.metadata).toEqual(records[1]?.metadata);
    expect(fetched.records["doc#2"]?.values).toHaveLength(DIMENSION);
    expect(fetched.namespace).toBe("filters");
  });

  it("lists ids by prefix over several pages in sorted order", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "listing" });
    const ids = Array.from({ length: 25 }, (_, i) => `chunk#${String(i).padStart(3, "0")}`);
    await index.upsert({ records: [...ids, "other#1"].map((id, i) => ({ id, values: testVector(DIMENSION, i) })) });

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await index.listPaginated({ prefix: "chunk#", limit: 10, paginationToken: token });
      seen.push(...(page.vectors ?? []).map((vector) => vector.id ?? ""));
      token = page.pagination?.next;
      pages += 1;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    const defaultPage = await index.listPaginated();
    expect(defaultPage.vectors).toHaveLength(26);
    expect(defaultPage.pagination).toBeUndefined();
  });

  it("deletes by id, by filter and everything, keeping namespaces apart", async () => {
    const host = server.indexHost("docs");
    const left = pc.index({ host, namespace: "left" });
    const right = pc.index({ host, namespace: "right" });
    const make = (prefix: string) =>
      Array.from({ length: 6 }, (_, i) => ({ id: `${prefix}${i}`, values: testVector(DIMENSION, i), metadata: { even: i % 2 === 0 } }));
    await left.upsert({ records: make("l") });
    await right.upsert({ records: make("r") });

    await left.deleteMany({ ids: ["l0", "l1"] });
    await left.deleteMany({ filter: { even: true } });
    expect(Object.keys((await left.fetch({ ids: make("l").map((record) => record.id) })).records).sort()).toEqual(["l3", "l5"]);

    let stats = await pc.index({ host }).describeIndexStats();
    expect(stats.namespaces?.left?.recordCount).toBe(2);
    expect(stats.namespaces?.right?.recordCount).toBe(6);

    await right.deleteAll();
    stats = await pc.index({ host }).describeIndexStats();
    expect(stats.namespaces?.right).toBeUndefined();
    expect(stats.dimension).toBe(DIMENSION);
    const total = Object.values(stats.namespaces ?? {}).reduce((sum, summary) => sum + summary.recordCount, 0);
    expect(stats.totalRecordCount).toBe(total);
  });

  it("answers 404 to a delete in a namespace that does not exist, as serverless Pinecone does", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "never-written" });
    expect(await rejection(index.deleteMany({ ids: ["ghost"] }))).toBeInstanceOf(Errors.PineconeNotFoundError);
    expect(await rejection(index.deleteAll())).toBeInstanceOf(Errors.PineconeNotFoundError);
  });

  it("updates metadata by merging fields", async () => {
    const index = pc.index({ host: server.indexHost("docs"), namespace: "updates" });
    await index.upsert({ records: [{ id: "u", values: testVector(DIMENSION, 1), metadata: { a: "1", b: "2" } }] });
    await index.update({ id: "u", metadata: { b: "two", c: 3 } });
    const fetched = await index.fetch({ ids: ["u"] });
    expect(fetched.records.u?.metadata).toEqual({ a: "1", b: "two", c: 3 });
  });

  it("uses the __default__ namespace when none is given and lists namespaces", async () => {
    const index = pc.index({ host: server.indexHost("docs") });
    await index.upsert({ records: [{ id: "d", values: testVector(DIMENSION, 1) }] });
    const stats = await index.describeIndexStats();
    expect(stats.namespaces?.__default__?.recordCount).toBe(1);
    const listed = await index.listNamespaces();
    expect((listed.namespaces ?? []).map((namespace) => namespace.name)).toContain("__default__");
    const described = await index.describeNamespace("filters");
    expect(described.recordCount).toBe(4);
  });
});

describe("Pinecone validation", () => {
  const docs = () => pc.index({ host: server.indexHost("docs"), namespace: "limits" });

  async function expectBadRequest(call: Promise<unknown>, message: string | RegExp): Promise<void> {
    const error = await rejection(call);
    expect(error).toBeInstanceOf(Errors.PineconeBadRequestError);
    expect((error as Error).message).toMatch(message);
    expect(server.requests.at(-1)?.status).toBe(400);
  }

  it("rejects an upsert of 1001 vectors", async () => {
    const records = Array.from({ length: 1001 }, (_, i) => ({ id: `v${i}`, values: testVector(DIMENSION, i) }));
    await expectBadRequest(docs().upsert({ records }), /at most 1000 vectors/);
  });

  it("accepts an upsert of exactly 1000 vectors", async () => {
    const records = Array.from({ length: 1000 }, (_, i) => ({ id: `v${i}`, values: testVector(DIMENSION, i) }));
    await docs().upsert({ records });
    expect(server.storedVectors("docs", "limits")).toHaveLength(1000);
  });

  it("rejects a request body over 2 MB", async () => {
    const records = Array.from({ length: 120 }, (_, i) => ({ id: `big${i}`, values: testVector(1536, i) }));
    await expectBadRequest(
      pc.index({ host: server.indexHost("big") }).upsert({ records }),
      /exceeds the maximum supported size of 2MB/,
    );
    expect(server.requests.at(-1)?.bodyBytes).toBeGreaterThan(2 * 1024 * 1024);
  });

  it("rejects metadata over 40 KB and accepts metadata just under it", async () => {
    await expectBadRequest(
      docs().upsert({ records: [{ id: "fat", values: testVector(DIMENSION, 1), metadata: { text: "x".repeat(41_000) } }] }),
      /Metadata size is \d+ bytes, which exceeds the limit of 40960 bytes per vector/,
    );
    await docs().upsert({ records: [{ id: "slim", values: testVector(DIMENSION, 1), metadata: { text: "x".repeat(40_000) } }] });
  });

  it.each([
    ["null", { deleted_at: null }, "'null' for field 'deleted_at'"],
    ["a nested object", { author: { name: "Ada" } }, "for field 'author'"],
    ["a list of numbers", { scores: [1, 2] }, "for field 'scores'"],
  ])("rejects %s as a metadata value", async (_name, metadata, message) => {
    await expectBadRequest(
      docs().upsert({ records: [{ id: "m", values: testVector(DIMENSION, 1), metadata: metadata as unknown as RecordMetadata }] }),
      new RegExp(`Metadata value must be a string, number, boolean or list of strings, got .*${message.replace(/[()[\]{}]/g, "\\$&")}`),
    );
  });

  it("rejects a vector whose dimension differs from the index", async () => {
    await expectBadRequest(
      docs().upsert({ records: [{ id: "short", values: [0.1, 0.2, 0.3] }] }),
      "Vector dimension 3 does not match the dimension of the index 8",
    );
    await expectBadRequest(docs().query({ vector: [1, 2], topK: 1 }), "Query vector dimension 2 does not match the dimension of the index 8");
  });

  it("rejects ids longer than 512 characters", async () => {
    await expectBadRequest(docs().upsert({ records: [{ id: "i".repeat(513), values: testVector(DIMENSION, 1) }] }), /512/);
  });

  it("rejects fetching or deleting more than 1000 ids", async () => {
    const ids = Array.from({ length: 1001 }, (_, i) => `id${i}`);
    await expectBadRequest(docs().fetch({ ids }), /at most 1000 ids/);
    await expectBadRequest(docs().deleteMany({ ids }), /at most 1000 ids/);
  });

  it("rejects topK above 10000", async () => {
    await expectBadRequest(docs().query({ vector: testVector(DIMENSION, 1), topK: 10_001 }), /topK/);
  });
});

describe("Pinecone eventual consistency", () => {
  it("acknowledges writes at once but shows them to reads only after the visibility delay", async () => {
    const lagging = await startPineconeServer({ apiKey: "lagging-key", visibilityDelayMs: 500, indexes: [{ name: "slow", dimension: 2 }] });
    try {
      const client = new Pinecone({ apiKey: lagging.apiKey, controllerHostUrl: lagging.url, maxRetries: 0 });
      const index = client.index({ host: lagging.indexHost("slow") });
      await index.upsert({ records: [{ id: "late", values: [1, 0] }] });

      expect((await index.fetch({ ids: ["late"] })).records).toEqual({});
      expect((await index.describeIndexStats()).totalRecordCount).toBe(0);
      expect(lagging.storedVectors("slow").map((vector) => vector.id)).toEqual(["late"]);

      await sleep(600);
      expect(Object.keys((await index.fetch({ ids: ["late"] })).records)).toEqual(["late"]);

      await index.deleteOne({ id: "late" });
      expect((await index.query({ vector: [1, 0], topK: 1 })).matches.map((match) => match.id)).toEqual(["late"]);
      lagging.settle();
      expect((await index.query({ vector: [1, 0], topK: 1 })).matches).toEqual([]);
    } finally {
      await lagging.close();
    }
  });
});
