/**
 * One sync worker of the production scenario, as an app deploys one: a `node` process of its own
 * running `ds.sync.runWorker()` from the built package ("dualstore", dist/), with its own
 * connection pool. Its options come as JSON in BENCH_WORKER_OPTIONS. It says "ready" over IPC
 * once it polls, stops after its current batch on "stop", and then reports what it did, its peak
 * RSS (process.resourceUsage().maxRSS) and its CPU time since it started.
 *
 * Its logger counts events instead of printing them (a 5% fault rate makes many "retrying"
 * warnings); dead letters and failed batches are also printed.
 */
import { createDualstore, type DualstoreOptions, type Logger } from "dualstore";

export interface WorkerReport {
  readonly pid: number;
  readonly processed: number;
  readonly done: number;
  readonly retried: number;
  readonly dead: number;
  readonly peakRssMb: number;
  /** User + system CPU time since the process started, ms. */
  readonly cpuMs: number;
  /** Log events by level and message. */
  readonly logged: Record<string, number>;
  readonly error?: string;
}

const logged: Record<string, number> = {};
const count =
  (level: string, print = false) =>
  (message: string, fields?: Record<string, unknown>) => {
    const key = `${level}: ${message}`;
    logged[key] = (logged[key] ?? 0) + 1;
    if (print) console.error(`[worker ${process.pid}] ${key} ${JSON.stringify(fields ?? {}).slice(0, 500)}`);
  };
const logger: Logger = { debug() {}, info: count("info"), warn: count("warn"), error: (message, fields) => count("error", message !== "indexing failed")(message, fields) };

const options = JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? "{}") as DualstoreOptions;
const ds = await createDualstore({ ...options, logger, env: {} });
const stop = new AbortController();
process.on("message", (message) => message === "stop" && stop.abort());
process.send!("ready");
let report: Omit<WorkerReport, "pid" | "peakRssMb" | "cpuMs" | "logged">;
try {
  report = await ds.sync.runWorker({ pollMs: 100, signal: stop.signal });
} catch (error) {
  report = { processed: 0, done: 0, retried: 0, dead: 0, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
await ds.close();
const usage = process.resourceUsage();
process.send!({ ...report, pid: process.pid, peakRssMb: Math.round(usage.maxRSS / 102.4) / 10, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), logged } satisfies WorkerReport, () =>
  process.disconnect(),
);
