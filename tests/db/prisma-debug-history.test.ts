// Prisma's client keeps the arguments of its last 100 debug calls, debugging on or not;
// forgetStatementArgs() lets them go (the commit of a batch's chunk rows calls it), and empties
// the driver adapter's own copy of that history too.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Debug } from "@prisma/client/runtime/client";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { forgetStatementArgs, watchAdapterHistory } from "../../src/db/prisma-debug-history.js";
import { postgresAvailable, TEST_DATABASE_URL } from "../helpers/db.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Passes a fresh object to one of Prisma's own debug loggers, as it does with statement parameters, and returns a weak reference to it. */
function loggedByPrisma(): WeakRef<object> {
  const parameters = { rows: "x".repeat(100_000) };
  Debug("prisma:client")("prisma.$queryRawUnsafe(%O)", parameters);
  return new WeakRef(parameters);
}

async function collected(ref: WeakRef<object>): Promise<boolean> {
  // Weak references are cleared only after the current job.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return ref.deref() === undefined;
}

describe("Prisma's debug history", () => {
  it("holds the last arguments logged, debugging on or not", async () => {
    expect(Debug.enabled("prisma:client")).toBe(false);
    expect(await collected(loggedByPrisma())).toBe(false);
  });

  it("lets them go after forgetStatementArgs()", async () => {
    const ref = loggedByPrisma();
    forgetStatementArgs();
    expect(await collected(ref)).toBe(true);
  });
});

/** The build of @prisma/debug that the node-postgres adapter imports: its own copy, nested under it. */
async function adapterDebug(): Promise<{ getLogs: () => string }> {
  const adapter = createRequire(import.meta.url).resolve("@prisma/adapter-pg");
  const utils = createRequire(adapter).resolve("@prisma/driver-adapter-utils");
  const entry = createRequire(utils).resolve("@prisma/debug");
  return (await import(pathToFileURL(entry.replace(/\.js$/, ".mjs")).href)) as { getLogs: () => string };
}

describe.skipIf(!postgresAvailable)("the node-postgres adapter's own debug history", () => {
  it("holds each statement's parameters until forgetStatementArgs() empties it", async () => {
    await watchAdapterHistory("@prisma/adapter-pg");
    const { getLogs } = await adapterDebug();
    const { PrismaPg } = await import("@prisma/adapter-pg");
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    try {
      const adapter = await new PrismaPg(pool).connect();
      const marker = `statement-parameter-${Date.now()}`;
      await adapter.queryRaw({ sql: "SELECT $1::text AS marker", args: [marker], argTypes: [{ scalarType: "string", arity: "scalar" }] });
      expect(getLogs()).toContain(marker);
      forgetStatementArgs();
      expect(getLogs()).not.toContain(marker);
    } finally {
      await pool.end();
    }
  });
});
