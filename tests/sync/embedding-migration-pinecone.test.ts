// Changing the embedding model on Pinecone (the real SDK against the protocol server): the new
// model has the same dimension, so the new generation goes to another namespace prefix of the
// same index, beside the old one.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import type { Dualstore, EmbedderConfig, OpenAIEmbeddingModel, VectorStoreConfig } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { expectCleanSwitch, migrateWhileBusy, modelOf, topic } from "../helpers/model-change.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

const OLD = "openai:text-embedding-3-small:64";
const NEW = "openai:text-embedding-3-large:64";
const PREFIX = "v2-";

let pinecone: PineconeServer;
let openai: OpenAIServer;
beforeAll(async () => {
  [pinecone, openai] = await Promise.all([startPineconeServer({ visibilityDelayMs: 20 }), startOpenAIServer()]);
});
afterAll(async () => {
  await Promise.all([pinecone?.close(), openai?.close()]);
});

let indexCounter = 0;
const fast = { maxRetries: 2, minDelayMs: 5, maxDelayMs: 20 };

async function open(target: DatabaseTarget): Promise<{
  ds: Dualstore<PrismaClient>;
  index: string;
  embedder: (model: OpenAIEmbeddingModel) => EmbedderConfig;
  store: (prefix?: string) => VectorStoreConfig;
}> {
  const index = `migration-${target.name}-${++indexCounter}`;
  const embedder = (model: OpenAIEmbeddingModel) => ({ provider: "openai" as const, apiKey: openai.apiKey, baseURL: `${openai.url}/v1`, model, dimensions: 64 });
  const store = (prefix?: string) => ({
    provider: "pinecone" as const,
    apiKey: pinecone.apiKey,
    controllerHostUrl: pinecone.url,
    index,
    createIfMissing: { cloud: "aws" as const, region: "us-east-1" },
    ...(prefix === undefined ? {} : { namespacePrefix: prefix }),
  });
  const ds = await target.open({ embedder: embedder("text-embedding-3-small"), vectorStore: store(), sync: { onWrite: "now", retry: fast } });
  return { ds, index, embedder, store };
}

describeEachDatabase(
  "changing the embedding model on Pinecone",
  (target) => {
    it("builds the new model's vectors under a new namespace prefix while a loop searches and writes: every search answers from exactly one model, never empty; afterwards the old namespace is empty and reconcile is clean", async () => {
      const { ds, index, embedder, store } = await open(target);
      for (let i = 0; i < 12; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      pinecone.settle();
      expect(pinecone.storedVectors(index)).toHaveLength(12);
      const to = embedder("text-embedding-3-large");
      const vectorStore = store(PREFIX);
      expect(await ds.embeddings.plan({ to, vectorStore })).toMatchObject({ from: OLD, to: NEW, store: `pinecone:${index}/${PREFIX}`, documents: 12 });

      const run = await migrateWhileBusy(ds, { initial: 12, models: [OLD, NEW] }, (onProgress) => ds.embeddings.migrate({ to, vectorStore, batchSize: 3, onProgress }));
      expect(run.result).toMatchObject({ from: OLD, to: NEW });
      await expectCleanSwitch(ds, run, OLD, NEW, 12);

      pinecone.settle();
      expect(pinecone.storedVectors(index)).toEqual([]);
      const built = pinecone.storedVectors(index, PREFIX);
      expect(built).toHaveLength(run.written);
      const documents = await ds.prisma.document.findMany({ select: { vectorIds: true, embedder: true } });
      expect(documents.every((d) => d.embedder === NEW)).toBe(true);
      expect(new Set(built.map((v) => v.id))).toEqual(new Set(documents.flatMap((d) => d.vectorIds)));
      expect(await ds.prisma.indexGeneration.findMany()).toMatchObject([{ state: "LIVE", embedder: NEW, store: `pinecone:${index}/${PREFIX}` }]);
      expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
    });

    it("abort deletes the new prefix's vectors and leaves the old namespace and its searches as they were", async () => {
      const { ds, index, embedder, store } = await open(target);
      for (let i = 0; i < 9; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      pinecone.settle();
      const before = pinecone.storedVectors(index);
      const stopper = new AbortController();
      const to = embedder("text-embedding-3-large");
      await expect(
        ds.embeddings.migrate({ to, vectorStore: store(PREFIX), batchSize: 3, signal: stopper.signal, onProgress: (p) => p.built >= 6 && stopper.abort() }),
      ).rejects.toMatchObject({ code: "ABORTED" });
      pinecone.settle();
      expect(pinecone.storedVectors(index, PREFIX)).toHaveLength(6);

      expect(await ds.embeddings.abort({ vectorStore: store(PREFIX) })).toEqual({ aborted: true, removed: 6 });
      pinecone.settle();
      expect(pinecone.storedVectors(index, PREFIX)).toEqual([]);
      expect(pinecone.storedVectors(index)).toEqual(before);
      expect(await ds.embeddings.status()).toMatchObject({ state: "idle", live: OLD, building: null });
      const [hit] = await ds.search("zebra4 river4", { userId: null, mode: "vector", topK: 1 });
      expect(hit!.document.title).toBe("n4");
      expect(modelOf(hit!, [OLD, NEW])).toBe(OLD);
      expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
    });
  },
  { neon: false },
);
