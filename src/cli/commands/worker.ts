import { setTimeout as delay } from "node:timers/promises";
import type { Dualstore } from "../../client.js";
import { handleInterrupts } from "../interrupt.js";
import { ExitCode, type Output } from "../output.js";
import { count } from "../progress.js";
import type { Command } from "./command.js";

export const workerCommand: Command = {
  name: "worker",
  summary: "run sync jobs (index, delete) until SIGINT/SIGTERM",
  usage: "dualstore worker [options]",
  help: [
    "  --concurrency <n>      batches processed in parallel, 1-64 (default 1)",
    "  --poll-ms <n>          wait between polls of an empty queue, in ms (default 1000)",
    "",
    "  Runs the sync outbox's jobs as they arrive; any number of workers may run at once.",
    "  The first SIGINT or SIGTERM stops it after its current batches and prints a summary",
    "  (exit code 0). Queue figures are printed on stderr whenever they change.",
  ],
  options: {
    concurrency: { type: "string" },
    "poll-ms": { type: "string" },
  },
  async run({ flags, out, open }) {
    const concurrency = flags.integer("concurrency", { min: 1, max: 64 }) ?? 1;
    const pollMs = flags.integer("poll-ms", { min: 10, max: 3_600_000 }) ?? 1_000;
    const ds = await open();
    const interrupt = handleInterrupts(out, "stopping after the current batches");
    try {
      out.note(`worker started: concurrency ${concurrency}, polling every ${pollMs} ms (Ctrl-C or SIGTERM stops it)`);
      const started = performance.now();
      const watching = watchQueue(ds, out, pollMs, interrupt.signal);
      const result = await ds.sync.runWorker({ concurrency, pollMs, signal: interrupt.signal });
      await watching;
      const elapsedMs = Math.round(performance.now() - started);
      out.result({ ...result, elapsedMs }, () => [
        `worker stopped after ${(elapsedMs / 1_000).toFixed(1)} s: ${count(result.processed)} jobs run, ` +
          `${count(result.done)} done, ${count(result.retried)} to retry, ${count(result.dead)} dead`,
      ]);
      return ExitCode.OK;
    } finally {
      interrupt.dispose();
      await ds.close();
    }
  },
};

/** Prints the queue's figures on stderr each time they change, until `signal` aborts: the worker's heartbeat in logs. */
async function watchQueue(ds: Dualstore, out: Output, everyMs: number, signal: AbortSignal): Promise<void> {
  let last = "";
  while (!signal.aborted) {
    const stats = await ds.sync.stats().catch(() => undefined);
    const line = stats
      ? `queue: ${count(stats.pending)} pending, ${count(stats.running)} running, ${count(stats.dead)} dead, ${count(stats.done)} done`
      : "queue: figures unavailable";
    if (line !== last) out.note(line);
    last = line;
    await delay(everyMs, undefined, { signal }).catch(() => undefined);
  }
}
