import { ingestFiles, type IngestResult } from "../../ingest/ingest-files.js";
import { UsageError } from "../args.js";
import { handleInterrupts } from "../interrupt.js";
import { ExitCode } from "../output.js";
import { count, ProgressDisplay } from "../progress.js";
import { resolveUserId } from "../user.js";
import type { Command } from "./command.js";

/** Issues listed in the text summary; `--json` carries up to 100. */
const ISSUES_SHOWN = 10;

export const ingestCommand: Command = {
  name: "ingest",
  summary: "store text files as documents and index them (resumable)",
  usage: "dualstore ingest <paths or globs...> [options]",
  help: [
    "  --user <id or email>   owner of the documents (an unknown email creates the user);",
    "                         default: public documents every user can search",
    "  --tags <a,b>           tags set on every document",
    "  --batch-size <n>       files per batch, 1-1000 (default 32)",
    "  --prune                delete documents whose file no longer exists",
    "  --enqueue              store only, and leave indexing to `dualstore worker`",
    "",
    "  Directories are walked recursively (hidden entries and node_modules skipped); quote",
    "  globs so the shell leaves them to dualstore: 'docs/**/*.md'. Text files only (.md .mdx",
    "  .txt .rst .html .json .csv .yaml, source code, ...); binary files are skipped.",
    "  Unchanged files are not stored or embedded again. Ctrl-C stops after the current",
    "  batch (exit code 130); run the same command again to continue.",
  ],
  options: {
    user: { type: "string" },
    tags: { type: "string" },
    "batch-size": { type: "string" },
    prune: { type: "boolean" },
    enqueue: { type: "boolean" },
  },
  async run({ flags, positionals, out, open }) {
    if (positionals.length === 0) throw new UsageError("expected at least one path or glob", "ingest");
    const batchSize = flags.integer("batch-size", { min: 1, max: 1_000 });
    const tags = flags.list("tags");
    const userReference = flags.string("user");
    const ds = await open();
    const interrupt = handleInterrupts(out, "stopping after the current batch");
    const progress = new ProgressDisplay(out);
    try {
      const userId = userReference === undefined ? null : await resolveUserId(ds, userReference, { createIfMissing: true });
      const result = await ingestFiles(ds, positionals, {
        userId,
        ...(tags === undefined ? {} : { tags }),
        ...(batchSize === undefined ? {} : { batchSize }),
        prune: flags.boolean("prune"),
        indexing: flags.boolean("enqueue") ? "enqueue" : "now",
        signal: interrupt.signal,
        onProgress: (update) => progress.update(update),
      });
      progress.finish();
      if (result.files === 0) out.note(`No files found in ${positionals.join(", ")}.`);
      out.result(result, () => summaryLines(result));
      if (result.interrupted) {
        out.note("Interrupted: what was done is kept. Run the same command again to continue.");
        return ExitCode.INTERRUPTED;
      }
      return result.failed > 0 ? ExitCode.PROBLEMS : ExitCode.OK;
    } finally {
      progress.finish();
      interrupt.dispose();
      await ds.close();
    }
  },
};

function summaryLines(result: IngestResult): string[] {
  const lines = result.interrupted ? interruptedLines(result) : [
    `${count(result.files)} files: ${count(result.created)} created, ${count(result.updated)} updated, ` +
      `${count(result.unchanged)} unchanged, ${count(result.skipped)} skipped, ${count(result.failed)} failed, ${count(result.pruned)} pruned`,
    result.enqueued > 0
      ? `${count(result.enqueued)} documents left for the sync worker`
      : `${count(result.indexed)} documents indexed (${count(result.chunks)} chunks, ${count(result.embedded)} embedded) in ${(result.elapsedMs / 1_000).toFixed(1)} s`,
  ];
  for (const issue of result.issues.slice(0, ISSUES_SHOWN)) lines.push(`  ${issue.kind}: ${issue.path} (${issue.reason})`);
  if (result.issues.length > ISSUES_SHOWN) lines.push(`  ... and more (--json lists up to 100)`);
  return lines;
}

/** What an interrupted run did and did not get to: stored is not searchable until indexed. */
function interruptedLines(result: IngestResult): string[] {
  const storedFiles = result.files - result.notStored;
  return [
    `Interrupted after ${(result.elapsedMs / 1_000).toFixed(1)} s.`,
    `stored: ${count(storedFiles)} of ${count(result.files)} files (${count(result.created)} created, ${count(result.updated)} updated, ` +
      `${count(result.unchanged)} unchanged, ${count(result.skipped)} skipped, ${count(result.failed)} failed)`,
    result.enqueued > 0
      ? `indexing: ${count(result.enqueued)} documents left for the sync worker`
      : `indexed: ${count(result.indexed)} documents (${count(result.chunks)} chunks, ${count(result.embedded)} embedded); ` +
        `${count(result.notIndexed)} stored but not indexed yet, so not searchable`,
  ];
}
