// `dualstore evaluate --file queries.jsonl` as a user runs it: the bin in a child process, on a
// PGlite directory with three of examples/data's documents ingested, offline (LocalEmbedder, pgvector).
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseQueries } from "../../src/cli/commands/evaluate.js";
import { createDualstore, ValidationError } from "../../src/index.js";
import { ensureBuilt } from "../helpers/build.js";
import { runCli, type ChildRun } from "../helpers/child-process.js";
import { repoRoot } from "../helpers/paths.js";

const OFFLINE = ["--embedder", "local", "--vector-store", "pgvector"];

/** `dualstore ...args` against this file's PGlite directory, offline. */
function cli(args: readonly string[]): Promise<ChildRun> {
  return runCli(["--database-url", db, ...OFFLINE, ...args]);
}

let dir: string;
let db: string;
const idByTitle: Record<string, string> = {};

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), "dualstore-evaluate-"));
  db = join(dir, "db");
  // Three of the example documents: enough to rank, quick to ingest.
  const data = join(dir, "data");
  await mkdir(data);
  for (const file of ["p-retry.md", "chokidar.md", "ws.md"]) await copyFile(join(repoRoot, "examples", "data", file), join(data, file));
  const ingest = await cli(["ingest", data, "--json"]);
  expect(ingest.code, ingest.stderr).toBe(0);
  // The CLI has exited: this process may open the directory to learn the documents' ids.
  const ds = await createDualstore({ database: { url: db }, vectorStore: null });
  for (const document of (await ds.documents.list({ userId: null, limit: 100 })).items) idByTitle[document.title] = document.id;
  await ds.close();
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("dualstore evaluate", () => {
  it("prints recall@1, recall@10, MRR@10 and nDCG@10 per mode for a file of labelled queries", async () => {
    const file = join(dir, "queries.jsonl");
    const lines = [
      { query: "retry a failed promise with exponential backoff", expected: idByTitle["p-retry.md"] },
      { query: "watch files for changes across platforms", expected: [idByTitle["chokidar.md"], "not-a-document"] },
      { query: "WebSocket client and server for Node.js", expected: idByTitle["ws.md"] },
    ];
    await writeFile(file, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n\n`);
    const run = await cli(["evaluate", "--file", file, "--modes", "lexical,hybrid", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { queries: number; modes: Record<string, Record<string, number>> };
    expect(report.queries).toBe(3);
    expect(Object.keys(report.modes).sort()).toEqual(["hybrid", "lexical"]);
    for (const metrics of Object.values(report.modes)) {
      expect(metrics.recallAt1).toBeGreaterThan(0.6);
      // The second query expects two documents, one of which does not exist: half of it is found.
      expect(metrics.recallAt10).toBeCloseTo(5 / 6, 5);
      for (const name of ["recallAt1", "recallAt10", "mrrAt10", "ndcgAt10"]) expect(metrics[name]).toBeGreaterThanOrEqual(0);
    }
    const text = await cli(["evaluate", "--file", file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^3 queries$/m);
    for (const mode of ["vector", "lexical", "hybrid"]) expect(text.stdout).toMatch(new RegExp(`^${mode} +[01]\\.\\d{3} +[01]\\.\\d{3} +[01]\\.\\d{3} +[01]\\.\\d{3}$`, "m"));

  }, 120_000); // two CLI runs, each opening PGlite in a fresh process

  it("rejects a file with bad lines, naming each line, before opening the database", async () => {
    const file = join(dir, "bad.jsonl");
    await writeFile(file, ['{"query": "fine", "expected": "abc"}', "not json", "", '{"query": "", "expected": "abc"}', '{"query": "x"}'].join("\n"));
    const run = await cli(["evaluate", "--file", file, "--json"]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^VALIDATION: Invalid queries file: line 2: not a JSON object; line 4\.query: .+; line 5\.expected: .+$/m);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: "VALIDATION" } });
  });

  it("needs --file and known modes", async () => {
    expect((await cli(["evaluate"])).code).toBe(2);
    const modes = await cli(["evaluate", "--file", "x.jsonl", "--modes", "semantic"]);
    expect(modes.code).toBe(2);
    expect(modes.stderr).toMatch(/--modes: expected vector, lexical or hybrid, got "semantic"/);
  });
});

function fieldsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).fields;
  }
  throw new Error("expected a ValidationError");
}

describe("parseQueries", () => {
  it("reads one query a line, skipping blank lines, with one expected document or several", () => {
    expect(parseQueries('{"query":"a","expected":"x"}\r\n\n{"query":"b","expected":["x","y"]}')).toEqual([
      { query: "a", expected: "x" },
      { query: "b", expected: ["x", "y"] },
    ]);
  });

  it("rejects unknown fields and an empty file, naming the line or the file", () => {
    expect(fieldsOf(() => parseQueries('{"query":"a","expected":"x","extra":1}'))).toEqual(["line 1"]);
    expect(fieldsOf(() => parseQueries("\n\n"))).toEqual(["(file)"]);
  });
});
