import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, EmbedderMismatchError, type Dualstore, type DualstoreOptions, type SearchHit } from "../../src/index.js";
import { DocumentStateTable } from "../../src/sync/document-state.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { expectCleanSwitch, migrateWhileBusy, modelOf as modelOfHit, topic } from "../helpers/model-change.js";

const OLD = "local:hashing-v1:64";
const NEW = "local:hashing-v1:128";
const dirs: string[] = [];
const others: Array<Dualstore<PrismaClient>> = [];
afterAll(async () => {
  await Promise.all(others.map((ds) => ds.close()));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Opened {
  ds: Dualstore<PrismaClient>;
  count: (dimension: number) => Promise<number>;
  /** Another instance on the same database and store, as another process would open it. */
  reopen: () => Promise<Dualstore<PrismaClient>>;
}

/** pgvector in PGlite; LanceDB beside PostgreSQL (which has no pgvector here). */
async function open(target: DatabaseTarget): Promise<Opened> {
  const reopenWith = (ds: Dualstore<PrismaClient>, vectorStore: DualstoreOptions["vectorStore"]) => async () => {
    const other = (await createDualstore({
      embedder: { provider: "local", dimension: 64 },
      vectorStore,
      sync: { onWrite: "now" },
      database: { prisma: ds.prisma, schema: ds.database.schema },
      migrate: false,
      env: {},
    })) as unknown as Dualstore<PrismaClient>;
    others.push(other);
    return other;
  };
  if (target.name === "pglite") {
    const ds = await target.open({ embedder: { provider: "local", dimension: 64 }, vectorStore: { provider: "pgvector" }, sync: { onWrite: "now" } });
    const count = async (dimension: number) => {
      const [table] = await ds.prisma.$queryRawUnsafe<Array<{ name: string }>>(
        `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables WHERE table_name = $1`,
        `vectors_${dimension}`,
      );
      if (!table) return 0;
      const [row] = await ds.prisma.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM ${table.name}`);
      return row!.n;
    };
    return { ds, count, reopen: reopenWith(ds, { provider: "pgvector" }) };
  }
  const uri = await mkdtemp(join(tmpdir(), "dualstore-migration-"));
  dirs.push(uri);
  const ds = await target.open({ embedder: { provider: "local", dimension: 64 }, vectorStore: { provider: "lancedb", uri }, sync: { onWrite: "now" } });
  const count = async (dimension: number) => {
    const lancedb = await import("@lancedb/lancedb");
    const connection = await lancedb.connect(uri);
    try {
      if (!(await connection.tableNames()).includes(`vectors_${dimension}`)) return 0;
      const table = await connection.openTable(`vectors_${dimension}`);
      return await table.countRows();
    } finally {
      connection.close();
    }
  };
  return { ds, count, reopen: reopenWith(ds, { provider: "lancedb", uri }) };
}

const modelOf = (hit: SearchHit) => modelOfHit(hit, [OLD, NEW]);

/**
 * Holds the next sync claim (`claim`: the statement that leases documents to an index run;
 * `claimForDelete`: a delete's) until `release()`: a run that chose its generation's embedder
 * and store goes on only then.
 */
function holdNextClaim(method: "claim" | "claimForDelete"): { held: Promise<void>; release: () => void } {
  const table = DocumentStateTable.prototype as unknown as Record<typeof method, (...args: unknown[]) => Promise<unknown>>;
  const original = table[method];
  let reached!: () => void;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  table[method] = async function (this: DocumentStateTable, ...args: unknown[]) {
    table[method] = original;
    reached();
    await released;
    return original.apply(this, args);
  };
  return { held, release };
}

/** The document is indexed by the new model, in the new generation only, and no run holds it. */
async function expectIndexedByNew(ds: Dualstore<PrismaClient>, count: Opened["count"], id: string, initial: number): Promise<void> {
  expect(await ds.prisma.document.findUniqueOrThrow({ where: { id }, select: { indexStatus: true, embedder: true, syncToken: true } })).toEqual({
    indexStatus: "INDEXED",
    embedder: NEW,
    syncToken: null,
  });
  expect(await count(64), "nothing was written to the retired generation's table").toBe(0);
  expect(await count(128)).toBe(initial + 1);
  const [hit] = await ds.search("zebra3 river3", { userId: null, mode: "vector", topK: 1 });
  expect(hit!.document.id).toBe(id);
  expect(modelOf(hit!)).toBe(NEW);
}

describeEachDatabase(
  "changing the embedding model",
  (target) => {
    it("migrates to an embedder of another dimension while a loop searches and writes: every search answers from exactly one model, never empty; afterwards the old vectors are gone and reconcile is clean", async () => {
      const { ds, count } = await open(target);
      for (let i = 0; i < 12; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      const plan = await ds.embeddings.plan({ to: { provider: "local", dimension: 128 } });
      expect(plan).toMatchObject({ from: OLD, to: NEW, documents: 12, chunks: 12, cachedChunks: 0, estimatedCostUsd: 0 });
      expect(plan.estimatedTokens).toBeGreaterThan(12 * 8);
      expect(await count(64)).toBe(12);

      const run = await migrateWhileBusy(ds, { initial: 12, models: [OLD, NEW] }, (onProgress) =>
        ds.embeddings.migrate({ to: { provider: "local", dimension: 128 }, batchSize: 3, onProgress }),
      );
      expect(run.result).toMatchObject({ from: OLD, to: NEW });
      expect(run.result.built).toBe(run.result.documents);
      await expectCleanSwitch(ds, run, OLD, NEW, 12);

      const documents = await ds.prisma.document.findMany({ select: { embedder: true, indexStatus: true } });
      expect(documents).toHaveLength(run.written);
      expect(documents.every((d) => d.embedder === NEW && d.indexStatus === "INDEXED")).toBe(true);
      expect(await count(64)).toBe(0);
      expect(await count(128)).toBe(run.written);
      expect(await ds.prisma.indexGeneration.findMany()).toMatchObject([{ state: "LIVE", embedder: NEW, dimension: 128 }]);
      expect(await ds.prisma.generationDocument.count()).toBe(0);
      const report = await ds.reconcile();
      expect(report).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
      expect(await ds.embeddings.status()).toMatchObject({ state: "idle", live: NEW, building: null });
    });

    // A write's sync run picks the live generation's embedder and store before it claims the
    // document. When the cut-over commits in between, the run must neither write to the retired
    // generation nor keep the document: the write is indexed by the new model at once.
    it("a sync run that chose the old generation before the cut-over and claims after it: the document is indexed by the new model at once, nothing lands in the old generation", async () => {
      const { ds, count } = await open(target);
      for (let i = 0; i < 3; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      const late = await ds.documents.create({ title: "n3", source: "api", content: topic(3) }, { sync: "none" });
      const claim = holdNextClaim("claim");
      const indexing = ds.indexDocument(late.id);
      indexing.catch(() => {});
      await claim.held;
      await ds.embeddings.migrate({ to: { provider: "local", dimension: 128 } });
      claim.release();
      const outcome = await Promise.race([indexing, delay(15_000).then(() => "still waiting")]);
      expect(outcome, "indexDocument did not wait out a lease").toMatchObject({ status: "indexed" });
      await expectIndexedByNew(ds, count, late.id, 3);
    });

    it("the same when another process made the cut-over: this one, configured with the old model, gets EMBEDDER_MISMATCH at once and leaves nothing behind", async () => {
      const { ds, count, reopen } = await open(target);
      for (let i = 0; i < 3; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      const late = await ds.documents.create({ title: "n3", source: "api", content: topic(3) }, { sync: "none" });
      const migrating = await reopen();
      const claim = holdNextClaim("claim");
      const indexing = ds.indexDocument(late.id);
      indexing.catch(() => {});
      await claim.held;
      await migrating.embeddings.migrate({ to: { provider: "local", dimension: 128 } });
      claim.release();
      const outcome = await Promise.race([indexing.catch((error: unknown) => error), delay(15_000).then(() => "still waiting")]);
      expect(outcome, "indexDocument did not wait out a lease").toBeInstanceOf(EmbedderMismatchError);
      expect(await ds.prisma.document.findUniqueOrThrow({ where: { id: late.id }, select: { syncToken: true } })).toEqual({ syncToken: null });
      expect(await count(64), "nothing was written to the retired generation's table").toBe(0);
      // The process that migrated goes on with the new model.
      expect(await migrating.indexDocument(late.id)).toMatchObject({ status: "indexed" });
      await expectIndexedByNew(migrating, count, late.id, 3);
    });

    it("a delete that chose the old generation before the cut-over and claims after it: the new generation keeps no orphan of it", async () => {
      const { ds, count } = await open(target);
      const docs = [];
      for (let i = 0; i < 4; i++) docs.push(await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) }));
      const claim = holdNextClaim("claimForDelete");
      const deleting = ds.documents.delete(docs[3]!.id);
      deleting.catch(() => {});
      await claim.held;
      await ds.embeddings.migrate({ to: { provider: "local", dimension: 128 } });
      claim.release();
      await deleting;
      expect(await ds.prisma.document.count()).toBe(3);
      expect(await count(128), "the deleted document's vectors in the new generation").toBe(3);
      expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 } });
    });

    it("abort leaves the old generation intact and nothing of the new behind; a stopped migrate resumes", async () => {
      const { ds, count } = await open(target);
      for (let i = 0; i < 9; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      const stopper = new AbortController();
      await expect(
        ds.embeddings.migrate({ to: { provider: "local", dimension: 128 }, batchSize: 3, signal: stopper.signal, onProgress: (p) => p.built >= 3 && stopper.abort() }),
      ).rejects.toMatchObject({ code: "ABORTED" });
      expect(await ds.embeddings.status()).toMatchObject({ state: "building", live: OLD, building: NEW, documents: 9, built: 3 });
      expect((await ds.sync.stats()).generations).toEqual({ state: "building", live: OLD, building: NEW, documents: 9, built: 3 });
      expect(await count(128)).toBe(3);
      expect((await ds.search("zebra4 river4", { userId: null }))[0]!.document.title).toBe("n4");

      expect(await ds.embeddings.abort()).toEqual({ aborted: true, removed: 3 });
      expect(await count(128)).toBe(0);
      expect(await count(64)).toBe(9);
      expect(await ds.embeddings.status()).toMatchObject({ state: "idle", live: OLD, building: null });
      expect(await ds.prisma.generationDocument.count()).toBe(0);
      expect(modelOf((await ds.search("zebra4 river4", { userId: null }))[0]!)).toBe(OLD);

      // Stopped again, then resumed by a second call: the first batch is not embedded twice.
      const again = new AbortController();
      await expect(
        ds.embeddings.migrate({ to: { provider: "local", dimension: 128 }, batchSize: 3, signal: again.signal, onProgress: (p) => p.built >= 3 && again.abort() }),
      ).rejects.toMatchObject({ code: "ABORTED" });
      const resumed = await ds.embeddings.migrate({ to: { provider: "local", dimension: 128 }, batchSize: 3 });
      expect(resumed).toMatchObject({ documents: 9, built: 9, embedded: 6 });
      expect(await count(64)).toBe(0);
      expect(modelOf((await ds.search("zebra4 river4", { userId: null }))[0]!)).toBe(NEW);
    });
  },
  { neon: false },
);
