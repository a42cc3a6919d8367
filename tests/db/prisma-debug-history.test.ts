// Prisma's client keeps the arguments of its last 100 debug calls, debugging on or not;
// forgetStatementArgs() lets them go (the commit of a batch's chunk rows calls it).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Debug } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { forgetStatementArgs } from "../../src/db/prisma-debug-history.js";

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
