// Database targets for tests: every database test runs against PGlite AND the real PostgreSQL.
// Each open() gets a fresh database: a new PGlite instance, or a new schema in PostgreSQL, so
// test files (and tests within them) run in parallel without seeing each other's rows.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe } from "vitest";
import { createDualstore, type Dualstore, type DualstoreOptions } from "../../src/index.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export type TargetName = "pglite" | "postgres";

export interface DatabaseTarget {
  readonly name: TargetName;
  /** A fresh, empty database's `database` options. */
  freshDatabase(): Promise<NonNullable<DualstoreOptions["database"]>>;
  /** createDualstore() on a fresh database; closed after the file's tests. */
  open(options?: Omit<DualstoreOptions, "database"> & { database?: DualstoreOptions["database"] }): Promise<Dualstore>;
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
  const opened: Dualstore[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((ds) => ds.close()));
    for (const schema of schemas) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  const freshDatabase = async (): Promise<NonNullable<DualstoreOptions["database"]>> => {
    if (name === "pglite") return { driver: "pglite" };
    const schema = uniqueSchema();
    schemas.push(schema);
    return { url: `${TEST_DATABASE_URL}?schema=${schema}`, poolSize: 4 };
  };
  return {
    name,
    freshDatabase,
    async open(options = {}) {
      const database = { ...(await freshDatabase()), ...options.database };
      // PostgreSQL here has no pgvector: index through the in-memory store unless a test picks one.
      const vectorStore = "vectorStore" in options ? options.vectorStore : name === "postgres" ? { provider: "memory" as const } : undefined;
      const ds = await createDualstore({ ...options, vectorStore, database, env: {} });
      opened.push(ds);
      return ds;
    },
  };
}

/**
 * `describe` once per database target: PGlite always, PostgreSQL when reachable (a visible skip
 * locally when it is not; a failure in CI).
 */
export function describeEachDatabase(title: string, body: (target: DatabaseTarget) => void): void {
  describe(`${title} [pglite]`, () => body(makeTarget("pglite")));
  (postgresAvailable ? describe : describe.skip)(`${title} [postgres]`, () => body(makeTarget("postgres")));
}
