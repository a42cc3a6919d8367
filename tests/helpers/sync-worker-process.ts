// A dualstore sync worker in a process of its own, as an app deploys one: `node` runs this file
// directly, and it imports "dualstore" from dist/ (tests call ensureBuilt() first). Its options
// come as JSON in DUALSTORE_TEST_OPTIONS (and runWorker's, but its signal, in DUALSTORE_TEST_WORKER);
// it prints "ready" once it polls the queue, and stops
// after its current batch on SIGTERM (SIGKILL, of course, stops it anywhere).
import { createDualstore, type DualstoreOptions, type WorkerOptions } from "dualstore";

const options = JSON.parse(process.env.DUALSTORE_TEST_OPTIONS ?? "{}") as DualstoreOptions;
const workerOptions = JSON.parse(process.env.DUALSTORE_TEST_WORKER ?? "{}") as Omit<WorkerOptions, "signal">;
const ds = await createDualstore({ ...options, env: {} });
const stop = new AbortController();
process.on("SIGTERM", () => stop.abort());
process.stdout.write("ready\n");
await ds.sync.runWorker({ pollMs: 50, ...workerOptions, signal: stop.signal });
await ds.close();
