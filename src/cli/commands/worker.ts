import { setTimeout as delay } from "node:timers/promises";
import type { Dualstore } from "../../client.js";
import { EmbedderMismatchError, IndexLayoutMismatchError, type DualstoreError } from "../../errors.js";
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
    "  Runs the sync outbox's jobs as they arrive. The first SIGINT or SIGTERM stops it after",
    "  its current batches and prints a summary (exit code 0). Queue figures are printed on",
    "  stderr whenever they change.",
    "",
    "  On PostgreSQL (--database-url postgres://...), any number of workers may run at once,",
    "  in any number of processes. PGlite (the default, ./.dualstore/db) is a one-process",
    "  database: the first dualstore process to open the directory holds it and serves it to",
    "  the others, which work through it while it runs. Start the worker first and leave it",
    "  running; `ingest --enqueue`, `search` and `status` in other terminals then use the",
    "  database through it. A second worker on the same directory adds no throughput.",
  ],
  options: {
    concurrency: { type: "string" },
    "poll-ms": { type: "string" },
  },
  async run({ flags, out, open }) {
    const concurrency = flags.integer("concurrency", { min: 1, max: 64 }) ?? 1;
    const pollMs = flags.integer("poll-ms", { min: 10, max: 3_600_000 }) ?? 1_000;
    let ds = await open();
    const interrupt = handleInterrupts(out, "stopping after the current batches");
    const total = { processed: 0, done: 0, retried: 0, dead: 0 };
    const started = performance.now();
    let rebind: DualstoreError | undefined;
    let rebinds = 0;
    try {
      out.note(`worker started: concurrency ${concurrency}, polling every ${pollMs} ms (Ctrl-C or SIGTERM stops it)`);
      for (;;) {
        const holder = ds.database.holder;
        if (holder) out.note(`using the database through pid ${holder.pid}, the process that holds it`);
        // Working through another process's PGlite: when that process stops, open the database again.
        const lap = new AbortController();
        const signal = AbortSignal.any([interrupt.signal, lap.signal, ...(holder ? [holder.gone] : [])]);
        const watching = watchQueue(ds, out, pollMs, signal);
        const result = await ds.sync.runWorker({ concurrency, pollMs, signal }).catch((error: unknown) => {
          // An app bound the (still empty) index to its own configuration after this worker
          // opened it: open again to follow the recorded one, unless flags pinned another.
          if (error instanceof IndexLayoutMismatchError || error instanceof EmbedderMismatchError) {
            rebind = error;
            lap.abort();
            return { processed: 0, done: 0, retried: 0, dead: 0 };
          }
          throw error;
        });
        await watching;
        for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += result[key];
        await ds.close();
        if (interrupt.signal.aborted) break;
        if (rebind) {
          if (rebinds++ > 0) throw rebind;
          out.note(`the index's recorded configuration is not this worker's (${rebind.message}): opening it again`);
          rebind = undefined;
        } else out.note(`pid ${holder!.pid}, which held the database, has stopped: opening it again`);
        ds = await open();
      }
      const elapsedMs = Math.round(performance.now() - started);
      out.result({ ...total, elapsedMs }, () => [
        `worker stopped after ${(elapsedMs / 1_000).toFixed(1)} s: ${count(total.processed)} jobs run, ` +
          `${count(total.done)} done, ${count(total.retried)} to retry, ${count(total.dead)} dead`,
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
