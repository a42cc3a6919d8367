// Starting and stopping the worker processes of tests/helpers/sync-worker-process.ts, as an app
// deploys them: each a `node` process of its own with its own connection pool.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { DualstoreOptions, WorkerOptions } from "../../src/index.js";
import { repoRoot } from "./paths.js";

const WORKER = join(repoRoot, "tests", "helpers", "sync-worker-process.ts");

/** A worker process: `ready` once it polls the queue (rejected, with its stderr, if it exits first); `exited` once it is gone. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

/** Call ensureBuilt() first: the worker imports "dualstore" from dist/. */
export function startWorkerProcess(options: DualstoreOptions, workerOptions: Omit<WorkerOptions, "signal"> = {}): WorkerProcess {
  const child = spawn(process.execPath, [WORKER], {
    cwd: repoRoot,
    env: { ...process.env, DUALSTORE_TEST_OPTIONS: JSON.stringify(options), DUALSTORE_TEST_WORKER: JSON.stringify(workerOptions) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
    child.once("exit", (code, signal) => reject(new Error(`worker exited before it was ready (${code ?? signal}): ${stderr}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, ready, exited };
}

/** SIGTERM to every worker still running (each stops after its current batch); resolves once all are gone. */
export async function stopWorkerProcesses(workers: readonly WorkerProcess[]): Promise<void> {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGTERM");
  await Promise.all(workers.map((worker) => worker.exited));
}
