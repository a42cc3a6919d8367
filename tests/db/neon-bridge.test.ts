// dualstore's Neon driver (@prisma/adapter-neon over @neondatabase/serverless's WebSocket Pool)
// against the real PostgreSQL, through the local wsproxy stand-in in tests/servers/neon-bridge.ts.
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDualstore, type Dualstore } from "../../src/index.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { startNeonBridge, type NeonBridge } from "../servers/neon-bridge.js";
import type { PrismaClient } from "../../src/db/prisma.js";

// The driver never resolves this host: the bridge tunnels every connection to TEST_DATABASE_URL's
// server, so a query that works proves it went through the bridge.
const NEON_HOST = "ep-bridge-test.local.invalid";
// Trust authentication ignores it; nothing dualstore prints may show it.
const PASSWORD = "Nq3-bridge-password-4417";

(postgresAvailable ? describe : describe.skip)("dualstore over Neon's serverless driver through a local WebSocket bridge", () => {
  const schema = uniqueSchema("neon_bridge");
  let bridge: NeonBridge;
  let ds: Dualstore<PrismaClient>;

  const target = new URL(TEST_DATABASE_URL);
  const port = Number(target.port || 5432);

  beforeAll(async () => {
    bridge = await startNeonBridge({ targetHost: target.hostname, targetPort: port });
    const url = new URL(TEST_DATABASE_URL);
    url.hostname = NEON_HOST;
    url.port = String(port);
    url.password = PASSWORD;
    url.searchParams.set("schema", schema);
    ds = await createDualstore<PrismaClient>({
      database: { url: url.toString(), driver: "neon", neon: bridge.neonSettings, poolSize: 4 },
      env: {},
      vectorStore: null,
    });
  });

  afterAll(async () => {
    try {
      await ds?.close();
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await bridge?.close();
    }
  });

  it("opens with the neon driver in the schema the URL names", () => {
    expect(ds.database.driver).toBe("neon");
    expect(ds.database.schema).toBe(schema);
  });

  it("migrates on open into the URL's schema, and a second migrate() applies nothing", async () => {
    const tables = await adminQuery<{ table_name: string }>(
      "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
      [schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["_prisma_migrations", "User", "Document"]));

    const again = await ds.migrate();
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBeGreaterThan(0);
  });

  it("pins every pooled connection to the schema, so unqualified raw SQL finds dualstore's tables", async () => {
    // Concurrent queries that each hold their connection a moment make the pool open several.
    const rows = await Promise.all(
      Array.from({ length: 4 }, () =>
        ds.prisma.$queryRawUnsafe<Array<{ schema: string; pid: number; migrations: number }>>(
          `SELECT current_schema()::text AS schema, pg_backend_pid() AS pid,
                  (SELECT count(*)::int FROM _prisma_migrations) AS migrations
             FROM pg_sleep(0.1)`,
        ),
      ),
    );
    const results = rows.flat();
    expect(new Set(results.map((r) => r.pid)).size).toBeGreaterThan(1);
    for (const result of results) {
      expect(result.schema).toBe(schema);
      expect(result.migrations).toBeGreaterThan(0);
    }
  });

  it("reports the database up in health()", async () => {
    const report = await ds.health();
    expect(report.status).toBe("up");
    expect(report.database.status).toBe("up");
    expect(report.database.target).toContain(NEON_HOST);
  });

  it("creates, reads, updates and deletes users and documents, String[] tags and Json metadata included", async () => {
    const user = await ds.prisma.user.create({ data: { email: `neon-${schema}@example.com`, name: "Neon" } });
    const metadata = { source: { kind: "upload", pages: [1, 2, 3] }, reviewed: false, note: "ünïcødé ✓" };
    const created = await ds.prisma.document.create({
      data: { userId: user.id, title: "Bridge notes", source: "api", content: "hello", tags: ["neon", "bridge"], metadata },
    });
    expect(created.tags).toEqual(["neon", "bridge"]);
    expect(created.metadata).toEqual(metadata);

    const read = await ds.prisma.document.findUniqueOrThrow({ where: { id: created.id }, include: { chunks: true } });
    expect(read.userId).toBe(user.id);
    expect(read.chunks).toEqual([]);
    expect(read.tags).toEqual(["neon", "bridge"]);
    expect(read.metadata).toEqual(metadata);

    await ds.prisma.document.update({ where: { id: created.id }, data: { tags: { push: "updated" }, metadata: { reviewed: true } } });
    const tagged = await ds.prisma.document.findMany({ where: { tags: { has: "updated" } } });
    expect(tagged.map((d) => d.id)).toEqual([created.id]);
    expect(tagged[0]?.tags).toEqual(["neon", "bridge", "updated"]);
    expect(tagged[0]?.metadata).toEqual({ reviewed: true });

    // The rows are really in PostgreSQL, in the test's schema.
    const [stored] = await adminQuery<{ tags: string[] }>(`SELECT tags FROM "${schema}"."Document" WHERE id = $1`, [created.id]);
    expect(stored?.tags).toEqual(["neon", "bridge", "updated"]);

    await ds.prisma.document.delete({ where: { id: created.id } });
    await ds.prisma.user.delete({ where: { id: user.id } });
    expect(await ds.prisma.document.count({ where: { id: created.id } })).toBe(0);
  });

  it("commits an interactive transaction that returns and rolls back one that throws", async () => {
    const kept = await ds.prisma.$transaction(async (tx) => tx.user.create({ data: { email: `kept-${schema}@example.com` } }));
    expect(await ds.prisma.user.findUnique({ where: { id: kept.id } })).not.toBeNull();

    const email = `rolled-back-${schema}@example.com`;
    await expect(
      ds.prisma.$transaction(async (tx) => {
        const user = await tx.user.create({ data: { email } });
        await tx.document.create({ data: { userId: user.id, title: "doomed", source: "api", tags: ["x"] } });
        expect(await tx.user.count({ where: { email } })).toBe(1);
        throw new Error("abort the transaction");
      }),
    ).rejects.toThrow("abort the transaction");
    expect(await ds.prisma.user.count({ where: { email } })).toBe(0);
    expect(await ds.prisma.document.count({ where: { title: "doomed" } })).toBe(0);
  });

  it("prints the instance and its Prisma client without the password", async () => {
    await ds.prisma.user.count(); // a pooled connection exists
    for (const value of [ds, ds.database]) expect(inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(PASSWORD);
    expect(inspect(ds.prisma, { depth: 3 })).not.toContain(PASSWORD);
  });

  it("leaves the process-wide neonConfig alone: the proxy settings apply to dualstore's pool only", async () => {
    const { neonConfig } = await import("@neondatabase/serverless");
    expect(neonConfig.wsProxy).not.toBe(bridge.neonSettings.wsProxy);
    expect(neonConfig.useSecureWebSocket).toBe(true);
  });

  it("carried every connection through the bridge, for the host the URL names", () => {
    expect(bridge.connections).toBeGreaterThan(0);
    expect(new Set(bridge.requestedAddresses)).toEqual(new Set([`${NEON_HOST}:${port}`]));
  });

  it("ends every pooled connection when the dualstore closes", async () => {
    expect(bridge.openConnections).toBeGreaterThan(0);
    await ds.close();
    await vi.waitFor(() => expect(bridge.openConnections).toBe(0), { timeout: 5_000 });
  });
});
