// An on-disk PGlite is one process's database. Real processes (tests/fixtures/pglite-process.ts)
// open the same directory: the first holds it and serves it, a second works through it and
// nothing is lost; a holder that shares nothing makes the second fail at once with
// DATABASE_LOCKED; the lock of a process killed with SIGKILL is taken over.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { createDualstore } from "../../src/index.js";
import { repoRoot, tempDir } from "../helpers/paths.js";
import type { PrismaClient } from "../../src/db/prisma.js";

interface Event {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** A child process running the fixture; `next(name)` waits for its next event of that name. */
class DualstoreProcess {
  private readonly events: Event[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  private stderr = "";

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.events.push(JSON.parse(line) as Event);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  static start(dataDir: string, mode: "share" | "exclusive" = "share"): DualstoreProcess {
    const child = spawn(process.execPath, ["--import", "./bench/hooks.ts", "tests/fixtures/pglite-process.ts", dataDir, mode], { cwd: repoRoot });
    const started = new DualstoreProcess(child);
    running.push(started);
    return started;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async next(...names: string[]): Promise<Event> {
    for (;;) {
      const index = this.events.findIndex((event) => names.includes(event.event));
      if (index >= 0) return this.events.splice(index, 1)[0]!;
      const exited = this.child.exitCode !== null;
      if (exited) throw new Error(`process exited (${this.child.exitCode}) before "${names.join("|")}":\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        this.child.once("exit", () => resolve());
      });
    }
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  async close(): Promise<void> {
    this.send("close");
    await this.next("closed");
    await this.exited;
  }
}

const running: DualstoreProcess[] = [];
afterEach(() => {
  for (const process of running.splice(0)) process.child.kill("SIGKILL");
});

async function usersIn(dataDir: string): Promise<string[]> {
  const ds = await createDualstore<PrismaClient>({ database: { url: dataDir }, vectorStore: null, env: {} });
  try {
    return (await ds.prisma.user.findMany({ select: { email: true } })).map((user) => user.email ?? "").sort();
  } finally {
    await ds.close();
  }
}

const emails = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}@example.com`);

describe("two processes on one on-disk PGlite directory", () => {
  it("the second works through the first (which serves it), both write at once, and nothing is lost", async () => {
    const dataDir = join(tempDir(), "db");
    const holder = DualstoreProcess.start(dataDir);
    expect(await holder.next("open")).toMatchObject({ driver: "pglite", location: `pglite:${dataDir}` });
    const second = DualstoreProcess.start(dataDir);
    const opened = await second.next("open", "error");
    expect(opened).toMatchObject({ event: "open", driver: "node-postgres", location: `pglite:${dataDir} (shared by pid ${holder.pid})` });

    holder.send("users holder 25");
    second.send("users second 25");
    await Promise.all([holder.next("users"), second.next("users")]);
    second.send("count");
    expect(await second.next("count")).toMatchObject({ users: 50 });

    await second.close();
    await holder.close();
    expect(existsSync(join(dataDir, "dualstore.lock"))).toBe(false);
    expect(await usersIn(dataDir)).toEqual([...emails("holder", 25), ...emails("second", 25)].sort());
  }, 120_000);

  it("a holder that shares nothing makes the second fail at once with DATABASE_LOCKED, naming its pid and the fix", async () => {
    const dataDir = join(tempDir(), "db");
    const holder = DualstoreProcess.start(dataDir, "exclusive");
    await holder.next("open");
    holder.send("users holder 3");
    await holder.next("users");

    const second = DualstoreProcess.start(dataDir);
    const refused = await second.next("open", "error");
    expect(refused).toMatchObject({ event: "error", code: "DATABASE_LOCKED" });
    expect(refused.message).toContain(`pid ${holder.pid}`);
    expect(refused.message).toContain(dataDir);
    expect(refused.message).toMatch(/one-process database.*Stop it first, or use a PostgreSQL server/);
    // Refused on sight of the lock, not after a wait.
    expect(refused.ms).toBeLessThan(2_000);
    expect(await second.exited).toBe(2);

    holder.send("count");
    expect(await holder.next("count")).toMatchObject({ users: 3 });
    await holder.close();
    expect(await usersIn(dataDir)).toEqual(emails("holder", 3));
  }, 120_000);

  it("the lock of a holder killed with SIGKILL is taken over, with everything it committed", async () => {
    const dataDir = join(tempDir(), "db");
    const holder = DualstoreProcess.start(dataDir);
    await holder.next("open");
    holder.send("users holder 5");
    await holder.next("users");
    holder.child.kill("SIGKILL");
    await holder.exited;
    expect(JSON.parse(readFileSync(join(dataDir, "dualstore.lock"), "utf8"))).toMatchObject({ pid: holder.pid, state: "serving" });

    const next = DualstoreProcess.start(dataDir);
    expect(await next.next("open", "error")).toMatchObject({ event: "open", driver: "pglite", location: `pglite:${dataDir}` });
    next.send("count");
    expect(await next.next("count")).toMatchObject({ users: 5 });
    await next.close();
  }, 120_000);
});
