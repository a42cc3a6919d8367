import type { Dualstore } from "../../client.js";
import type { ComponentHealth, HealthReport } from "../../core/health.js";
import { DualstoreError } from "../../errors.js";
import type { SyncStats } from "../../sync/job-queue.js";
import { describeError, ExitCode } from "../output.js";
import { count } from "../progress.js";
import type { Command } from "./command.js";

export const statusCommand: Command = {
  name: "status",
  summary: "health of each store (status, latency) and sync queue figures",
  usage: "dualstore status",
  help: [
    "  Probes the database, the vector store and the embedder, and reads the sync outbox's",
    "  figures. Applies no migration. Exit code 1 when a store is down.",
  ],
  options: {},
  async run({ out, open }) {
    let ds: Dualstore;
    try {
      ds = await open({ migrate: false });
    } catch (error) {
      // A store that cannot even be opened is down: that is this command's answer, not its failure.
      // Only a configuration error means the command itself was asked wrongly.
      if (error instanceof DualstoreError && error.code === "CONFIGURATION") throw error;
      const failure = describeError(error);
      out.result({ status: "down", error: { code: failure.name, message: failure.message } }, () => [
        `status: down (could not open: ${failure.name}: ${failure.message})`,
      ]);
      return ExitCode.PROBLEMS;
    }
    try {
      const health = await ds.health();
      const sync = await ds.sync.stats().then(
        (stats): { stats: SyncStats } => ({ stats }),
        (error: unknown) => ({ error: describeError(error) }),
      );
      const healthy = health.status === "up" && "stats" in sync;
      out.result({ ...health, sync: "stats" in sync ? sync.stats : { error: sync.error } }, () => [
        ...healthLines(health),
        "stats" in sync ? syncLine(sync.stats) : `sync: unavailable (${sync.error.name}: ${sync.error.message}); run \`dualstore migrate\`?`,
      ]);
      return healthy ? ExitCode.OK : ExitCode.PROBLEMS;
    } finally {
      await ds.close();
    }
  },
};

function healthLines(health: HealthReport): string[] {
  const component = (label: string, part: ComponentHealth | undefined) =>
    part === undefined
      ? []
      : [`  ${label.padEnd(13)} ${part.status.padEnd(5)} ${`${part.latencyMs.toFixed(1)} ms`.padStart(10)}  ${part.target}${part.error ? `  (${part.error})` : ""}`];
  return [
    `status: ${health.status}`,
    ...component("database", health.database),
    ...component("vector store", health.vectorStore),
    ...component("embedder", health.embedder),
  ];
}

function syncLine(stats: SyncStats): string {
  return (
    `sync: ${count(stats.pending)} pending, ${count(stats.running)} running, ${count(stats.retrying)} retrying, ` +
    `${count(stats.dead)} dead, ${count(stats.done)} done; oldest pending ${(stats.oldestPendingMs / 1_000).toFixed(1)} s; ` +
    `failure rate ${(stats.failureRate * 100).toFixed(1)}% (last hour)`
  );
}
