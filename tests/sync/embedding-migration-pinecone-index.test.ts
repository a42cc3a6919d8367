// Changing the embedding model on Pinecone to one of another dimension (the real SDK against the
// protocol server): a Pinecone index has one dimension, so the new generation goes to another
// index, created on demand, beside the old one.
import { Pinecone } from "@pinecone-database/pinecone";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore, type DualstoreOptions, type EmbedderConfig, type VectorStoreConfig } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { expectCleanSwitch, migrateWhileBusy, modelOf, topic } from "../helpers/model-change.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

const OLD = "openai:text-embedding-3-small:64";
const NEW = "openai:text-embedding-3-large:32";

let pinecone: PineconeServer;
let openai: OpenAIServer;
const others: Array<Dualstore<PrismaClient>> = [];
/** Instances this file opened on databases of their own; closed after those that share their client. */
const owners: Array<Dualstore<PrismaClient>> = [];
beforeAll(async () => {
  [pinecone, openai] = await Promise.all([startPineconeServer({ visibilityDelayMs: 20 }), startOpenAIServer()]);
});
afterAll(async () => {
  await Promise.all(others.map((ds) => ds.close()));
  await Promise.all(owners.map((ds) => ds.close()));
  await Promise.all([pinecone?.close(), openai?.close()]);
});

let indexCounter = 0;
const fast = { maxRetries: 2, minDelayMs: 5, maxDelayMs: 20 };
const oldEmbedder = (): EmbedderConfig => ({ provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1`, model: "text-embedding-3-small", dimensions: 64 });
const newEmbedder = (): EmbedderConfig => ({ provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1`, model: "text-embedding-3-large", dimensions: 32 });

interface Opened {
  ds: Dualstore<PrismaClient>;
  oldIndex: string;
  newIndex: string;
  store: (index: string) => VectorStoreConfig;
  /** Another instance on the same database, as another process would open it. */
  reopen: (options: Pick<DualstoreOptions, "embedder" | "vectorStore" | "env">) => Promise<Dualstore<PrismaClient>>;
}

/** The old index named by `index` (or, with `byHost`, reached by its host as PINECONE_HOST gives it), created on demand. */
async function open(target: DatabaseTarget, byHost = false): Promise<Opened> {
  const oldIndex = `dim-${target.name}-${++indexCounter}`;
  const newIndex = `${oldIndex}-d32`;
  const store = (index: string): VectorStoreConfig => ({
    provider: "pinecone",
    apiKey: pinecone.apiKey,
    controllerHostUrl: pinecone.url,
    index,
    createIfMissing: { cloud: "aws", region: "us-east-1" },
  });
  let ds: Dualstore<PrismaClient>;
  if (byHost) {
    // The old index exists already, and this process knows it by its host alone.
    const control = new Pinecone({ apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, maxRetries: 0 });
    await control.createIndex({ name: oldIndex, dimension: 64, metric: "cosine", spec: { serverless: { cloud: "aws", region: "us-east-1" } }, waitUntilReady: true });
    // Keys and host from the environment, as a deployment gives them (target.open() clears env).
    ds = (await createDualstore({
      embedder: oldEmbedder(),
      vectorStore: { provider: "pinecone", controllerHostUrl: pinecone.url },
      env: { PINECONE_API_KEY: pinecone.apiKey, PINECONE_HOST: pinecone.indexHost(oldIndex) },
      sync: { onWrite: "now", retry: fast },
      database: await target.freshDatabase(),
    })) as unknown as Dualstore<PrismaClient>;
    owners.push(ds);
  } else {
    ds = await target.open({ embedder: oldEmbedder(), vectorStore: store(oldIndex), sync: { onWrite: "now", retry: fast } });
  }
  const reopen = async (options: Pick<DualstoreOptions, "embedder" | "vectorStore" | "env">) => {
    const other = (await createDualstore({
      env: {},
      ...options,
      sync: { onWrite: "now", retry: fast },
      database: { prisma: ds.prisma, schema: ds.database.schema },
      migrate: false,
    })) as unknown as Dualstore<PrismaClient>;
    others.push(other);
    return other;
  };
  return { ds, oldIndex, newIndex, store, reopen };
}

/** Every vector the index will hold, in any namespace, once writes are visible. */
function allVectors(index: string): string[] {
  return pinecone.storedVectors(index).map((v) => v.id);
}

describeEachDatabase(
  "changing the embedding model on Pinecone to another dimension, in another index",
  (target) => {
    for (const byHost of [false, true]) {
      const how = byHost ? " (the old index reached by PINECONE_HOST)" : "";
      it(`plans the new index, builds it while a loop searches and writes: every search answers from exactly one model, never empty; afterwards the old index is empty, reconcile is clean, writes land in the new index and a process configured for it answers${how}`, async () => {
        const { ds, oldIndex, newIndex, store, reopen } = await open(target, byHost);
        for (let i = 0; i < 12; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
        pinecone.settle();
        expect(allVectors(oldIndex)).toHaveLength(12);
        const to = newEmbedder();
        const vectorStore = store(newIndex);
        expect(await ds.embeddings.plan({ to, vectorStore })).toMatchObject({ from: OLD, to: NEW, store: `pinecone:${newIndex}/`, documents: 12, chunks: 12 });
        // A plan writes nothing: no index is created for it.
        expect(() => pinecone.storedVectors(newIndex)).toThrow(/no index named/);

        const run = await migrateWhileBusy(ds, { initial: 12, models: [OLD, NEW] }, (onProgress) => ds.embeddings.migrate({ to, vectorStore, batchSize: 3, onProgress }));
        expect(run.result).toMatchObject({ from: OLD, to: NEW, removed: expect.any(Number) });
        await expectCleanSwitch(ds, run, OLD, NEW, 12);

        pinecone.settle();
        expect(allVectors(oldIndex), "the old index holds no vector of the old generation").toEqual([]);
        const built = pinecone.storedVectors(newIndex);
        expect(built).toHaveLength(run.written);
        expect(built.every((v) => v.values.length === 32)).toBe(true);
        const documents = await ds.prisma.document.findMany({ select: { vectorIds: true, embedder: true } });
        expect(documents.every((d) => d.embedder === NEW)).toBe(true);
        expect(new Set(built.map((v) => v.id))).toEqual(new Set(documents.flatMap((d) => d.vectorIds)));
        const generations = await ds.prisma.indexGeneration.findMany();
        expect(generations).toMatchObject([{ state: "LIVE", embedder: NEW, dimension: 32, store: `pinecone:${newIndex}/` }]);
        // The record names the place and no key.
        expect(generations[0]!.storeConfig).toEqual({ provider: "pinecone", index: newIndex });
        expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 }, building: null });

        // A write after the cut-over goes to the new index only.
        const late = await ds.documents.create({ title: "late", source: "api", content: "The late heron waded through marsh99." });
        pinecone.settle();
        expect(allVectors(oldIndex)).toEqual([]);
        expect(pinecone.storedVectors(newIndex).map((v) => v.id)).toEqual(expect.arrayContaining((await ds.prisma.document.findUniqueOrThrow({ where: { id: late.id } })).vectorIds));
        expect(pinecone.storedVectors(newIndex)).toHaveLength(run.written + 1);
        const [hit] = await ds.search("heron marsh99", { userId: null, mode: "vector", topK: 1 });
        expect(hit!.document.title).toBe("late");
        expect(modelOf(hit!, [OLD, NEW])).toBe(NEW);

        // Another process, configured with the new model and the new index, answers from it.
        const other = await reopen({ embedder: newEmbedder(), vectorStore: store(newIndex) });
        expect((await other.health()).status).toBe("up");
        const [found] = await other.search("zebra3 river3", { userId: null, mode: "vector", topK: 1 });
        expect(found!.document.title).toBe("n3");
        expect(modelOf(found!, [OLD, NEW])).toBe(NEW);
        // And one still configured with the old model is told so, never answered from the wrong index.
        const stale = await reopen({ embedder: oldEmbedder(), vectorStore: store(oldIndex) });
        await expect(stale.search("zebra3 river3", { userId: null, mode: "vector", topK: 1 })).rejects.toMatchObject({ code: "EMBEDDER_MISMATCH" });
        expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });

        // The recorded index deleted behind dualstore's back: a process configured for yet another
        // index opens (its own), is told the place differs, and never creates the recorded one again.
        await new Pinecone({ apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, maxRetries: 0 }).deleteIndex(newIndex);
        const astray = await reopen({ embedder: newEmbedder(), vectorStore: store(`${newIndex}-x`) });
        expect(await astray.health()).toMatchObject({ status: "degraded", index: { status: "down", error: expect.stringContaining(`pinecone:${newIndex}/`) } });
        expect(() => pinecone.storedVectors(newIndex)).toThrow(/no index named/);
      });

      it(`abort deletes what was built in the new index and leaves the old index and its searches as they were${how}`, async () => {
        const { ds, oldIndex, newIndex, store, reopen } = await open(target, byHost);
        for (let i = 0; i < 9; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
        pinecone.settle();
        const before = pinecone.storedVectors(oldIndex);
        expect(before).toHaveLength(9);
        const stopper = new AbortController();
        const to = newEmbedder();
        await expect(
          ds.embeddings.migrate({ to, vectorStore: store(newIndex), batchSize: 3, signal: stopper.signal, onProgress: (p) => p.built >= 6 && stopper.abort() }),
        ).rejects.toMatchObject({ code: "ABORTED" });
        pinecone.settle();
        expect(pinecone.storedVectors(newIndex)).toHaveLength(6);
        expect(await ds.embeddings.status()).toMatchObject({ state: "building", live: OLD, building: NEW, built: 6 });
        // Meanwhile the live index answers with the old model, in this process and in one
        // configured with the new model and the new index (it can embed for the old one).
        const [during] = await ds.search("zebra7 river7", { userId: null, mode: "vector", topK: 1 });
        expect(modelOf(during!, [OLD, NEW])).toBe(OLD);
        // (Deployed beside the first: the same environment, PINECONE_HOST included when the old index came from it.)
        const environment = { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: `${openai.url}/v1`, ...(byHost ? { PINECONE_HOST: pinecone.indexHost(oldIndex) } : {}) };
        const ahead = await reopen({ embedder: newEmbedder(), vectorStore: store(newIndex), env: environment });
        expect((await ahead.health()).status).toBe("up");
        const [early] = await ahead.search("zebra7 river7", { userId: null, mode: "vector", topK: 1 });
        expect(early!.document.title).toBe("n7");
        expect(modelOf(early!, [OLD, NEW])).toBe(OLD);

        expect(await ds.embeddings.abort()).toEqual({ aborted: true, removed: 6 });
        pinecone.settle();
        expect(pinecone.storedVectors(newIndex)).toEqual([]);
        expect(pinecone.storedVectors(oldIndex)).toEqual(before);
        expect(await ds.embeddings.status()).toMatchObject({ state: "idle", live: OLD, building: null });
        expect(await ds.prisma.indexGeneration.findMany()).toMatchObject([{ state: "LIVE", embedder: OLD }]);
        const [hit] = await ds.search("zebra4 river4", { userId: null, mode: "vector", topK: 1 });
        expect(hit!.document.title).toBe("n4");
        expect(modelOf(hit!, [OLD, NEW])).toBe(OLD);
        await ds.documents.create({ title: "after", source: "api", content: topic(40) });
        pinecone.settle();
        expect(pinecone.storedVectors(oldIndex)).toHaveLength(10);
        expect(pinecone.storedVectors(newIndex)).toEqual([]);
        expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 }, building: null });
      });

      it(`a migration stopped in one process is finished by another configured with the new model and the new index, which deletes the old index's vectors${how}`, async () => {
        const { ds, oldIndex, newIndex, store, reopen } = await open(target, byHost);
        for (let i = 0; i < 6; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
        const stopper = new AbortController();
        await expect(
          ds.embeddings.migrate({ to: newEmbedder(), vectorStore: store(newIndex), batchSize: 3, signal: stopper.signal, onProgress: (p) => p.built >= 3 && stopper.abort() }),
        ).rejects.toMatchObject({ code: "ABORTED" });
        const environment = { OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: `${openai.url}/v1`, ...(byHost ? { PINECONE_HOST: pinecone.indexHost(oldIndex) } : {}) };
        const next = await reopen({ embedder: newEmbedder(), vectorStore: store(newIndex), env: environment });
        expect(await next.embeddings.migrate({ to: newEmbedder(), vectorStore: store(newIndex), batchSize: 3 })).toMatchObject({ from: OLD, to: NEW, documents: 6, built: 6, removed: 6 });
        pinecone.settle();
        expect(pinecone.storedVectors(oldIndex)).toEqual([]);
        expect(pinecone.storedVectors(newIndex)).toHaveLength(6);
        const [hit] = await next.search("zebra2 river2", { userId: null, mode: "vector", topK: 1 });
        expect(hit!.document.title).toBe("n2");
        expect(modelOf(hit!, [OLD, NEW])).toBe(NEW);
        expect(await next.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 }, building: null });
      });
    }
  },
  { neon: false },
);
