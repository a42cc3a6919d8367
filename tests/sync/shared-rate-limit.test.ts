// Shared flow control: four dualstore instances on one PostgreSQL database (each with its own
// connection pool, as four processes have) drain one outbox against a rate-limited OpenAI
// protocol server, with the shared limit off and on.
import { describe, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { startOpenAIServer } from "../servers/openai-server.js";

const WORKERS = 4;
const DOCUMENTS = 48;
/** The provider's limit: 10 requests a second. */
const PROVIDER_PER_MINUTE = 600;

async function drainWithWorkers(rateLimit: NonNullable<DualstoreOptions["sync"]>["rateLimit"]) {
  const openai = await startOpenAIServer({ rateLimit: { requestsPerMinute: PROVIDER_PER_MINUTE } });
  const schema = uniqueSchema("ratelimit");
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set("schema", schema);
  const instances: Array<Dualstore<PrismaClient>> = [];
  try {
    for (let i = 0; i < WORKERS; i++) {
      instances.push(
        (await createDualstore({
          database: { url: url.toString(), poolSize: 2 },
          embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1` },
          vectorStore: { provider: "memory" },
          env: {},
          sync: {
            onWrite: "enqueue",
            embedConcurrency: 1,
            retry: { maxRetries: 3, minDelayMs: 50, maxDelayMs: 1_000 },
            jobs: { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 1_000 },
            ...(rateLimit ? { rateLimit } : {}),
          },
        })) as unknown as Dualstore<PrismaClient>,
      );
    }
    const [first] = instances;
    for (let i = 0; i < DOCUMENTS; i++) await first!.documents.create({ userId: null, title: `doc ${i}`, source: "api", content: `a short note number ${i}` });
    openai.requests.length = 0;
    const started = performance.now();
    // One document per batch, so each batch is one embedding request.
    await Promise.all(instances.map((ds) => ds.sync.drain({ batchSize: 1, waitForRetries: true, timeoutMs: 120_000 })));
    const elapsedMs = performance.now() - started;
    const embeddings = openai.requests.filter((request) => request.path.endsWith("/embeddings"));
    return {
      indexed: await first!.prisma.document.count({ where: { indexStatus: "INDEXED" } }),
      tooMany: embeddings.filter((request) => request.status === 429).length,
      ok: embeddings.filter((request) => request.status === 200).length,
      elapsedMs,
    };
  } finally {
    await Promise.all(instances.map((ds) => ds.close()));
    await openai.close();
    await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

(postgresAvailable ? describe : describe.skip)("shared flow control [postgres]", () => {
  it("keeps 429s at least 10x below independent workers' at the same throughput or better", async () => {
    const off = await drainWithWorkers(undefined);
    // 90% of the provider's limit, shared by every worker through the database.
    const on = await drainWithWorkers({ requestsPerMinute: PROVIDER_PER_MINUTE * 0.9 });
    console.warn(
      `[shared flow control] off: ${off.tooMany} x 429, ${off.ok} ok, ${Math.round(off.elapsedMs)} ms; on: ${on.tooMany} x 429, ${on.ok} ok, ${Math.round(on.elapsedMs)} ms`,
    );
    expect(off.indexed).toBe(DOCUMENTS);
    expect(on.indexed).toBe(DOCUMENTS);
    expect(off.tooMany).toBeGreaterThanOrEqual(10);
    expect(on.tooMany * 10).toBeLessThanOrEqual(off.tooMany);
    // Throughput: documents per second no lower than without the shared limit (10% slack for a shared machine).
    expect(on.elapsedMs).toBeLessThanOrEqual(off.elapsedMs * 1.1);
  }, 300_000);
});
