/** A runner child process, driven one command at a time over IPC. */
import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command, Reply, StepReport } from "./protocol.js";

const HOOKS = new URL("./hooks.ts", import.meta.url).href;
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/**
 * Waits (up to two minutes) until dist/index.js exists, and returns a short hash of it. dist/ is
 * shared: a build elsewhere (tsup cleans first) can remove it for a while, and results record
 * which build each run measured.
 */
export async function distReady(): Promise<string> {
  for (let waited = 0; !existsSync(DIST); waited += 1_000) {
    if (waited > 120_000) throw new Error(`${DIST} is missing: run npm run build`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return createHash("sha256").update(readFileSync(DIST)).digest("hex").slice(0, 12);
}

export class RunnerProcess {
  private readonly child: ChildProcess;
  private pending: { resolve: (report: StepReport) => void; reject: (error: Error) => void } | undefined;
  private exited: Error | undefined;

  constructor(
    readonly name: string,
    script: URL,
  ) {
    // Every child loads the same TypeScript hooks as the parent (see hooks.ts).
    // BENCH_CPU_PROF=<directory>: each runner writes a CPU profile of each step there (protocol.ts).
    this.child = fork(script, [], { execArgv: ["--import", HOOKS, "--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (reply: Reply) => {
      const pending = this.pending;
      this.pending = undefined;
      if (reply.type === "report") pending?.resolve(reply.report);
      else pending?.reject(new Error(`${this.name}: ${reply.message}`));
    });
    this.child.on("exit", (code, signal) => {
      this.exited = new Error(`${this.name} exited (${signal ?? code}) before answering`);
      this.pending?.reject(this.exited);
      this.pending = undefined;
    });
  }

  send(command: Command): Promise<StepReport> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.pending) return Promise.reject(new Error(`${this.name}: one command at a time`));
    return new Promise<StepReport>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(command);
    });
  }

  /** Asks the child to close, then waits for it to exit (killing it if it does not within 10 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    await this.send({ type: "close" }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
