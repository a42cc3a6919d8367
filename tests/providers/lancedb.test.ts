import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { ConfigurationError, DimensionMismatchError, ProviderError } from "../../src/errors.js";
import { compareBytes } from "../../src/internal/compare.js";
import type { VectorFilter } from "../../src/vector-stores/filter.js";
import type { LanceDbVectorStoreConfig } from "../../src/vector-stores/lancedb/lancedb-config.js";
import { createLanceDbVectorStore, type LanceDbVectorStore } from "../../src/vector-stores/lancedb/lancedb-vector-store.js";
import type { VectorRecord } from "../../src/vector-stores/vector-store.js";
import { rejectsWith } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";

const DIMENSION = 8;
const NS = "tenant-a";
const opened: LanceDbVectorStore[] = [];
const directories: string[] = [];

function freshDirectory(): string {
  const directory = tempDir("dualstore-lancedb-");
  directories.push(directory);
  return directory;
}

async function openStore(directory: string, options: Partial<LanceDbVectorStoreConfig> = {}, dimension = DIMENSION): Promise<LanceDbVectorStore> {
  const store = await createLanceDbVectorStore({ uri: directory, ...options }, { env: {}, logger: silentLogger });
  opened.push(store);
  await store.init({ dimension });
  return store;
}

/** Deterministic vectors spread over all directions (not normalised, so the store must normalise). */
function vectorFor(seed: number, dimension = DIMENSION): number[] {
  return Array.from({ length: dimension }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 3 + Math.cos(seed + i));
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(normA * normB);
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

describe("LanceDbVectorStore", () => {
  it("keeps vectors across store instances opened on the same directory", async () => {
    const directory = freshDirectory();
    const first = await openStore(directory);
    const record: VectorRecord = { id: "doc1#0", values: vectorFor(1), metadata: { documentId: "doc1", tags: ["x", "y"] } };
    await first.upsert([record, { id: "doc1#1", values: vectorFor(2), metadata: {} }], NS);
    await first.close();

    const second = await openStore(directory);
    const [fetched] = await second.fetch(["doc1#0"], NS);
    expect(fetched!.metadata).toEqual(record.metadata);
    fetched!.values.forEach((value, i) => expect(value).toBeCloseTo(record.values[i]!, 5));
    expect((await second.listIds({ prefix: "doc1#", namespace: NS, limit: 10 })).ids).toEqual(["doc1#0", "doc1#1"]);
    expect(await second.describe()).toEqual({ dimension: DIMENSION, count: 2 });
  });

  it("sees writes made through another store instance on the same directory", async () => {
    const directory = freshDirectory();
    const reader = await openStore(directory);
    const writer = await openStore(directory);
    await writer.upsert([{ id: "late#1", values: vectorFor(3), metadata: {} }], NS);
    expect((await reader.fetch(["late#1"], NS)).map((record) => record.id)).toEqual(["late#1"]);
  });

  it("refuses to open a named table with another dimension", async () => {
    const directory = freshDirectory();
    await openStore(directory, { table: "vectors" }, 8);
    const error = await rejectsWith(openStore(directory, { table: "vectors" }, 16), DimensionMismatchError);
    expect(error).toMatchObject({ expected: 8, actual: 16 });
  });

  it("refuses a second init of one store with another dimension", async () => {
    const store = await openStore(freshDirectory(), {}, 8);
    await rejectsWith(store.init({ dimension: 16 }), DimensionMismatchError);
  });

  it("gives each dimension its own default table", async () => {
    const directory = freshDirectory();
    const small = await openStore(directory, {}, 8);
    const large = await openStore(directory, {}, 16);
    await small.upsert([{ id: "a", values: vectorFor(1, 8), metadata: {} }], NS);
    await large.upsert([{ id: "a", values: vectorFor(1, 16), metadata: {} }], NS);
    expect((await small.fetch(["a"], NS))[0]!.values).toHaveLength(8);
    expect((await large.fetch(["a"], NS))[0]!.values).toHaveLength(16);
  });

  it("matches filter values with quotes, %, _ and backslashes exactly, never as SQL or LIKE patterns", async () => {
    const store = await openStore(freshDirectory());
    const values = ["it's", "50%", "%", "a_c", "abc", "C:\\dir\\", "\\", "\\'", "''", "x' OR '1'='1"];
    await store.upsert(
      values.map((value, i) => ({ id: `v#${i}`, values: vectorFor(i), metadata: { title: value, "meta.author.name": value, tags: [value, "common"] } })),
      NS,
    );
    const ids = async (filter: VectorFilter) => (await store.query({ vector: vectorFor(0), topK: 50, filter, namespace: NS })).map((m) => m.id).sort();
    for (const [i, value] of values.entries()) {
      expect(await ids({ field: "title", eq: value })).toEqual([`v#${i}`]);
      expect(await ids({ field: "meta.author.name", eq: value })).toEqual([`v#${i}`]);
      expect(await ids({ field: "tags", eq: value })).toEqual([`v#${i}`]);
    }
    expect(await ids({ field: "title", in: ["a_c", "%"] })).toEqual(["v#2", "v#3"]);
    expect(await ids({ field: "title", eq: "a%" })).toEqual([]);
    expect(await ids({ field: "tags", eq: "common" })).toHaveLength(values.length);
  });

  it("keeps filter value types apart: 2024 is not \"2024\" and true is not \"true\"", async () => {
    const store = await openStore(freshDirectory());
    await store.upsert(
      [
        { id: "number", values: vectorFor(1), metadata: { year: 2024, flag: true } },
        { id: "string", values: vectorFor(2), metadata: { year: "2024", flag: "true" } },
      ],
      NS,
    );
    const ids = async (filter: VectorFilter) => (await store.query({ vector: vectorFor(1), topK: 5, filter, namespace: NS })).map((m) => m.id);
    expect(await ids({ field: "year", eq: 2024 })).toEqual(["number"]);
    expect(await ids({ field: "year", eq: "2024" })).toEqual(["string"]);
    expect(await ids({ field: "flag", eq: true })).toEqual(["number"]);
    expect(await ids({ field: "flag", in: ["true"] })).toEqual(["string"]);
  });

  it("treats % and _ in id prefixes literally when listing and deleting", async () => {
    const store = await openStore(freshDirectory());
    await store.upsert(
      ["a_%#1", "a_%#2", "ab%#1", "a_x#1", "a\\#1"].map((id, i) => ({ id, values: vectorFor(i), metadata: {} })),
      NS,
    );
    expect((await store.listIds({ prefix: "a_%", namespace: NS, limit: 10 })).ids).toEqual(["a_%#1", "a_%#2"]);
    await store.deletePrefix("a_%", NS);
    await store.deletePrefix("a\\", NS);
    expect((await store.listIds({ prefix: "", namespace: NS, limit: 10 })).ids).toEqual(["a_x#1", "ab%#1"]);
  });

  it("lists ids in UTF-8 byte order across pages, where JavaScript's < would disagree", async () => {
    const store = await openStore(freshDirectory());
    // U+FF5E sorts before U+1F600 by bytes but after its UTF-16 surrogates.
    const ids = ["p#\u{1F600}", "p#\u{FF5E}", "p#z", "p#a", "p#\u{E9}"];
    await store.upsert(ids.map((id, i) => ({ id, values: vectorFor(i), metadata: {} })), NS);
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listIds({ prefix: "p#", namespace: NS, limit: 2, cursor });
      listed.push(...page.ids);
      cursor = page.next;
    } while (cursor);
    expect(listed).toEqual([...ids].sort(compareBytes));
    expect([...ids].sort(compareBytes)).not.toEqual([...ids].sort());
  });

  it("returns topK matches for a selective filter even when many closer vectors do not match", async () => {
    const store = await openStore(freshDirectory());
    const query = vectorFor(7);
    const decoys = Array.from({ length: 500 }, (_, i) => ({
      id: `decoy#${i}`,
      values: query.map((value, d) => value + Math.sin(i + d) * 0.01),
      metadata: { documentId: "noise" },
    }));
    const wanted = Array.from({ length: 12 }, (_, i) => ({ id: `wanted#${i}`, values: vectorFor(100 + i), metadata: { documentId: "target" } }));
    await store.upsert([...decoys.slice(0, 250), ...wanted, ...decoys.slice(250)], NS);

    const matches = await store.query({ vector: query, topK: 5, filter: { field: "documentId", eq: "target" }, namespace: NS });
    const expected = wanted.map((record) => ({ id: record.id, score: cosine(query, record.values) })).sort((a, b) => b.score - a.score);
    expect(matches.map((match) => match.id)).toEqual(expected.slice(0, 5).map((record) => record.id));
  });

  it("scores as cosine similarity, matching a brute-force computation", async () => {
    const store = await openStore(freshDirectory());
    const records = Array.from({ length: 60 }, (_, i) => ({ id: `s#${i}`, values: vectorFor(i), metadata: {} }));
    await store.upsert(records, NS);
    const query = vectorFor(1_000);

    const matches = await store.query({ vector: query, topK: records.length, namespace: NS });
    const expected = records.map((record) => ({ id: record.id, score: cosine(query, record.values) })).sort((a, b) => b.score - a.score);
    expect(matches.map((match) => match.id)).toEqual(expected.map((record) => record.id));
    matches.forEach((match, i) => expect(match.score).toBeCloseTo(expected[i]!.score, 5));
    expect(Math.min(...matches.map((m) => m.score))).toBeLessThan(0);
  });

  it("keeps one row per id when concurrent upserts race on the same ids", async () => {
    const store = await openStore(freshDirectory());
    // Each writer adds new ids and overwrites some of the previous writer's, all at once.
    const batch = (writer: number) =>
      Array.from({ length: 1_000 }, (_, i) => ({ id: `c#${writer * 700 + i}`, values: vectorFor(writer + i), metadata: { writer } }));
    await Promise.all([0, 1, 2, 3].map((writer) => store.upsert(batch(writer), NS)));
    expect(await store.describe()).toMatchObject({ count: 3 * 700 + 1_000 });
  });

  it("keeps the last record when one upsert repeats an id", async () => {
    const store = await openStore(freshDirectory());
    await store.upsert(
      [
        { id: "dup", values: vectorFor(1), metadata: { version: 1 } },
        { id: "dup", values: vectorFor(2), metadata: { version: 2 } },
      ],
      NS,
    );
    expect((await store.fetch(["dup"], NS)).map((record) => record.metadata)).toEqual([{ version: 2 }]);
  });

  it("refuses a table it did not create, naming the option", async () => {
    const directory = freshDirectory();
    const { connect } = await import("@lancedb/lancedb");
    const connection = await connect(directory);
    (await connection.createTable("foreign", [{ name: "x", vector: [1, 2] }])).close();
    connection.close();
    const error = await rejectsWith(openStore(directory, { table: "foreign" }), ConfigurationError);
    expect(error.message).toContain("vectorStore.table");
  });

  it("maps a LanceDB failure to a non-retryable ProviderError keeping the cause", async () => {
    const directory = freshDirectory();
    const file = join(directory, "not-a-directory");
    await writeFile(file, "x");
    const error = await rejectsWith(openStore(file), ProviderError);
    expect(error).toMatchObject({ provider: "lancedb", retryable: false });
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("compacts its table on maintain() without losing or changing a record", async () => {
    const directory = freshDirectory();
    const store = await openStore(directory);
    for (let round = 0; round < 20; round++) {
      await store.upsert([{ id: `v#${round}`, values: vectorFor(round), metadata: { round } }], NS);
    }
    await store.delete(["v#3", "v#4"], NS);
    await store.maintain();
    const ids = (await store.listIds({ prefix: "v#", namespace: NS, limit: 100 })).ids;
    expect(ids).toHaveLength(18);
    const [record] = await store.fetch(["v#7"], NS);
    expect(record!.metadata).toEqual({ round: 7 });
  });

  it("checks its options before loading anything", async () => {
    const create = (config: LanceDbVectorStoreConfig, env: NodeJS.ProcessEnv = {}) => createLanceDbVectorStore(config, { env, logger: silentLogger });
    expect((await rejectsWith(create({ uri: "" }), ConfigurationError)).message).toContain("vectorStore.uri");
    expect((await rejectsWith(create({ uri: "./v", table: "a b" }), ConfigurationError)).message).toContain("vectorStore.table");
    expect((await rejectsWith(create({ uri: "db://my-db" }), ConfigurationError)).message).toContain("LANCEDB_API_KEY");
    await expect(create({ uri: "db://my-db" }, { LANCEDB_API_KEY: "sk-test" })).resolves.toBeDefined();
  });
});
