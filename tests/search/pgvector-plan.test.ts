// pgvector on PGlite (which never runs autovacuum): after a bulk load the store gathers the
// table's statistics itself, so the planner walks the HNSW index instead of sorting every vector.
import { afterAll, beforeAll, expect, it, describe } from "vitest";
import { createDualstore, type Dualstore, type QueryEvent } from "../../src/index.js";
import { filterToSql } from "../../src/vector-stores/pgvector/pgvector-filter.js";
import { inList } from "../../src/vector-stores/filter.js";
import type { PrismaClient } from "../../src/db/prisma.js";

// Few dimensions keep the HNSW inserts quick; the planner's choice depends on the row count.
const DIMENSION = 16;
const ROWS = 5_000;

function randomVector(seed: number): number[] {
  let state = seed;
  return Array.from({ length: DIMENSION }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648 - 0.5;
  });
}

describe("pgvector on PGlite", () => {
  let ds: Dualstore<PrismaClient>;
  const statements: QueryEvent[] = [];

  beforeAll(async () => {
    ds = (await createDualstore({
      database: { driver: "pglite", onQuery: (event) => statements.push(event) },
      vectorStore: { provider: "pgvector" },
      // The store's table takes the embedder's dimension; nothing here embeds any text.
      embedder: { id: "plan-test", dimension: DIMENSION, maxBatchSize: 1, embedDocuments: async () => [], embedQuery: async () => randomVector(1) },
    })) as Dualstore<PrismaClient>;
    const store = ds.vectorStore!;
    for (let start = 0; start < ROWS; start += 500) {
      const records = Array.from({ length: 500 }, (_, i) => ({
        id: `doc${start + i}#1.k`,
        values: randomVector(start + i + 1),
        metadata: { owner: `user${(start + i) % 7}`, documentId: `doc${start + i}` },
      }));
      await store.upsert(records, "");
    }
  }, 300_000);
  afterAll(async () => {
    await ds?.close();
  });

  const plan = async (filtered: boolean): Promise<string> => {
    statements.length = 0;
    const vector = randomVector(424_242);
    const filter = filtered ? inList("owner", ["user3", "__public__"]) : undefined;
    await ds.vectorStore!.query({ vector, topK: 20, namespace: "", includeMetadata: false, ...(filter ? { filter } : {}) });
    const sql = statements.map((event) => event.sql).find((text) => text.includes("<=>"))!;
    const params: unknown[] = [`[${vector.join(",")}]`, "", 20];
    if (filter) filterToSql(filter, params);
    const rows = await ds.prisma.$queryRawUnsafe<Array<{ "QUERY PLAN": string }>>(`EXPLAIN ${sql}`, ...params);
    return rows.map((row) => row["QUERY PLAN"]).join("\n");
  };

  it("has statistics after a bulk upsert, without any autovacuum", async () => {
    const [stats] = await ds.prisma.$queryRawUnsafe<Array<{ rows: number }>>(
      `SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'dualstore_vectors.vectors_16'::regclass`,
    );
    expect(stats!.rows).toBeGreaterThanOrEqual(ROWS / 2);
  });

  it("plans a nearest-neighbour query through the HNSW index, filtered by owner or not", async () => {
    expect(await plan(false)).toMatch(/Index Scan using vectors_16_embedding_hnsw/);
    expect(await plan(true)).toMatch(/Index Scan using vectors_16_embedding_hnsw/);
  });
});
