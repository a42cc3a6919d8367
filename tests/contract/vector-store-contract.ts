// The contract every VectorStore implementation must meet, run against each one by adding a
// line to vector-stores.test.ts. It goes through ManagedVectorStore, the way dualstore uses stores.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { AbortedError, DualstoreError, type VectorRecord, type VectorStore } from "../../src/index.js";
import { ManagedVectorStore } from "../../src/vector-stores/managed-vector-store.js";

export interface VectorStoreHarness {
  readonly store: VectorStore;
  /** Waits until earlier writes are visible (eventually consistent stores). */
  settle?(): Promise<void>;
  /** Leaves the next request unanswered (stores behind a protocol server), to abort it in flight. */
  hangNextRequest?(): void;
  cleanup(): Promise<void>;
}

const DIMENSION = 8;

function unit(...values: number[]): number[] {
  const vector = Array.from({ length: DIMENSION }, (_, i) => values[i] ?? 0);
  const norm = Math.hypot(...vector);
  return vector.map((v) => v / norm);
}

function pseudoRandom(seed: number): number[] {
  return unit(...Array.from({ length: DIMENSION }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.5 + 0.6));
}

export function vectorStoreContract(name: string, open: (dimension: number) => Promise<VectorStoreHarness>): void {
  describe(`VectorStore contract: ${name}`, () => {
    let harness: VectorStoreHarness;
    let store: ManagedVectorStore;
    let namespaceCounter = 0;
    const freshNamespace = () => `contract-${++namespaceCounter}`;
    const settle = () => harness.settle?.() ?? Promise.resolve();

    beforeAll(async () => {
      harness = await open(DIMENSION);
      store = new ManagedVectorStore(harness.store, DIMENSION, { retry: { maxRetries: 2, minDelayMs: 5 }, concurrency: 4, logger: silentLogger });
      await store.ready();
    });
    afterAll(async () => harness?.cleanup());

    it("rejects every call whose signal is already aborted with AbortedError, and writes nothing", async () => {
      const ns = freshNamespace();
      const signal = AbortSignal.abort(new Error("lease lost"));
      const record: VectorRecord = { id: "aborted#1", values: pseudoRandom(9), metadata: { n: 1 } };
      const calls: Array<(options: { signal: AbortSignal }) => Promise<unknown>> = [
        (options) => harness.store.upsert([record], ns, options),
        (options) => harness.store.delete(["aborted#1"], ns, options),
        (options) => harness.store.query({ vector: record.values, topK: 1, namespace: ns }, options),
        (options) => harness.store.fetch(["aborted#1"], ns, options),
        (options) => harness.store.listIds({ prefix: "", namespace: ns, limit: 10 }, options),
        (options) => harness.store.listNamespaces(options),
        (options) => harness.store.describe(options),
        (options) => store.upsert([record], ns, options),
      ];
      if (harness.store.deletePrefix) calls.push((options) => harness.store.deletePrefix!("aborted#", ns, options));
      for (const call of calls) await expect(call({ signal })).rejects.toBeInstanceOf(AbortedError);
      await settle();
      expect(await store.fetch(["aborted#1"], ns)).toEqual([]);
    });

    it("rejects a call aborted in flight with AbortedError at once", async (context) => {
      if (!harness.hangNextRequest) return context.skip("this store answers in process; nothing stays in flight");
      const controller = new AbortController();
      harness.hangNextRequest();
      const started = performance.now();
      const upsert = store.upsert([{ id: "hung#1", values: pseudoRandom(10), metadata: {} }], freshNamespace(), { signal: controller.signal });
      setTimeout(() => controller.abort(new Error("lease lost")), 100);
      await expect(upsert).rejects.toBeInstanceOf(AbortedError);
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it("round-trips records: fetch returns their values and metadata as written", async () => {
      const ns = freshNamespace();
      const record: VectorRecord = {
        id: "doc1#a",
        values: pseudoRandom(1),
        metadata: { title: "Ünïcode ✓", count: 42, ratio: 0.5, published: true, tags: ["a", "b"] },
      };
      await store.upsert([record], ns);
      await settle();
      const [fetched] = await store.fetch(["doc1#a", "doc1#missing"], ns);
      expect(fetched!.id).toBe("doc1#a");
      expect(fetched!.metadata).toEqual(record.metadata);
      fetched!.values.forEach((v, i) => expect(v).toBeCloseTo(record.values[i]!, 5));
      expect(await store.fetch(["doc1#missing"], ns)).toEqual([]);
    });

    it("overwrites a record upserted again under the same id", async () => {
      const ns = freshNamespace();
      await store.upsert([{ id: "x#1", values: pseudoRandom(2), metadata: { version: 1 } }], ns);
      await settle();
      await store.upsert([{ id: "x#1", values: pseudoRandom(3), metadata: { version: 2 } }], ns);
      await settle();
      const fetched = await store.fetch(["x#1"], ns);
      expect(fetched).toHaveLength(1);
      expect(fetched[0]!.metadata).toEqual({ version: 2 });
      const [page] = [await store.listIds("x#", ns, { limit: 10 })];
      expect(page.ids).toEqual(["x#1"]);
    });

    it("ranks by cosine similarity, best first, on the -1..1 scale", async () => {
      const ns = freshNamespace();
      await store.upsert(
        [
          { id: "r#same", values: unit(1, 0), metadata: {} },
          { id: "r#near", values: unit(1, 1), metadata: {} },
          { id: "r#orthogonal", values: unit(0, 1), metadata: {} },
          { id: "r#opposite", values: unit(-1, 0), metadata: {} },
        ],
        ns,
      );
      await settle();
      const matches = await store.query({ vector: unit(1, 0), topK: 3, namespace: ns });
      expect(matches.map((m) => m.id)).toEqual(["r#same", "r#near", "r#orthogonal"]);
      expect(matches[0]!.score).toBeCloseTo(1, 3);
      expect(matches[1]!.score).toBeCloseTo(Math.SQRT1_2, 3);
      expect(matches[2]!.score).toBeCloseTo(0, 3);
      const all = await store.query({ vector: unit(1, 0), topK: 10, namespace: ns });
      expect(all.at(-1)).toMatchObject({ id: "r#opposite" });
      expect(all.at(-1)!.score).toBeCloseTo(-1, 3);
    });

    it("ranks and filters the same without metadata, and with it returns each match's own", async () => {
      const ns = freshNamespace();
      await store.upsert(
        [
          { id: "m#a", values: unit(1, 0), metadata: { text: "a", owner: "x" } },
          { id: "m#b", values: unit(1, 1), metadata: { text: "b", owner: "x" } },
          { id: "m#c", values: unit(1, 0.1), metadata: { text: "c", owner: "y" } },
        ],
        ns,
      );
      await settle();
      const request = { vector: unit(1, 0), topK: 2, namespace: ns, filter: { field: "owner", eq: "x" } as const };
      const full = await store.query(request);
      const bare = await store.query({ ...request, includeMetadata: false });
      expect(full.map((m) => [m.id, m.metadata.text])).toEqual([["m#a", "a"], ["m#b", "b"]]);
      expect(bare.map((m) => m.id)).toEqual(["m#a", "m#b"]);
      bare.forEach((match, i) => expect(match.score).toBeCloseTo(full[i]!.score, 5));
    });

    it("filters with eq, in and and, matching any element of a list field", async () => {
      const ns = freshNamespace();
      await store.upsert(
        [
          { id: "f#1", values: pseudoRandom(10), metadata: { source: "upload", year: 2024, published: true, tags: ["red", "blue"] } },
          { id: "f#2", values: pseudoRandom(11), metadata: { source: "url", year: 2025, published: false, tags: ["blue"] } },
          { id: "f#3", values: pseudoRandom(12), metadata: { source: "api", year: 2024, published: true, tags: ["green"] } },
        ],
        ns,
      );
      await settle();
      const ids = async (filter: Parameters<ManagedVectorStore["query"]>[0]["filter"]) =>
        (await store.query({ vector: pseudoRandom(10), topK: 10, filter, namespace: ns })).map((m) => m.id).sort();
      expect(await ids({ field: "source", eq: "url" })).toEqual(["f#2"]);
      expect(await ids({ field: "year", eq: 2024 })).toEqual(["f#1", "f#3"]);
      expect(await ids({ field: "published", eq: false })).toEqual(["f#2"]);
      expect(await ids({ field: "source", in: ["upload", "api"] })).toEqual(["f#1", "f#3"]);
      expect(await ids({ field: "tags", eq: "blue" })).toEqual(["f#1", "f#2"]);
      expect(await ids({ field: "tags", in: ["green", "red"] })).toEqual(["f#1", "f#3"]);
      expect(await ids({ and: [{ field: "tags", eq: "blue" }, { field: "year", eq: 2024 }] })).toEqual(["f#1"]);
      expect(await ids({ field: "source", eq: "nowhere" })).toEqual([]);
      expect(await ids({ field: "missing_field", eq: "x" })).toEqual([]);
    });

    it("treats filter values as data, never as query syntax", async () => {
      const ns = freshNamespace();
      const tricky = `x' OR '1'='1"; DROP TABLE t; --`;
      await store.upsert(
        [
          { id: "inj#1", values: pseudoRandom(20), metadata: { title: tricky, tags: ["$in", "{\"$ne\":1}"] } },
          { id: "inj#2", values: pseudoRandom(21), metadata: { title: "plain", tags: ["other"] } },
        ],
        ns,
      );
      await settle();
      const ids = async (filter: Parameters<ManagedVectorStore["query"]>[0]["filter"]) =>
        (await store.query({ vector: pseudoRandom(20), topK: 10, filter, namespace: ns })).map((m) => m.id).sort();
      expect(await ids({ field: "title", eq: tricky })).toEqual(["inj#1"]);
      expect(await ids({ field: "tags", eq: "$in" })).toEqual(["inj#1"]);
      expect(await ids({ field: "title", eq: "x' OR '1'='1" })).toEqual([]);
      await expect(store.query({ vector: pseudoRandom(20), topK: 5, filter: { field: "title' OR 1=1 --", eq: "x" }, namespace: ns })).rejects.toBeInstanceOf(DualstoreError);
    });

    it("keeps namespaces apart", async () => {
      const [a, b] = [freshNamespace(), freshNamespace()];
      await store.upsert([{ id: "n#1", values: pseudoRandom(30), metadata: { in: "a" } }], a);
      await settle();
      expect(await store.query({ vector: pseudoRandom(30), topK: 5, namespace: b })).toEqual([]);
      expect(await store.fetch(["n#1"], b)).toEqual([]);
      expect((await store.query({ vector: pseudoRandom(30), topK: 5, namespace: a })).map((m) => m.id)).toEqual(["n#1"]);
    });

    it("deletes ids, ignoring ids that do not exist", async () => {
      const ns = freshNamespace();
      await store.upsert([1, 2, 3].map((i) => ({ id: `d#${i}`, values: pseudoRandom(40 + i), metadata: {} })), ns);
      await settle();
      await store.delete(["d#2", "d#404"], ns);
      await settle();
      expect((await store.fetch(["d#1", "d#2", "d#3"], ns)).map((r) => r.id).sort()).toEqual(["d#1", "d#3"]);
    });

    it("deletes every id under a prefix, and only those", async () => {
      const ns = freshNamespace();
      await store.upsert(
        [...Array.from({ length: 12 }, (_, i) => `gone#${i}`), "gonex#1", "keep#1"].map((id, i) => ({ id, values: pseudoRandom(50 + i), metadata: {} })),
        ns,
      );
      await settle();
      await store.deletePrefix("gone#", ns);
      await settle();
      const left = [];
      for await (const page of store.allIds("", ns, 5)) left.push(...page);
      expect(left.sort()).toEqual(["gonex#1", "keep#1"]);
    });

    it("lists ids by prefix in id order, page by page, without repeats", async () => {
      const ns = freshNamespace();
      const ids = Array.from({ length: 23 }, (_, i) => `list1#${String(i).padStart(3, "0")}`);
      await store.upsert([...ids, "list2#a", "list0#z"].map((id, i) => ({ id, values: pseudoRandom(80 + i), metadata: {} })), ns);
      await settle();
      const seen: string[] = [];
      let pages = 0;
      for await (const page of store.allIds("list1#", ns, 7)) {
        seen.push(...page);
        pages++;
      }
      expect(seen).toEqual(ids);
      expect(pages).toBeGreaterThanOrEqual(4);
      const everything: string[] = [];
      for await (const page of store.allIds("", ns, 10)) everything.push(...page);
      expect(everything).toEqual([...everything].sort());
      expect(everything).toHaveLength(25);
    });

    it("lists the namespaces holding vectors", async () => {
      const ns = freshNamespace();
      await store.upsert([{ id: "ns#1", values: pseudoRandom(120), metadata: {} }], ns);
      await settle();
      expect(await store.listNamespaces()).toContain(ns);
    });

    it("describes its dimension and counts its vectors", async () => {
      const ns = freshNamespace();
      const before = (await store.describe()).count;
      await store.upsert([1, 2].map((i) => ({ id: `c#${i}`, values: pseudoRandom(130 + i), metadata: {} })), ns);
      await settle();
      const info = await store.describe();
      expect(info.dimension).toBe(DIMENSION);
      expect(info.count).toBe(before + 2);
    });

    it("refuses a vector of the wrong dimension with a typed error", async () => {
      const ns = freshNamespace();
      await expect(store.upsert([{ id: "w#1", values: [1, 2, 3], metadata: {} }], ns)).rejects.toBeInstanceOf(DualstoreError);
      await expect(store.query({ vector: [1, 2, 3], topK: 1, namespace: ns })).rejects.toBeInstanceOf(DualstoreError);
    });

    it("takes upserts larger than one request allows, within its limits", async () => {
      const ns = freshNamespace();
      const count = Math.min(2_500, harness.store.limits.maxUpsertRecords * 2 + 7);
      const records = Array.from({ length: count }, (_, i) => ({
        id: `bulk#${String(i).padStart(5, "0")}`,
        values: pseudoRandom(1_000 + i),
        metadata: { text: "lorem ipsum ".repeat(40), i },
      }));
      await store.upsert(records, ns);
      await settle();
      let listed = 0;
      for await (const page of store.allIds("bulk#", ns, 1_000)) listed += page.length;
      expect(listed).toBe(count);
    });

    it("holds metadata right up to its size limit", async () => {
      const limit = harness.store.limits.maxMetadataBytes ?? 100_000;
      const ns = freshNamespace();
      const text = "é".repeat(Math.floor((limit - 200) / 2));
      await store.upsert([{ id: "big#1", values: pseudoRandom(7), metadata: { text, n: 1 } }], ns);
      await settle();
      const [fetched] = await store.fetch(["big#1"], ns);
      expect(fetched!.metadata.text).toBe(text);
    });
  });
}
