import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import type { Dualstore, SearchHit } from "../../src/index.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";
import { expectCleanSwitch, migrateWhileBusy, modelOf as modelOfHit, topic } from "../helpers/model-change.js";

const OLD = "local:hashing-v1:64";
const NEW = "local:hashing-v1:128";
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** pgvector in PGlite; LanceDB beside PostgreSQL (which has no pgvector here). */
async function open(target: DatabaseTarget): Promise<{ ds: Dualstore<PrismaClient>; count: (dimension: number) => Promise<number> }> {
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
    return { ds, count };
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
  return { ds, count };
}

const modelOf = (hit: SearchHit) => modelOfHit(hit, [OLD, NEW]);

describeEachDatabase(
  "changing the embedding model",
  (target) => {
    // Known defect (issue 13): on PGlite this run still stalls on a quiet machine, though it
    // finishes under load or while any timer is pending in the process; the yield before each
    // PGlite query (tests/db/event-loop-fairness.test.ts) fixed the batch transaction, not this.
    it.skipIf(target.name === "pglite")("migrates to an embedder of another dimension while a loop searches and writes: every search answers from exactly one model, never empty; afterwards the old vectors are gone and reconcile is clean", async () => {
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
