// Proof under load and faults: the Pinecone and OpenAI protocol servers fail about 20% of
// requests at random (seeded: 500s, 503s, dropped connections, 429s), while several workers
// index and then delete hundreds of documents. Everything must converge, counts exact.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDualstore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { article } from "../helpers/text.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";
import type { PrismaClient } from "../../src/db/prisma.js";

let pinecone: PineconeServer;
let openai: OpenAIServer;
beforeAll(async () => {
  [pinecone, openai] = await Promise.all([startPineconeServer({ retryAfterSeconds: 0 }), startOpenAIServer({ retryAfterSeconds: 0 })]);
});
afterAll(async () => Promise.all([pinecone?.close(), openai?.close()]));

const DOCUMENTS = 500;
const WORKERS = 3;

describeEachDatabase("convergence under random provider failures", (target) => {
  it(`indexes and deletes ${DOCUMENTS} documents with ${WORKERS} workers while ~20% of requests fail`, async () => {
    const index = `flaky-${target.name}`;
    const options: Partial<DualstoreOptions> = {
      vectorStore: { provider: "pinecone", apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, index, createIfMissing: { cloud: "aws", region: "us-east-1" }, requestTimeoutMs: 2_000 },
      embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1`, model: "text-embedding-3-small", dimensions: 256 },
      chunker: { chunkSize: 64, overlap: 8 },
      // Dropped connections leave writes of unknown outcome, swept one lease later: a short lease keeps that within the drain.
      sync: { leaseMs: 5_000, retry: { maxRetries: 2, minDelayMs: 5, maxDelayMs: 40 }, jobs: { maxAttempts: 12, baseDelayMs: 10, maxDelayMs: 200 } },
    };
    const first = await target.open(options);
    // PGlite is one in-process database: its workers share an instance. PostgreSQL gets one
    // instance (one pool) per worker, as separate processes would.
    const workers: Dualstore<PrismaClient>[] =
      target.name === "pglite"
        ? Array.from({ length: WORKERS }, () => first)
        : [first, ...(await Promise.all(Array.from({ length: WORKERS - 1 }, async () => createDualstore<PrismaClient>({ ...options, database: { url: firstUrl(first) }, env: {} }))))];
    try {
      const users = [await first.users.create({ email: `a-${target.name}@example.com` }), await first.users.create({ email: `b-${target.name}@example.com` })];
      const ids: string[] = [];
      for (let i = 0; i < DOCUMENTS; i++) {
        ids.push((await first.documents.create({ userId: users[i % 2]!.id, title: `doc ${i}`, source: "api", content: article(i, 3) })).id);
      }

      pinecone.faults.setRandomFailureRate(0.2, 1337, ["500", "503", "drop", "429"]);
      openai.faults.setRandomFailureRate(0.2, 7331, ["500", "503", "drop", "429"]);
      await Promise.all(workers.map((ds) => ds.sync.drain({ batchSize: 16, waitForRetries: true, timeoutMs: 120_000 })));

      const doomed = ids.filter((_, i) => i % 2 === 1);
      await first.transaction(async (tx) => {
        for (const id of doomed) await tx.documents.delete(id);
      });
      await Promise.all(workers.map((ds) => ds.sync.drain({ batchSize: 16, waitForRetries: true, timeoutMs: 120_000 })));
      pinecone.faults.clear();
      openai.faults.clear();

      const injected = [...pinecone.requests, ...openai.requests].filter((r) => r.fault !== undefined).length;
      const total = pinecone.requests.length + openai.requests.length;
      expect(injected / total).toBeGreaterThan(0.1);
      expect(await first.prisma.syncJob.count({ where: { status: { not: "DONE" } } })).toBe(0);

      const survivors = await first.prisma.document.findMany({ select: { id: true, vectorIds: true, indexStatus: true, vectorNamespace: true } });
      expect(survivors.map((d) => d.id).sort()).toEqual(ids.filter((_, i) => i % 2 === 0).sort());
      pinecone.settle();
      const stored = pinecone.storedVectors(index).map((v) => v.id);
      const recorded = survivors.flatMap((d) => d.vectorIds);
      expect(survivors.every((d) => d.indexStatus === "INDEXED")).toBe(true);
      expect(stored.sort()).toEqual([...recorded].sort());
      expect(await first.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, stuck: { indexing: [], deleting: [] } });
    } finally {
      pinecone.faults.clear();
      openai.faults.clear();
      if (target.name !== "pglite") await Promise.all(workers.slice(1).map((ds) => ds.close()));
    }
  }, 300_000);
}, { neon: false });

/** The connection URL of an open instance's schema on the test server (for extra workers). */
function firstUrl(ds: Dualstore<PrismaClient>): string {
  return `${process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test"}?schema=${ds.database.schema}`;
}
