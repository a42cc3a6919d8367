// The whole index → search → re-index → delete flow on the production providers, through their
// real SDKs against the protocol servers (and LanceDB for real in a temp directory).
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dualstore, DualstoreOptions } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { eventually } from "../helpers/eventually.js";
import { tempDir } from "../helpers/paths.js";
import { article } from "../helpers/text.js";
import { startCohereServer, type CohereServer } from "../servers/cohere-server.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

let pinecone: PineconeServer;
let openai: OpenAIServer;
let cohere: CohereServer;
const directories: string[] = [];
beforeAll(async () => {
  [pinecone, openai, cohere] = await Promise.all([startPineconeServer({ visibilityDelayMs: 20 }), startOpenAIServer(), startCohereServer()]);
});
afterAll(async () => {
  await Promise.all([pinecone?.close(), openai?.close(), cohere?.close()]);
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

let indexCounter = 0;
const fast = { maxRetries: 2, minDelayMs: 5, maxDelayMs: 20 };
const setups: Record<string, () => Partial<DualstoreOptions>> = {
  "Pinecone + OpenAI, a namespace per tenant": () => ({
    vectorStore: { provider: "pinecone", apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, index: `flow-openai-${++indexCounter}`, createIfMissing: { cloud: "aws", region: "us-east-1" } },
    embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1` },
    chunker: { chunkSize: 64, overlap: 8 },
    sync: { namespacing: "per-user", retry: fast, onWrite: "none" },
  }),
  "Pinecone + Cohere": () => ({
    vectorStore: { provider: "pinecone", apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, index: `flow-cohere-${++indexCounter}`, createIfMissing: { cloud: "aws", region: "us-east-1" } },
    embedder: { provider: "cohere", apiKey: cohere.apiKey, baseUrl: cohere.url, model: "embed-v4.0", outputDimension: 1024 },
    chunker: { chunkSize: 64, overlap: 8 },
    sync: { retry: fast, onWrite: "none" },
  }),
  "LanceDB + local": () => {
    const dir = tempDir("dualstore-lancedb-");
    directories.push(dir);
    return { vectorStore: { provider: "lancedb", uri: dir }, embedder: { provider: "local" }, chunker: { chunkSize: 64, overlap: 8 }, sync: { retry: fast, onWrite: "none" } };
  },
};

// The flow through each provider pair is the vector side's: these searches ask it alone (hybrid search has tests of its own).
async function fullFlow(ds: Dualstore): Promise<void> {
  const store = ds.vectorStore!;
  const alice = await ds.users.create({ email: `alice${Math.random().toString(36).slice(2)}@example.com` });
  const bob = await ds.users.create({ email: `bob${Math.random().toString(36).slice(2)}@example.com` });
  const paragraphs = article(1, 24).split("\n\n");
  paragraphs[3] = "The okapi is a giraffid native to the Congo rainforest.";
  const mine = await ds.documents.create({ userId: alice.id, title: "Okapi", source: "upload", content: paragraphs.join("\n\n"), tags: ["animals"] });
  const theirs = await ds.documents.create({ userId: bob.id, title: "Bob's okapi notes", source: "upload", content: "okapi giraffid secrets of bob" });
  const shared = await ds.documents.create({ userId: null, title: "Handbook", source: "system", content: "Public handbook: okapi facts for everyone." });
  expect(await ds.indexDocuments([mine.id, theirs.id, shared.id])).toMatchObject({ indexed: 3, failed: 0 });

  await eventually(async () => {
    const hits = await ds.search("okapi giraffid Congo rainforest", { userId: alice.id, minScore: -1, topK: 10, mode: "vector" });
    expect(hits[0]!.document.id).toBe(mine.id);
    expect(hits.map((h) => h.document.id)).toContain(shared.id);
    expect(hits.map((h) => h.document.id)).not.toContain(theirs.id);
  });

  paragraphs[3] = "The axolotl is a salamander that keeps its larval features for life.";
  await ds.documents.update(mine.id, { content: paragraphs.join("\n\n") });
  const reindex = await ds.indexDocument(mine.id);
  expect(reindex.status).toBe("indexed");
  expect(reindex.embedded).toBeGreaterThan(0);
  expect(reindex.embedded).toBeLessThan(reindex.chunks);
  await eventually(async () => {
    const hits = await ds.search("axolotl salamander larval", { userId: alice.id, minScore: -1, topK: 3, mode: "vector" });
    expect(hits[0]!.document.id).toBe(mine.id);
    expect(hits[0]!.chunk.text).toContain("axolotl");
    const old = await ds.search("Congo rainforest giraffid", { userId: alice.id, minScore: -1, topK: 10, mode: "vector" });
    expect(old.some((h) => h.document.id === mine.id && h.chunk.text.includes("Congo"))).toBe(false);
  });
  const namespace = (await ds.documents.get(mine.id)).vectorNamespace ?? "";
  await eventually(async () => {
    const listed = (await store.listIds({ prefix: `${mine.id}#`, namespace, limit: 1_000 })).ids;
    expect(listed.sort()).toEqual([...(await ds.documents.get(mine.id)).vectorIds].sort());
  });

  await ds.documents.delete(mine.id);
  await eventually(async () => {
    expect((await ds.search("axolotl okapi", { userId: alice.id, minScore: -1, topK: 10, mode: "vector" })).map((h) => h.document.id)).not.toContain(mine.id);
    expect((await store.listIds({ prefix: `${mine.id}#`, namespace, limit: 1_000 })).ids).toEqual([]);
  });
  await eventually(async () => {
    expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 } });
  });
}

for (const [name, options] of Object.entries(setups)) {
  describeEachDatabase(`full flow: ${name}`, (target: DatabaseTarget) => {
    it("indexes, finds, re-indexes only what changed, deletes, and reconciles clean", async () => {
      await fullFlow(await target.open(options()));
    });
  }, { neon: name.startsWith("Pinecone + OpenAI") });
}

describe("configuration from the environment", () => {
  it("builds Pinecone and OpenAI from PINECONE_* and OPENAI_API_KEY when no options are given", async () => {
    const { createDualstore } = await import("../../src/index.js");
    const seeded = await startPineconeServer({ indexes: [{ name: "from-env", dimension: 1536 }] });
    const ds = await createDualstore({
      database: { driver: "pglite" },
      env: { PINECONE_API_KEY: seeded.apiKey, PINECONE_HOST: seeded.indexHost("from-env"), OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: `${openai.url}/v1` },
    });
    try {
      expect(ds.vectorStore!.name).toBe("pinecone");
      expect(ds.embedder!.id).toBe("openai:text-embedding-3-small:1536");
      expect((await ds.health()).status).toBe("up");
    } finally {
      await ds.close();
      await seeded.close();
    }
  });
});
