import type { Dualstore } from "../../client.js";
import type { ComponentHealth, HealthReport } from "../../core/health.js";
import { DualstoreError } from "../../errors.js";
import type { SyncStats } from "../../sync/job-queue.js";
import type { UsageRow } from "../../sync/usage-ledger.js";
import { describeError, ExitCode } from "../output.js";
import { count } from "../progress.js";
import type { Command } from "./command.js";

export const statusCommand: Command = {
  name: "status",
  summary: "health of each store (status, latency), sync queue figures and embedding usage",
  usage: "dualstore status",
  help: [
    "  Probes the database, the vector store and the embedder, and reads the sync outbox's",
    "  figures and the last 30 days of embedding usage (tokens, requests, owners per embedder).",
    "  Applies no migration. Exit code 1 when a store is down.",
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
      const since = new Date(Date.now() - USAGE_DAYS * 86_400_000).toISOString().slice(0, 10);
      const usage = await ds.usage({ from: since }).then(
        (rows) => ({ since, models: byModel(rows) }),
        (error: unknown) => ({ since, error: describeError(error) }),
      );
      const healthy = health.status === "up" && "stats" in sync;
      out.result({ ...health, sync: "stats" in sync ? sync.stats : { error: sync.error }, usage }, () => [
        ...healthLines(health),
        "stats" in sync ? syncLine(sync.stats) : `sync: unavailable (${sync.error.name}: ${sync.error.message}); run \`dualstore migrate\`?`,
        ...usageLines(usage),
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
    ...component("index", health.index),
  ];
}

const USAGE_DAYS = 30;

interface ModelUsage {
  readonly model: string;
  readonly tokens: number;
  readonly texts: number;
  readonly requests: number;
  /** Owners with usage (public documents count as one). */
  readonly owners: number;
}

function byModel(rows: readonly UsageRow[]): ModelUsage[] {
  const models = new Map<string, { tokens: number; texts: number; requests: number; owners: Set<string | null> }>();
  for (const row of rows) {
    const total = models.get(row.model) ?? { tokens: 0, texts: 0, requests: 0, owners: new Set() };
    total.tokens += row.tokens;
    total.texts += row.texts;
    total.requests += row.requests;
    total.owners.add(row.userId);
    models.set(row.model, total);
  }
  return [...models].map(([model, total]) => ({ model, tokens: total.tokens, texts: total.texts, requests: total.requests, owners: total.owners.size }));
}

function usageLines(usage: { since: string; models: ModelUsage[] } | { since: string; error: { name: string; message: string } }): string[] {
  if ("error" in usage) return [`usage: unavailable (${usage.error.name}: ${usage.error.message})`];
  if (usage.models.length === 0) return [`usage since ${usage.since}: nothing embedded`];
  return [
    `usage since ${usage.since}:`,
    ...usage.models.map(
      (m) => `  ${m.model}: ${count(m.tokens)} tokens, ${count(m.texts)} texts, ${count(m.requests)} requests, ${count(m.owners)} owner${m.owners === 1 ? "" : "s"}`,
    ),
  ];
}

function syncLine(stats: SyncStats): string {
  return (
    `sync: ${count(stats.pending)} pending, ${count(stats.running)} running, ${count(stats.retrying)} retrying, ` +
    `${count(stats.dead)} dead, ${count(stats.done)} done; oldest pending ${(stats.oldestPendingMs / 1_000).toFixed(1)} s; ` +
    `failure rate ${(stats.failureRate * 100).toFixed(1)}% (last hour)`
  );
}
