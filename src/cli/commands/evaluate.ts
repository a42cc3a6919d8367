import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { ValidationError, type ValidationIssue } from "../../errors.js";
import { evaluationQuery, type EvaluationQuery } from "../../search/evaluate.js";
import type { SearchMode } from "../../search/search.js";
import { UsageError } from "../args.js";
import { ExitCode } from "../output.js";
import { resolveUserId } from "../user.js";
import type { Command } from "./command.js";

const MODES: readonly SearchMode[] = ["vector", "lexical", "hybrid"];

export const evaluateCommand: Command = {
  name: "evaluate",
  summary: "measure search quality on your own labelled queries",
  usage: "dualstore evaluate --file <queries.jsonl> [options]",
  help: [
    "  --file <path>          JSON Lines, one query a line:",
    '                         {"query": "...", "expected": "<document id>" | ["<id>", ...]}',
    "  --user <id or email>   search as this user (their documents and public ones);",
    "                         default: public documents only",
    "  --modes <a,b>          modes to measure: vector, lexical, hybrid (default: all three)",
    "  Prints recall@1, recall@10, MRR@10 and nDCG@10 per mode (document level).",
  ],
  options: {
    file: { type: "string" },
    user: { type: "string" },
    modes: { type: "string" },
  },
  async run({ flags, out, open, cwd }) {
    const file = flags.string("file");
    if (file === undefined) throw new UsageError("--file: expected a JSON Lines file of queries", "evaluate");
    const modes = flags.list("modes");
    for (const mode of modes ?? []) {
      if (!MODES.includes(mode as SearchMode)) throw new UsageError(`--modes: expected vector, lexical or hybrid, got ${JSON.stringify(mode)}`, "evaluate");
    }
    const userReference = flags.string("user");
    // The file is read and checked before the database is opened: a bad line costs nothing.
    const queries = parseQueries(await readFile(resolve(cwd, file), "utf8"));
    const ds = await open();
    try {
      const userId = userReference === undefined ? null : await resolveUserId(ds, userReference, { createIfMissing: false });
      const report = await ds.evaluate(queries, { userId, ...(modes === undefined ? {} : { modes: modes as SearchMode[] }) });
      out.result(report, () => [
        `${report.queries} queries`,
        "mode      recall@1  recall@10  MRR@10  nDCG@10",
        ...Object.entries(report.modes).map(
          ([mode, m]) => `${mode.padEnd(8)}  ${m.recallAt1.toFixed(3).padStart(8)}  ${m.recallAt10.toFixed(3).padStart(9)}  ${m.mrrAt10.toFixed(3).padStart(6)}  ${m.ndcgAt10.toFixed(3).padStart(7)}`,
        ),
      ]);
      return ExitCode.OK;
    } finally {
      await ds.close();
    }
  },
};

/** The queries of a JSON Lines file (blank lines skipped); every bad line is reported, by its number. */
export function parseQueries(content: string): EvaluationQuery[] {
  const queries: EvaluationQuery[] = [];
  const issues: ValidationIssue[] = [];
  for (const [i, line] of content.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      issues.push({ path: where, message: "not a JSON object" });
      continue;
    }
    const parsed = evaluationQuery.safeParse(value);
    if (parsed.success) queries.push(parsed.data);
    else for (const issue of parsed.error.issues) issues.push({ path: [where, ...issue.path.map(String)].join("."), message: issue.message });
  }
  if (issues.length === 0 && queries.length === 0) issues.push({ path: "(file)", message: "holds no queries" });
  if (issues.length > 0) throw new ValidationError("queries file", issues.slice(0, 20));
  return queries;
}
