import { afterEach, expect, it, vi } from "vitest";
import { executeSql, queryRows } from "../../src/db/direct-sql.js";
import type { PrismaClient } from "../../src/db/prisma.js";
import { DatabaseError, MemoryVectorStore, type QueryEvent } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { CountingEmbedder } from "../helpers/doubles.js";

/** Every column type the direct statements read (search's hydration, a delete's claim), and nulls. */
const EVERY_TYPE = `SELECT 7::int AS int, 9007199254740993::int8 AS big, 1.5::float8 AS double, 0.25::real AS real, true AS yes, 'text'::text AS text,
  '2026-01-02T03:04:05.678Z'::timestamptz AS at, '{"a":[1,{"b":null}]}'::jsonb AS json, ARRAY['x','y']::text[] AS tags,
  ARRAY[]::text[] AS none, NULL::text AS nothing, $1::text[] AS ids, $2::boolean AS flag, $3::float8 AS number`;

afterEach(() => vi.restoreAllMocks());

describeEachDatabase("direct statements (hot paths past Prisma's raw query pipeline)", (target) => {
  it("return the values Prisma's $queryRawUnsafe returns, and count the rows $executeRawUnsafe counts", async () => {
    const ds = await target.open({ vectorStore: null });
    const prisma = ds.prisma as unknown as PrismaClient;
    const args = [["a", "b"], true, 2.5];
    const raw = vi.spyOn(prisma, "$queryRawUnsafe");
    const direct = await queryRows(prisma, EVERY_TYPE, ...args);
    // Past Prisma: its raw query API never ran.
    expect(raw).not.toHaveBeenCalled();
    raw.mockRestore();
    expect(direct).toEqual(await prisma.$queryRawUnsafe(EVERY_TYPE, ...args));
    expect(direct[0]).toMatchObject({ at: new Date("2026-01-02T03:04:05.678Z"), big: 9007199254740993n, json: { a: [1, { b: null }] }, tags: ["x", "y"] });

    const user = await ds.users.create({ email: "direct@example.com" });
    expect(await executeSql(prisma, `UPDATE "User" SET email = email WHERE id = ANY($1::text[])`, [user.id, "missing"])).toBe(1);
  });

  it("fail as a DatabaseError naming the database's message", async () => {
    const ds = await target.open({ vectorStore: null });
    await expect(queryRows(ds.prisma as unknown as PrismaClient, "SELECT * FROM no_such_table")).rejects.toThrow(DatabaseError);
    await expect(queryRows(ds.prisma as unknown as PrismaClient, "SELECT * FROM no_such_table")).rejects.toThrow(/no_such_table/);
  });

  it("a delete is two statements, both still reported to database.onQuery, and no Prisma raw query", async () => {
    const events: QueryEvent[] = [];
    const ds = await target.open({
      // The recorded generation is read again once its last read is over 2 s old: not the delete's cost.
      database: { onQuery: (event) => void (/^\s*SELECT\b[\s\S]*"IndexGeneration"/.test(event.sql) || events.push(event)) },
      vectorStore: new MemoryVectorStore(),
      embedder: new CountingEmbedder(),
      sync: { onWrite: "now" },
    });
    const document = await ds.documents.create({ userId: null, title: "t", source: "api", content: "some words to index" });
    const prisma = ds.prisma as unknown as PrismaClient;
    const raw = vi.spyOn(prisma, "$queryRawUnsafe");
    const execute = vi.spyOn(prisma, "$executeRawUnsafe");
    events.length = 0;
    await ds.documents.delete(document.id);
    expect(events.map((event) => event.sql.trim().split(/\s+/)[0]!.toUpperCase())).toEqual(["WITH", "DELETE"]);
    expect(raw).not.toHaveBeenCalled();
    expect(execute).not.toHaveBeenCalled();
    await expect(ds.documents.get(document.id)).rejects.toThrow(/not found/i);
  });
});
