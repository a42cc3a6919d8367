// Search with its vector side down: the real Pinecone and OpenAI SDKs against the protocol
// servers, made to fail with injected faults and then by closing their ports.
import { afterAll, beforeAll, expect, it } from "vitest";
import { ProviderError, type Dualstore, type LogFields } from "../../src/index.js";
import type { PrismaClient } from "../../src/db/prisma.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

describeEachDatabase("search with the embedder or the vector store down", (target) => {
  let pinecone: PineconeServer;
  let openai: OpenAIServer;
  let ds: Dualstore<PrismaClient>;
  const warnings: Array<{ message: string; fields?: LogFields }> = [];
  const ids = { alice: "", bob: "", mine: "", theirs: "", shared: "" };

  beforeAll(async () => {
    [pinecone, openai] = await Promise.all([startPineconeServer(), startOpenAIServer()]);
    ds = await target.open({
      vectorStore: { provider: "pinecone", apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, index: "degrade", createIfMissing: { cloud: "aws", region: "us-east-1" } },
      embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1` },
      sync: { namespacing: "per-user", onWrite: "none", retry: { maxRetries: 1, minDelayMs: 5, maxDelayMs: 10 } },
      logger: { debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push({ message, fields }) },
    });
    ids.alice = (await ds.users.create({ email: "alice-degrade@example.com" })).id;
    ids.bob = (await ds.users.create({ email: "bob-degrade@example.com" })).id;
    ids.mine = (await ds.documents.create({ userId: ids.alice, title: "Okapi", source: "upload", content: "The okapi is a giraffid of the Congo rainforest." })).id;
    ids.theirs = (await ds.documents.create({ userId: ids.bob, title: "Bob's okapi", source: "upload", content: "Bob's secret okapi giraffid notes." })).id;
    ids.shared = (await ds.documents.create({ userId: null, title: "Handbook", source: "system", content: "Public handbook: okapi facts." })).id;
    expect(await ds.indexDocuments([ids.mine, ids.theirs, ids.shared])).toMatchObject({ indexed: 3, failed: 0 });
  });
  afterAll(async () => {
    await Promise.all([pinecone?.close(), openai?.close()]);
  });

  const lexicalOnly = async (component: "embedder" | "vectorStore") => {
    warnings.length = 0;
    const hits = await ds.search("okapi giraffid", { userId: ids.alice, topK: 10 });
    expect(hits.map((hit) => hit.document.id).sort()).toEqual([ids.mine, ids.shared].sort());
    expect(hits.every((hit) => hit.vectorScore === undefined && hit.lexicalScore! > 0)).toBe(true);
    expect(hits.degraded).toMatchObject({ component });
    // Still an array of hits: the flag is not enumerable.
    expect(Object.keys(hits)).toEqual(hits.map((_, i) => String(i)));
    expect(JSON.stringify(hits.degraded)).not.toContain(openai.apiKey);
    expect(JSON.stringify(hits.degraded)).not.toContain(pinecone.apiKey);
    const logged = warnings.filter((warning) => warning.message.includes("lexical side"));
    expect(logged).toEqual([expect.objectContaining({ fields: expect.objectContaining({ component }) })]);
    return hits;
  };

  it("answers from both sides, with no degraded flag, while both providers are up", async () => {
    const hits = await ds.search("okapi giraffid", { userId: ids.alice, topK: 10, minScore: -1 });
    expect(hits.degraded).toBeUndefined();
    expect(hits.some((hit) => hit.vectorScore !== undefined)).toBe(true);
    expect(hits.map((hit) => hit.document.id)).not.toContain(ids.theirs);
  });

  it("returns the lexical hits, flagged, when the embedder answers 503", async () => {
    openai.faults.next("503", { times: Number.POSITIVE_INFINITY, match: "embeddings" });
    try {
      const hits = await lexicalOnly("embedder");
      expect(hits.degraded!.code).toBe("PROVIDER");
      expect((await ds.health()).status).toBe("degraded");
      // Asked for meaning only, search fails as before.
      await rejectsWith(ds.search("okapi", { userId: ids.alice, mode: "vector" }), ProviderError);
    } finally {
      openai.faults.clear();
    }
  });

  it("returns the lexical hits, flagged, when the vector store's queries fail", async () => {
    pinecone.faults.next("500", { times: Number.POSITIVE_INFINITY, match: "/query" });
    try {
      await lexicalOnly("vectorStore");
    } finally {
      pinecone.faults.clear();
    }
  });

  it("returns the lexical hits, flagged, when the vector store's and then the embedder's port is closed", async () => {
    await pinecone.close();
    await lexicalOnly("vectorStore");
    expect((await ds.health()).vectorStore!.status).toBe("down");
    await openai.close();
    await lexicalOnly("embedder");
    const health = await ds.health();
    expect(health).toMatchObject({ status: "degraded", database: { status: "up" }, embedder: { status: "down" } });
  });
});
