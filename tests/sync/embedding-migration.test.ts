import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import type { Dualstore, SearchHit } from "../../src/index.js";
import { chunkKeyOf, chunkKeys } from "../../src/sync/vector-ids.js";
import { describeEachDatabase, type DatabaseTarget } from "../helpers/db.js";

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

const topic = (i: number) => `Note ${i}: the zebra${i} herd crossed river${i} at dawn.`;

/** Which model made a hit's vector: its id's key is derived from the embedder and the text. */
function modelOf(hit: SearchHit): string {
  const key = chunkKeyOf(hit.chunk.vectorId);
  if (chunkKeys(OLD, [hit.chunk.text])[0] === key) return OLD;
  if (chunkKeys(NEW, [hit.chunk.text])[0] === key) return NEW;
  return "unknown";
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

      let written = 12;
      const searches: string[][] = [];
      const progress: number[] = [];
      let stop = false;
      let failed = false;
      const loop = (async () => {
        while (!stop) {
          const i = searches.length % written;
          const hits = await ds.search(`zebra${i} river${i}`, { userId: null, topK: 5 });
          expect(hits.length, `search ${searches.length} for note ${i}`).toBeGreaterThan(0);
          searches.push([...new Set(hits.map(modelOf))]);
          // New writes while the new generation is built: one after each batch it reports, at most 6.
          if (written - 12 < progress.length && written < 18) {
            await ds.documents.create({ title: `n${written}`, source: "api", content: topic(written) });
            written++;
          }
        }
      })().catch((error: unknown) => {
        failed = true;
        throw error;
      });
      let writtenAtCutOver: number;
      let result: Awaited<ReturnType<typeof ds.embeddings.migrate>>;
      try {
        result = await ds.embeddings.migrate({
          to: { provider: "local", dimension: 128 },
          batchSize: 3,
          onProgress: (p) => progress.push(p.built),
        });
        writtenAtCutOver = written;
        // Keep searching on the new model for a moment after the cut-over.
        const cutOverAt = searches.length;
        while (!failed && searches.length < cutOverAt + 5) await new Promise((resolve) => setTimeout(resolve, 5));
      } finally {
        // A failed or timed-out test must not leave the loop running.
        stop = true;
      }
      await loop;

      expect(result).toMatchObject({ from: OLD, to: NEW });
      expect(result.built).toBe(result.documents);
      expect(progress.length).toBeGreaterThan(1);
      for (const models of searches) expect(models.length === 1 && models[0] !== "unknown", JSON.stringify(models)).toBe(true);
      expect(searches.slice(-3).every(([model]) => model === NEW)).toBe(true);
      expect(searches.some(([model]) => model === OLD)).toBe(true);

      const documents = await ds.prisma.document.findMany({ select: { embedder: true, indexStatus: true } });
      expect(documents).toHaveLength(written);
      expect(documents.every((d) => d.embedder === NEW && d.indexStatus === "INDEXED")).toBe(true);
      expect(await count(64)).toBe(0);
      expect(await count(128)).toBe(written);
      expect(await ds.prisma.indexGeneration.findMany()).toMatchObject([{ state: "LIVE", embedder: NEW, dimension: 128 }]);
      expect(await ds.prisma.generationDocument.count()).toBe(0);
      const report = await ds.reconcile();
      expect(report).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
      expect(await ds.embeddings.status()).toMatchObject({ state: "idle", live: NEW, building: null });

      // Writes made while the new generation was built reach it: found, by the new model, after the cut-over.
      expect(writtenAtCutOver, "documents were written while the new generation was built").toBeGreaterThan(12);
      for (let i = 12; i < writtenAtCutOver; i++) {
        const [hit] = await ds.search(`zebra${i} river${i}`, { userId: null, mode: "vector", topK: 1 });
        expect(hit!.document.title).toBe(`n${i}`);
        expect(modelOf(hit!)).toBe(NEW);
      }
    });

    it("abort leaves the old generation intact and nothing of the new behind; a stopped migrate resumes", async () => {
      const { ds, count } = await open(target);
      for (let i = 0; i < 9; i++) await ds.documents.create({ title: `n${i}`, source: "api", content: topic(i) });
      const stopper = new AbortController();
      await expect(
        ds.embeddings.migrate({ to: { provider: "local", dimension: 128 }, batchSize: 3, signal: stopper.signal, onProgress: (p) => p.built >= 3 && stopper.abort() }),
      ).rejects.toMatchObject({ code: "ABORTED" });
      expect(await ds.embeddings.status()).toMatchObject({ state: "building", live: OLD, building: NEW, documents: 9, built: 3 });
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
