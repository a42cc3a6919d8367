// The server that shares a PGlite directory with other processes: sessions take turns whole, so
// concurrent parameterised queries and transactions from several connections, and the holding
// process's own transactions, never see each other's statements; a client that disconnects in
// the middle of a transaction is rolled back and lets the others in.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { servePglite, type PgliteServer } from "../../src/db/pglite/pglite-server.js";

describe("a PGlite database served on a Unix socket", () => {
  let pglite: PGlite;
  let server: PgliteServer;
  let pool: pg.Pool;

  beforeAll(async () => {
    pglite = await PGlite.create();
    await pglite.exec("CREATE TABLE t (id int PRIMARY KEY, who text NOT NULL)");
    server = await servePglite(pglite, mkdtempSync(join(tmpdir(), "dualstore-")), silentLogger);
    pool = new pg.Pool({ host: server.socketDir, user: "postgres", database: "postgres", max: 6 });
  });

  afterAll(async () => {
    await pool.end();
    await server.close();
    await pglite.close();
  });

  it("answers concurrent parameterised queries and transactions from several connections and the holder, each with its own results", async () => {
    let wrong = 0;
    const queries = async (client: number) => {
      for (let i = 0; i < 60; i++) {
        const { rows } = await pool.query<{ a: number; b: string }>("SELECT $1::int AS a, $2::text AS b", [client * 1_000 + i, `c${client}`]);
        if (rows[0]!.a !== client * 1_000 + i || rows[0]!.b !== `c${client}`) wrong++;
      }
    };
    const transactions = async (client: number) => {
      for (let i = 0; i < 20; i++) {
        const connection = await pool.connect();
        try {
          await connection.query("BEGIN");
          await connection.query("INSERT INTO t VALUES ($1, $2)", [client * 1_000 + i, `c${client}`]);
          await connection.query(i % 2 === 0 ? "COMMIT" : "ROLLBACK");
        } finally {
          connection.release();
        }
      }
    };
    const holder = async () => {
      for (let i = 0; i < 20; i++) await pglite.transaction((tx) => tx.query("INSERT INTO t VALUES ($1, 'holder')", [90_000 + i]));
    };
    await Promise.all([queries(1), queries(2), queries(3), transactions(4), transactions(5), holder()]);
    expect(wrong).toBe(0);
    const counts = await pglite.query<{ who: string; n: number }>("SELECT who, count(*)::int AS n FROM t GROUP BY who ORDER BY who");
    expect(counts.rows).toEqual([
      { who: "c4", n: 10 },
      { who: "c5", n: 10 },
      { who: "holder", n: 20 },
    ]);
  }, 60_000);

  it("rolls back the transaction of a client that disconnects, and serves the others after it", async () => {
    const client = new pg.Client({ host: server.socketDir, user: "postgres", database: "postgres" });
    await client.connect();
    await client.query("BEGIN");
    await client.query("INSERT INTO t VALUES (-1, 'abandoned')");
    // Cut the connection as a killed process would: no Terminate message.
    client.on("error", () => {});
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    // The holder's own query waits for the abandoned session to be rolled back, then runs.
    expect((await pglite.query("SELECT count(*)::int AS n FROM t WHERE id = -1")).rows).toEqual([{ n: 0 }]);
    expect(pglite.isInTransaction()).toBe(false);
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});
