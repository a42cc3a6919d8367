// Sync leases with real worker processes (tests/helpers/sync-worker-process.ts) against
// PostgreSQL and the Pinecone protocol server: stalls past the lease, SIGKILL at random points,
// and a chaos run, each ending with the queue drained and reconcile finding nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore, type DualstoreOptions, type User } from "../../src/index.js";
import { ensureBuilt } from "../helpers/build.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { eventually } from "../helpers/eventually.js";
import { startWorkerProcess, stopWorkerProcesses, type WorkerProcess } from "../helpers/worker-processes.js";
import { article, seededRandom } from "../helpers/text.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

const LEASE_MS = 2_000;
const INDEX = "leases";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const servers: PineconeServer[] = [];
const opened: Array<Dualstore<PrismaClient>> = [];
const schemas: string[] = [];

beforeAll(() => ensureBuilt(), 300_000);

afterAll(async () => {
  await Promise.all(opened.map((ds) => ds.close()));
  await Promise.all(servers.map((server) => server.close()));
  for (const schema of schemas) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

interface Setup {
  app: Dualstore<PrismaClient>;
  /** What the app and its workers run with: the same database, store, embedder, chunker and lease. */
  options: DualstoreOptions;
  /** A Pinecone server of the test's own, so that its faults hit only its requests. */
  server: PineconeServer;
  user: User;
}

async function setup(): Promise<Setup> {
  const schema = uniqueSchema("lease");
  schemas.push(schema);
  const server = await startPineconeServer({ indexes: [{ name: INDEX, dimension: 384 }], retryAfterSeconds: 0 });
  servers.push(server);
  const options: DualstoreOptions = {
    database: { url: `${TEST_DATABASE_URL}?schema=${schema}`, poolSize: 3 },
    vectorStore: { provider: "pinecone", apiKey: server.apiKey, controllerHostUrl: server.url, index: INDEX },
    embedder: { provider: "local" },
    chunker: { chunkSize: 96, overlap: 8 },
    sync: { leaseMs: LEASE_MS, retry: { maxRetries: 2, minDelayMs: 10, maxDelayMs: 50 }, jobs: { maxAttempts: 100, baseDelayMs: 20, maxDelayMs: 200 } },
  };
  const app = (await createDualstore({ ...options, env: {} })) as unknown as Dualstore<PrismaClient>;
  opened.push(app);
  const user = await app.users.create({ email: `${schema}@example.com` });
  return { app, options, server, user };
}

/** Ids of the vectors the store holds for a document. */
function storedIds(server: PineconeServer, documentId: string): string[] {
  return server
    .storedVectors(INDEX)
    .map((vector) => vector.id)
    .filter((id) => id.startsWith(`${documentId}#`))
    .sort();
}

/** Waits until no job is pending or running (sweeps included), failing on a dead one. */
async function drained(app: Dualstore<PrismaClient>, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const dead = await app.prisma.syncJob.findFirst({ where: { status: "DEAD" } });
      if (dead) throw new Error(`a sync job died: ${dead.kind} ${dead.documentId}: ${dead.lastError}`);
      expect(await app.prisma.syncJob.count({ where: { status: { in: ["PENDING", "RUNNING"] } } })).toBe(0);
    },
    timeoutMs,
    100,
  );
}

/** The consistency every test ends with: reconcile finds nothing, and each row lists exactly what the store holds. */
async function expectConsistent({ app, server }: Setup): Promise<void> {
  expect(await app.reconcile()).toMatchObject({
    orphans: { count: 0 },
    missing: { count: 0 },
    mismatched: { count: 0 },
    stuck: { indexing: [], deleting: [] },
  });
  for (const row of await app.prisma.document.findMany({ select: { id: true, vectorIds: true, indexStatus: true, tags: true } })) {
    expect(row.indexStatus).toBe("INDEXED");
    expect(storedIds(server, row.id)).toEqual([...row.vectorIds].sort());
    const tags = server.storedVectors(INDEX).filter((vector) => vector.id.startsWith(`${row.id}#`)).map((vector) => vector.metadata?.tags);
    for (const stored of tags) expect(stored).toEqual(row.tags);
  }
}

const stalledRequest = (server: PineconeServer, path: string) =>
  eventually(
    async () => {
      const request = server.requests.find((r) => r.fault !== undefined && r.path.endsWith(path) && r.status === undefined);
      if (!request) throw new Error(`no ${path} request held yet`);
      return request;
    },
    60_000,
    20,
  );

// Concurrent: each test has its own schema and Pinecone server, and spends most of its time waiting out leases.
(postgresAvailable ? describe.concurrent : describe.skip)("sync leases across worker processes [postgres]", () => {
  it("sequence 1: an upsert that stalled past its run's lease lands after the next run's commit and changes nothing it recorded", async () => {
    const s = await setup();
    const { app, options, server, user } = s;
    const doc = await app.documents.create({ userId: user.id, title: "retagged", source: "api", content: article(61, 4), tags: ["delta", "beta"] });
    const landing = deferred();
    server.faults.next("stall", { match: "/vectors/upsert", until: landing.promise });
    const workers = [startWorkerProcess(options), startWorkerProcess(options)];
    try {
      const stalled = await stalledRequest(server, "/vectors/upsert");
      await app.documents.update(doc.id, { tags: ["gamma"] });
      // Run 1 makes no progress; run 2 (in either process) takes the lease it lost, upserts with [gamma] and commits.
      await eventually(async () => expect(await app.documents.get(doc.id)).toMatchObject({ indexStatus: "INDEXED", tags: ["gamma"] }), 60_000, 50);
      // Run 1's upsert, tagged [delta, beta], lands now.
      landing.resolve();
      await eventually(async () => expect(stalled.status).toBe(200), 10_000, 20);

      const found = async (tag: string) => (await app.search("document", { userId: user.id, tags: [tag], minScore: -1, topK: 50 })).map((hit) => hit.document.id);
      expect(await found("delta")).toEqual([]);
      expect(await found("gamma")).toContain(doc.id);
      await drained(app);
      await expectConsistent(s);
    } finally {
      landing.resolve();
      await stopWorkerProcesses(workers);
    }
  });

  it("sequence 2: a delete that stalled past its run's lease lands after the next run re-upserted the text and removes nothing it recorded", async () => {
    const s = await setup();
    const { app, options, server, user } = s;
    const original = article(62, 4);
    const doc = await app.documents.create({ userId: user.id, title: "undone", source: "api", content: original });
    const workers = [startWorkerProcess(options), startWorkerProcess(options)];
    const landing = deferred();
    try {
      await eventually(async () => expect(await app.documents.get(doc.id)).toMatchObject({ indexStatus: "INDEXED" }), 60_000, 50);
      server.faults.next("stall", { match: "/vectors/delete", until: landing.promise });
      await app.documents.update(doc.id, { content: article(63, 4) });
      const stalled = await stalledRequest(server, "/vectors/delete");
      // Run 1 committed the edit and is deleting the original's vectors: the app undoes the edit.
      await app.documents.update(doc.id, { content: original });
      await eventually(async () => expect(await app.documents.get(doc.id)).toMatchObject({ indexStatus: "INDEXED", content: original }), 60_000, 50);
      // Run 1's delete of the original's vectors lands now.
      landing.resolve();
      await eventually(async () => expect(stalled.status).toBe(200), 10_000, 20);

      const stored = storedIds(server, doc.id);
      for (const id of (await app.documents.get(doc.id)).vectorIds) expect(stored).toContain(id);
      expect((await app.search(original.slice(0, 80), { userId: user.id, minScore: 0 }))[0]?.document.id).toBe(doc.id);
      await drained(app);
      await expectConsistent(s);
    } finally {
      landing.resolve();
      await stopWorkerProcesses(workers);
    }
  });

  it("sweeps the old vectors of a worker killed after its commit but before deleting them, without reconcile", async () => {
    const s = await setup();
    const { app, options, server, user } = s;
    const doc = await app.documents.create({ userId: user.id, title: "killed", source: "api", content: article(64, 4) });
    const first = startWorkerProcess(options);
    const workers = [first];
    try {
      await eventually(async () => expect(await app.documents.get(doc.id)).toMatchObject({ indexStatus: "INDEXED" }), 60_000, 50);
      // The delete of the old vectors is read and never answered nor applied; the worker dies there.
      server.faults.next("timeout", { match: "/vectors/delete" });
      await app.documents.update(doc.id, { content: article(65, 4) });
      await eventually(async () => expect(server.requests.some((r) => r.fault === "timeout")).toBe(true), 60_000, 20);
      first.child.kill("SIGKILL");
      workers.push(startWorkerProcess(options));
      await first.exited;
      const recorded = [...(await app.documents.get(doc.id)).vectorIds].sort();
      expect(storedIds(server, doc.id).length).toBeGreaterThan(recorded.length);
      await drained(app);
      expect(storedIds(server, doc.id)).toEqual(recorded);
      await expectConsistent(s);
    } finally {
      await stopWorkerProcesses(workers);
    }
  });

  it("converges with workers SIGKILLed at random, stores stalling past the lease and failing, and the app writing throughout", async () => {
    const s = await setup();
    const { app, options, server, user } = s;
    const random = seededRandom(4242);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const tagSets = [["delta", "beta"], ["gamma"], ["alpha", "gamma"], []];
    const live: string[] = [];
    for (let i = 0; i < 16; i++) live.push((await app.documents.create({ userId: user.id, title: `chaos ${i}`, source: "api", content: article(700 + i, 3), tags: pick(tagSets) })).id);

    const workers = [startWorkerProcess(options), startWorkerProcess(options), startWorkerProcess(options)];
    const started = new Set<WorkerProcess>();
    const track = (worker: WorkerProcess) => worker.ready.then(() => started.add(worker), () => undefined);
    workers.forEach(track);
    await Promise.all(workers.map((worker) => worker.ready));
    // Stalls last a lease: every one outlives the lease of the run that sent it.
    server.faults.setRandomFailureRate(0.25, 99, ["429", "503", "drop", "partial", "stall", "stall", "stall"], { match: "/vectors/", stallMs: LEASE_MS });
    try {
      const until = Date.now() + 10_000;
      let nextKill = Date.now() + 1_000;
      for (let step = 0; Date.now() < until; step++) {
        const action = random();
        if (action < 0.4) await app.documents.update(pick(live), { content: article(800 + step, 3) });
        else if (action < 0.7) await app.documents.update(pick(live), { tags: pick(tagSets) });
        else if (action < 0.85 && live.length > 8) await app.documents.delete(live.splice(Math.floor(random() * live.length), 1)[0]!, { sync: "enqueue" });
        else live.push((await app.documents.create({ userId: user.id, title: `chaos new ${step}`, source: "api", content: article(900 + step, 3) })).id);
        const running = workers.filter((worker) => started.has(worker));
        if (Date.now() >= nextKill && running.length > 0) {
          // A worker that is up, killed wherever it is; a new one takes its place.
          const victim = pick(running);
          workers.splice(workers.indexOf(victim), 1);
          victim.child.kill("SIGKILL");
          const replacement = startWorkerProcess(options);
          void track(replacement);
          workers.push(replacement);
          // And, whatever the random faults do, a write that stalls past its run's lease and a failure.
          server.faults.next("stall", { match: pick(["/vectors/upsert", "/vectors/delete"]), stallMs: LEASE_MS });
          server.faults.next(pick(["429", "503", "drop", "partial"] as const), { match: "/vectors/" });
          nextKill = Date.now() + 1_000 + random() * 1_500;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 + random() * 200));
      }
      server.faults.clear();
      const faults = server.requests.filter((r) => r.fault !== undefined);
      expect(faults.some((r) => r.fault === "stall")).toBe(true);
      expect(faults.some((r) => r.fault !== "stall")).toBe(true);
      // Every stalled request lands (or is dropped with its killed sender) before the queue is judged.
      await eventually(async () => expect(server.requests.filter((r) => r.fault === "stall" && r.status === undefined)).toEqual([]), 30_000, 50);
      await drained(app);
      expect((await app.prisma.document.findMany({ select: { id: true } })).map((d) => d.id).sort()).toEqual([...live].sort());
      await expectConsistent(s);
    } finally {
      server.faults.clear();
      await stopWorkerProcesses(workers);
    }
  });
});
