import { expect, it, describe } from "vitest";
import { ClosedError, ConfigurationError, createDualstore } from "../../src/index.js";
import { parseDatabaseUrl } from "../../src/db/database.js";
import { describeEachDatabase, postgresAvailable, TEST_DATABASE_URL, uniqueSchema, adminQuery } from "../helpers/db.js";
import { tempDir } from "../helpers/paths.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describe("database.url", () => {
  it("picks PGlite in memory when absent, and PGlite on disk for file: URLs and paths", () => {
    expect(parseDatabaseUrl(undefined)).toEqual({ kind: "pglite", dataDir: undefined });
    expect(parseDatabaseUrl("memory://")).toEqual({ kind: "pglite", dataDir: undefined });
    expect(parseDatabaseUrl("file:./data/db")).toEqual({ kind: "pglite", dataDir: "./data/db" });
    expect(parseDatabaseUrl("file:///var/lib/db")).toEqual({ kind: "pglite", dataDir: "/var/lib/db" });
    expect(parseDatabaseUrl("/var/lib/db")).toEqual({ kind: "pglite", dataDir: "/var/lib/db" });
  });

  it("picks PostgreSQL for postgres:// URLs and lifts Prisma's schema parameter out of the URL", () => {
    expect(parseDatabaseUrl("postgresql://u:p@db.example.com:5432/app?schema=tenant&sslmode=require")).toEqual({
      kind: "postgres",
      url: "postgresql://u:p@db.example.com:5432/app?sslmode=require",
      host: "db.example.com",
      schema: "tenant",
    });
    expect(parseDatabaseUrl("postgres://h/db")).toMatchObject({ kind: "postgres", schema: undefined });
  });

  it("rejects unknown schemes and contradictory drivers with a message naming the option", () => {
    expect(() => parseDatabaseUrl("mysql://h/db")).toThrow(ConfigurationError);
    expect(() => parseDatabaseUrl("mysql://h/db")).toThrow(/database\.url/);
    expect(() => parseDatabaseUrl("postgres://h/db", "pglite")).toThrow(/database\.url/);
    expect(() => parseDatabaseUrl(undefined, "neon")).toThrow(/database\.url/);
  });

  it("checks plain options before opening anything", async () => {
    await expect(createDualstore<PrismaClient>({ database: { poolSize: 0 } })).rejects.toThrow(/database\.poolSize/);
    await expect(createDualstore<PrismaClient>({ database: { driver: "mysql" as "pglite" } })).rejects.toThrow(/database\.driver/);
  });

  it("falls back to DATABASE_URL from the environment", async () => {
    const ds = await createDualstore<PrismaClient>({ env: { DATABASE_URL: "postgresql://user:hunter2secret@127.0.0.1:1/none" }, migrate: false, vectorStore: null });
    try {
      expect(ds.database.driver).toBe("node-postgres");
      expect(ds.database.location).not.toContain("hunter2secret");
    } finally {
      await ds.close();
    }
  });
});

describe("health()", () => {
  it("reports an unreachable database as down, with latency and without the password", async () => {
    const ds = await createDualstore<PrismaClient>({
      database: { url: "postgresql://user:hunter2secret@127.0.0.1:1/none" },
      migrate: false,
      env: {},
      vectorStore: null,
    });
    try {
      const report = await ds.health();
      expect(report.status).toBe("down");
      expect(report.database.status).toBe("down");
      expect(report.database.error).toBeTruthy();
      expect(report.database.latencyMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(report)).not.toContain("hunter2secret");
    } finally {
      await ds.close();
    }
  });
});

describeEachDatabase("a dualstore instance", (target) => {
  it("reports the database up with its driver and latency", async () => {
    const ds = await target.open();
    const report = await ds.health();
    expect(report.status).toBe("up");
    expect(report.database).toMatchObject({ status: "up", target: ds.database.location });
    expect(ds.database.driver).toBe({ pglite: "pglite", postgres: "node-postgres", neon: "neon" }[target.name]);
  });

  it("refuses work after close(), and close() is idempotent", async () => {
    const ds = await createDualstore<PrismaClient>({ database: await target.freshDatabase(), env: {}, vectorStore: null });
    await ds.close();
    await ds.close();
    await expect(ds.migrate()).rejects.toBeInstanceOf(ClosedError);
  });
});

it("persists a PGlite database in a directory across instances", async () => {
  const dir = tempDir();
  const first = await createDualstore<PrismaClient>({ database: { url: `file:${dir}` }, env: {}, vectorStore: null });
  await first.prisma.user.create({ data: { email: "kept@example.com" } });
  await first.close();
  const second = await createDualstore<PrismaClient>({ database: { url: dir }, env: {}, vectorStore: null });
  try {
    expect(await second.prisma.user.findUnique({ where: { email: "kept@example.com" } })).not.toBeNull();
    expect((await second.migrate()).applied).toEqual([]);
  } finally {
    await second.close();
  }
});

it.runIf(postgresAvailable)("keeps each schema's tables apart on one PostgreSQL database [postgres]", async () => {
  const [a, b] = [uniqueSchema(), uniqueSchema()];
  const dsA = await createDualstore<PrismaClient>({ database: { url: `${TEST_DATABASE_URL}?schema=${a}` }, env: {}, vectorStore: null });
  const dsB = await createDualstore<PrismaClient>({ database: { url: TEST_DATABASE_URL, schema: b }, env: {}, vectorStore: null });
  try {
    await dsA.prisma.user.create({ data: { email: "only-in-a@example.com" } });
    expect(await dsB.prisma.user.count()).toBe(0);
    const [row] = await adminQuery<{ n: string }>(`SELECT count(*)::text AS n FROM "${a}"."User"`);
    expect(row?.n).toBe("1");
  } finally {
    await dsA.close();
    await dsB.close();
    await adminQuery(`DROP SCHEMA IF EXISTS "${a}" CASCADE`);
    await adminQuery(`DROP SCHEMA IF EXISTS "${b}" CASCADE`);
  }
});

describe("options", () => {
  it("names the sync option that is out of range, before opening anything", async () => {
    await expect(createDualstore<PrismaClient>({ sync: { leaseMs: 5 } })).rejects.toThrow(/sync\.leaseMs/);
    await expect(createDualstore<PrismaClient>({ sync: { onWrite: "later" as "now" } })).rejects.toThrow(/sync\.onWrite/);
    await expect(createDualstore<PrismaClient>({ sync: { retry: { maxRetries: -1 } } })).rejects.toThrow(/sync\.retry\.maxRetries/);
    await expect(createDualstore<PrismaClient>({ sync: { jobs: { maxAttempts: 0 } } })).rejects.toThrow(/sync\.jobs\.maxAttempts/);
  });
});
