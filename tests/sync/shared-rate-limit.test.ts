// Shared flow control: four worker processes (tests/helpers/sync-worker-process.ts, each with
// its own connection pool) drain one PostgreSQL outbox against a rate-limited OpenAI protocol
// server, with the shared limit off and on.
import { beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { ensureBuilt } from "../helpers/build.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { startWorkerProcess, stopWorkerProcesses } from "../helpers/worker-processes.js";
import { startOpenAIServer } from "../servers/openai-server.js";

const WORKERS = 4;
const DOCUMENTS = 24;
/** The provider's limit: 2 requests a second (worker processes on a loaded machine make about 5). */
const PROVIDER_PER_MINUTE = 120;

async function drainWithWorkers(rateLimit: NonNullable<DualstoreOptions["sync"]>["rateLimit"]) {
  const openai = await startOpenAIServer({ rateLimit: { requestsPerMinute: PROVIDER_PER_MINUTE } });
  const schema = uniqueSchema("ratelimit");
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set("schema", schema);
  const options: DualstoreOptions = {
    database: { url: url.toString(), poolSize: 2 },
    embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1` },
    vectorStore: { provider: "memory" },
    sync: {
      onWrite: "none",
      embedConcurrency: 1,
      retry: { maxRetries: 3, minDelayMs: 50, maxDelayMs: 1_000 },
      jobs: { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 1_000 },
      ...(rateLimit ? { rateLimit } : {}),
    },
  };
  const ds = (await createDualstore({ ...options, env: {} })) as unknown as Dualstore<PrismaClient>;
  // One document per batch, so each batch is one embedding request.
  const workers = Array.from({ length: WORKERS }, () => startWorkerProcess(options, { batchSize: 1, pollMs: 20 }));
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    const ids: string[] = [];
    for (let i = 0; i < DOCUMENTS; i++) ids.push((await ds.documents.create({ userId: null, title: `doc ${i}`, source: "api", content: `a short note number ${i}` })).id);
    openai.requests.length = 0;
    const started = performance.now();
    // Every job at once, in one statement: all four workers find work on their next poll.
    await ds.sync.enqueue(ids);
    while ((await ds.prisma.document.count({ where: { indexStatus: "INDEXED" } })) < DOCUMENTS && performance.now() - started < 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const elapsedMs = performance.now() - started;
    const embeddings = openai.requests.filter((request) => request.path.endsWith("/embeddings"));
    return {
      indexed: await ds.prisma.document.count({ where: { indexStatus: "INDEXED" } }),
      tooMany: embeddings.filter((request) => request.status === 429).length,
      ok: embeddings.filter((request) => request.status === 200).length,
      elapsedMs,
    };
  } finally {
    await stopWorkerProcesses(workers);
    await ds.close();
    await openai.close();
    await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

beforeAll(() => (postgresAvailable ? ensureBuilt() : undefined), 300_000);

(postgresAvailable ? describe : describe.skip)("shared flow control [postgres]", () => {
  it("keeps 429s of four worker processes at least 10x below independent workers' at the same throughput or better", async () => {
    const off = await drainWithWorkers(undefined);
    // The provider's own limit, shared by every worker through the database.
    const on = await drainWithWorkers({ requestsPerMinute: PROVIDER_PER_MINUTE });
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
