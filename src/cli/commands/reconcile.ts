import type { ReconcileReport } from "../../sync/reconcile.js";
import { handleInterrupts } from "../interrupt.js";
import { ExitCode } from "../output.js";
import { count } from "../progress.js";
import type { Command } from "./command.js";

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "compare the vector index with PostgreSQL; --fix repairs",
  usage: "dualstore reconcile [--fix]",
  help: [
    "  --fix                  delete orphaned vectors, re-index documents with missing vectors,",
    "                         vectors whose metadata or text no longer match, or stuck runs,",
    "                         and run those sync jobs now",
    "",
    "  Exit code 1 when inconsistencies were found and not fixed.",
  ],
  options: { fix: { type: "boolean" } },
  async run({ flags, out, open }) {
    const fix = flags.boolean("fix");
    const ds = await open();
    const interrupt = handleInterrupts(out, "stopping the comparison");
    try {
      const report = await ds.reconcile({ fix, signal: interrupt.signal });
      const findings = findingsOf(report);
      // Fixing re-enqueues documents; draining those jobs now is what completes the repair.
      const drained = fix && findings > 0 ? await ds.sync.drain({ signal: interrupt.signal }) : undefined;
      const consistent = findings === 0;
      out.result({ consistent, findings, fixed: fix && !consistent, report, ...(drained ? { drained } : {}) }, () => [
        `Compared ${count(report.vectorsInStore)} vectors in the store with ${count(report.vectorsRecorded)} recorded ` +
          `(${report.namespaces.length} namespace${report.namespaces.length === 1 ? "" : "s"}).`,
        `orphans: ${count(report.orphans.count)}  missing: ${count(report.missing.count)} (in ${count(report.missing.documents)} documents)  ` +
          `mismatched: ${count(report.mismatched.count)} (in ${count(report.mismatched.documents)} documents)  ` +
          `stuck: ${report.stuck.indexing.length} indexing, ${report.stuck.deleting.length} deleting`,
        ...sampleLines("orphan", report.orphans.sample),
        ...sampleLines("missing", report.missing.sample),
        ...sampleLines("mismatched", report.mismatched.sample),
        ...(report.building
          ? [
              `building ${report.building.embedder}: ${count(report.building.vectorsInStore)} vectors built, ` +
                `orphans: ${count(report.building.orphans.count)}  missing: ${count(report.building.missing.count)} (in ${count(report.building.missing.documents)} documents)`,
              ...sampleLines("missing (building)", report.building.missing.sample),
            ]
          : []),
        consistent
          ? "Consistent."
          : fix
            ? `Fixed: ${count(report.fixed.orphansDeleted)} orphans deleted, ${count(report.fixed.documentsEnqueued)} documents re-indexed` +
              (drained ? ` (${drained.done} sync jobs done, ${drained.retried} to retry, ${drained.dead} dead).` : ".")
            : "Inconsistent: run `dualstore reconcile --fix` to repair.",
      ]);
      return consistent || fix ? ExitCode.OK : ExitCode.PROBLEMS;
    } finally {
      interrupt.dispose();
      await ds.close();
    }
  },
};

function findingsOf(report: ReconcileReport): number {
  // The building generation's missing vectors count (fix has them built again); its orphans are the migration's to remove.
  return (
    report.orphans.count + report.missing.count + report.mismatched.count + report.stuck.indexing.length + report.stuck.deleting.length + (report.building?.missing.count ?? 0)
  );
}

function sampleLines(label: string, sample: readonly string[]): string[] {
  return sample.slice(0, 5).map((id) => `  ${label}: ${id}`);
}
