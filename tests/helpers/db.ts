// Database targets for tests: every database test runs against PGlite AND the real PostgreSQL.
// Each open() gets a fresh database: a new PGlite instance, or a new schema in PostgreSQL, so
// test files (and tests within them) run in parallel without seeing each other's rows.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { startNeonBridge, type NeonBridge } from "../servers/neon-bridge.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/** The `database` options of a fresh, empty database (no client: dualstore opens its own). */
export type FreshDatabase = Omit<NonNullable<DualstoreOptions["database"]>, "prisma">;

/** PGlite in process; PostgreSQL through node-postgres; the same PostgreSQL through Neon's serverless driver (over a local WebSocket bridge). */
export type TargetName = "pglite" | "postgres" | "neon";

export interface DatabaseTarget {
  readonly name: TargetName;
  /** A fresh, empty database's `database` options. */
  freshDatabase(): Promise<FreshDatabase>;
  /** createDualstore() on a fresh database; closed after the file's tests. `ds.prisma` is dualstore's own client, typed as such. */
  open(options?: Omit<DualstoreOptions, "database"> & { database?: DualstoreOptions["database"] }): Promise<Dualstore<PrismaClient>>;
}

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresProblem = await postgresReachable();
if (postgresProblem !== undefined) {
  if (process.env.CI === "true") {
    throw new Error(`PostgreSQL at ${TEST_DATABASE_URL} is required in CI but unreachable: ${postgresProblem}`);
  }
  console.warn(`\n[tests] SKIPPING PostgreSQL targets: ${TEST_DATABASE_URL} is unreachable (${postgresProblem})\n`);
}
export const postgresAvailable = postgresProblem === undefined;

/** Runs `statement` on the test PostgreSQL server outside any dualstore instance. */
export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(statement: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(statement, params)).rows;
  } finally {
    await client.end();
  }
}

export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

function makeTarget(name: TargetName): DatabaseTarget {
  const opened: Array<Dualstore<PrismaClient>> = [];
  const schemas: string[] = [];
  let bridge: Promise<NeonBridge> | undefined;
  afterAll(async () => {
    await Promise.all(opened.map((ds) => ds.close()));
    for (const schema of schemas) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await (await bridge)?.close();
  });
  const freshDatabase = async (): Promise<FreshDatabase> => {
    if (name === "pglite") return { driver: "pglite" };
    const schema = uniqueSchema();
    schemas.push(schema);
    if (name === "postgres") return { url: `${TEST_DATABASE_URL}?schema=${schema}`, poolSize: 4 };
    const server = new URL(TEST_DATABASE_URL);
    bridge ??= startNeonBridge({ targetHost: server.hostname, targetPort: Number(server.port || 5432) });
    // The driver never resolves this host: the bridge carries every connection to the real server.
    const url = new URL(TEST_DATABASE_URL);
    url.hostname = "ep-dualstore-test.local.invalid";
    url.searchParams.set("schema", schema);
    return { url: url.toString(), driver: "neon", neon: (await bridge).neonSettings, poolSize: 4 };
  };
  return {
    name,
    freshDatabase,
    async open(options = {}) {
      const database = { ...(await freshDatabase()), ...options.database };
      // PostgreSQL here has no pgvector: index through the in-memory store unless a test picks one.
      const vectorStore = "vectorStore" in options ? options.vectorStore : name === "pglite" ? undefined : { provider: "memory" as const };
      // Tests read dualstore's tables through its own client, with its generated types.
      const ds = (await createDualstore({ ...options, vectorStore, database, env: {} })) as unknown as Dualstore<PrismaClient>;
      opened.push(ds);
      return ds;
    },
  };
}

/**
 * `describe` once per database target: PGlite always; PostgreSQL when reachable (a visible skip
 * locally when it is not; a failure in CI), both through node-postgres and through Neon's
 * serverless driver and @prisma/adapter-neon (unless `neon: false`).
 */
export function describeEachDatabase(title: string, body: (target: DatabaseTarget) => void, options: { neon?: boolean } = {}): void {
  describe(`${title} [pglite]`, () => body(makeTarget("pglite")));
  (postgresAvailable ? describe : describe.skip)(`${title} [postgres]`, () => body(makeTarget("postgres")));
  if (options.neon ?? true) (postgresAvailable ? describe : describe.skip)(`${title} [neon]`, () => body(makeTarget("neon")));
}
