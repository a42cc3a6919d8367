// The dualstore CLI as a user runs it: the `dualstore` bin (bin/dualstore.mjs, which loads
// dist/cli.js) in a child process, each test on its own PGlite directory, with the offline
// LocalEmbedder and pgvector (PGlite ships it).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import { ensureBuilt } from "../helpers/build.js";
import { cleanEnv, runCli, type ChildOptions, type ChildRun } from "../helpers/child-process.js";
import { repoRoot } from "../helpers/paths.js";

const DATA = join(repoRoot, "examples", "data");
const OFFLINE = ["--embedder", "local", "--vector-store", "pgvector"];

/** `runCli()` against the PGlite directory `db`, offline. */
function cliOn(db: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildRun> {
  return runCli(["--database-url", db, ...OFFLINE, ...args], options);
}

function json<T>(run: ChildRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

interface IngestSummary {
  files: number;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  pruned: number;
  indexed: number;
  failed: number;
  chunks: number;
  embedded: number;
  interrupted: boolean;
}

const temporary: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dualstore-cli-"));
  temporary.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A database with examples/data ingested (public documents), copied by the tests that only read it. */
let ingestedTemplate: string;
const dataFiles = (await readdir(DATA)).filter((file) => file.endsWith(".md"));

beforeAll(async () => {
  ensureBuilt();
  ingestedTemplate = await mkdtemp(join(tmpdir(), "dualstore-cli-template-"));
  const run = await cliOn(join(ingestedTemplate, "db"), ["ingest", DATA, "--json"]);
  expect(run.code, run.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  if (ingestedTemplate) await rm(ingestedTemplate, { recursive: true, force: true });
});

async function copyOfIngested(): Promise<string> {
  const db = join(await tempDir(), "db");
  await cp(join(ingestedTemplate, "db"), db, { recursive: true });
  return db;
}

describe("dualstore CLI", () => {
  it("prints help and its version, exiting 0", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: dualstore <command>");
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*130/);
    for (const command of ["migrate", "ingest", "search", "reconcile", "status", "worker"]) {
      const commandHelp = await runCli([command, "--help"]);
      expect(commandHelp.code, command).toBe(0);
      expect(commandHelp.stdout).toContain(`Usage: dualstore ${command}`);
    }
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(packageJson.version);
  });

  it("exits 2 with a message on stderr for an unknown command", async () => {
    const run = await runCli(["frobnicate"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
    expect(run.stdout).toBe("");
  });

  it("exits 2 with a message naming the flag for a bad flag or value", async () => {
    const unknown = await runCli(["search", "--bogus", "query"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--bogus");
    const badValue = await runCli(["search", "query", "--top-k", "many"]);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain("--top-k: expected an integer");
  });

  it("migrates, then ingests a folder with progress on stderr and a JSON summary on stdout", async () => {
    const db = join(await tempDir(), "db");
    const migrate = await cliOn(db, ["migrate", "--json"]);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(json<{ applied: string[] }>(migrate).applied.length).toBeGreaterThan(0);

    const ingest = await cliOn(db, ["ingest", DATA, "--json"]);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stderr).toMatch(new RegExp(`index .* ${dataFiles.length}/${dataFiles.length} docs`));
    const summary = json<IngestSummary>(ingest);
    expect(summary).toMatchObject({ files: dataFiles.length, created: dataFiles.length, indexed: dataFiles.length, failed: 0, interrupted: false });
    expect(summary.chunks).toBeGreaterThan(dataFiles.length);
  });

  it("re-running ingest finds every file unchanged and embeds nothing", async () => {
    const db = await copyOfIngested();
    const summary = json<IngestSummary>(await cliOn(db, ["ingest", DATA, "--json"]));
    expect(summary).toMatchObject({ files: dataFiles.length, created: 0, updated: 0, unchanged: dataFiles.length, indexed: 0, embedded: 0 });
  });

  it("an interrupted ingest exits 130, and a re-run completes the rest without re-creating documents", async () => {
    const dir = await tempDir();
    const corpus = join(dir, "corpus");
    await mkdir(corpus);
    await Promise.all(Array.from({ length: 300 }, (_, i) => writeFile(join(corpus, `note-${String(i).padStart(3, "0")}.md`), noteText(i))));
    const db = join(dir, "db");

    let interrupted = false;
    const first = await cliOn(db, ["ingest", corpus, "--batch-size", "5"], {
      watch: (stderr, child) => {
        if (!interrupted && /^index /m.test(stderr)) {
          interrupted = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain("Run the same command again to continue");
    // The summary says what was done: every file stored, only some indexed, the rest not searchable yet.
    expect(first.stdout).toMatch(/^Interrupted after [\d.]+ s\.$/m);
    expect(first.stdout).toMatch(/^stored: 300 of 300 files \(300 created, 0 updated, 0 unchanged, 0 skipped, 0 failed\)$/m);
    const [, indexed, notIndexed] = /^indexed: (\d+) documents .*; (\d+) stored but not indexed yet, so not searchable$/m.exec(first.stdout) ?? [];
    expect(Number(indexed)).toBeGreaterThan(0);
    expect(Number(indexed) + Number(notIndexed)).toBe(300);

    const second = await cliOn(db, ["ingest", corpus, "--batch-size", "50", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const resumed = json<IngestSummary>(second);
    expect(resumed).toMatchObject({ files: 300, created: 0, unchanged: 300, indexed: Number(notIndexed), interrupted: false });

    const reconcile = json<{ consistent: boolean }>(await cliOn(db, ["reconcile", "--json"]));
    expect(reconcile.consistent).toBe(true);
  }, 120_000);

  it("--prune deletes the documents of files that disappeared", async () => {
    const dir = await tempDir();
    const folder = join(dir, "notes");
    await mkdir(folder);
    await Promise.all(["a", "b", "c"].map((name, i) => writeFile(join(folder, `${name}.md`), noteText(i))));
    const db = join(dir, "db");
    expect(json<IngestSummary>(await cliOn(db, ["ingest", folder, "--json"])).created).toBe(3);

    await rm(join(folder, "b.md"));
    await writeFile(join(folder, "c.md"), `${noteText(2)}\n\nAn added paragraph.`);
    const summary = json<IngestSummary>(await cliOn(db, ["ingest", folder, "--prune", "--json"]));
    expect(summary).toMatchObject({ files: 2, unchanged: 1, updated: 1, pruned: 1, indexed: 1 });
    const { hits } = json<{ hits: Array<{ title: string }> }>(await cliOn(db, ["search", "replica vector index", "--top-k", "10", "--json"]));
    expect(hits.map((hit) => hit.title)).not.toContain("b.md");
  });

  it("search --json returns ranked hits from the corpus", async () => {
    const db = await copyOfIngested();
    const run = await cliOn(db, ["search", "retry a failed promise with exponential backoff", "--top-k", "3", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const { hits } = json<{ hits: Array<{ score: number; title: string; chunk: { text: string } }> }>(run);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.length).toBeLessThanOrEqual(3);
    expect(hits[0]!.title).toBe("p-retry.md");
    for (const hit of hits) expect(dataFiles).toContain(hit.title);
    expect(hits.map((hit) => hit.score)).toEqual([...hits.map((hit) => hit.score)].sort((a, b) => b - a));

    // Text output names the file as a path a person can open (relative to the working directory).
    const text = await cliOn(db, ["search", "retry a failed promise with exponential backoff", "--top-k", "3"]);
    expect(text.stdout).toMatch(/^ 1\. \d\.\d{3} {2}examples\/data\/p-retry\.md {2}\(chunk \d+\)$/m);
    const shown = [...text.stdout.matchAll(/^ \d\. \d\.\d{3} {2}(\S+)/gm)].map((match) => match[1]!);
    expect(shown).toHaveLength(hits.length);
    for (const path of shown) expect(existsSync(join(repoRoot, path)), path).toBe(true);
  });

  it("reconcile --json reports no orphans and exits 0", async () => {
    const db = await copyOfIngested();
    const run = await cliOn(db, ["reconcile", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{ consistent: boolean; report: { orphans: { count: number }; missing: { count: number }; vectorsInStore: number } }>(run);
    expect(result.consistent).toBe(true);
    expect(result.report.orphans.count).toBe(0);
    expect(result.report.missing.count).toBe(0);
    expect(result.report.vectorsInStore).toBeGreaterThan(0);
  });

  it("status --json shows every store up and exits 0", async () => {
    const db = await copyOfIngested();
    const run = await cliOn(db, ["status", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const status = json<{ status: string; database: { status: string; latencyMs: number }; vectorStore: { status: string }; sync: { dead: number } }>(run);
    expect(status.status).toBe("up");
    expect(status.database.status).toBe("up");
    expect(status.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(status.vectorStore.status).toBe("up");
    expect(status.sync.dead).toBe(0);
  });

  it("a mysql:// database URL is a configuration error: exit 3", async () => {
    const run = await runCli(["status", "--database-url", "mysql://x"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^CONFIGURATION: database\.url/m);
  });

  it("worker drains enqueued jobs and exits 0 on SIGTERM", async () => {
    const db = await copyOfIngested();
    const enqueue = json<IngestSummary & { enqueued: number }>(
      await cliOn(db, ["ingest", DATA, "--user", "ada@example.com", "--tags", "ada", "--enqueue", "--json"]),
    );
    expect(enqueue).toMatchObject({ created: dataFiles.length, enqueued: dataFiles.length, indexed: 0 });

    let stopped = false;
    const worker = await cliOn(db, ["worker", "--poll-ms", "100", "--json"], {
      watch: (stderr, child) => {
        if (!stopped && /queue: 0 pending, 0 running, 0 dead, [1-9]/.test(stderr)) {
          stopped = true;
          child.kill("SIGTERM");
        }
      },
    });
    expect(worker.code, worker.stderr).toBe(0);
    expect(json<{ done: number; dead: number }>(worker)).toMatchObject({ done: dataFiles.length, dead: 0 });

    const status = json<{ sync: { pending: number; running: number } }>(await cliOn(db, ["status", "--json"]));
    expect(status.sync).toMatchObject({ pending: 0, running: 0 });
    // The worker indexed Ada's documents: Ada finds them; without --user, only public documents are searched.
    type Hits = { hits: Array<{ tags: string[] }> };
    const query = ["search", "websocket server broadcast", "--top-k", "10", "--min-score", "0.05", "--json"];
    const asAda = json<Hits>(await cliOn(db, [...query, "--user", "ada@example.com"]));
    const asPublic = json<Hits>(await cliOn(db, query));
    expect(asAda.hits.some((hit) => hit.tags.includes("ada"))).toBe(true);
    expect(asPublic.hits.length).toBeGreaterThan(0);
    expect(asPublic.hits.some((hit) => hit.tags.includes("ada"))).toBe(false);
  });

  it("worker running while ingest --enqueue writes the same default PGlite directory: the worker indexes it and nothing is lost", async () => {
    const db = join(await tempDir(), "db");
    expect((await cliOn(db, ["migrate"])).code).toBe(0);

    let ingest: Promise<ChildRun> | undefined;
    let stopped = false;
    const worker = cliOn(db, ["worker", "--poll-ms", "100", "--json"], {
      watch: (stderr, child) => {
        // The worker holds the directory; ingest, a second process, works through it.
        ingest ??= /worker started/.test(stderr) ? cliOn(db, ["ingest", DATA, "--user", "ada@example.com", "--enqueue", "--json"]) : undefined;
        if (!stopped && new RegExp(`queue: 0 pending, 0 running, 0 dead, ${dataFiles.length} done`).test(stderr)) {
          stopped = true;
          child.kill("SIGTERM");
        }
      },
    });
    const workerRun = await worker;
    expect(workerRun.code, workerRun.stderr).toBe(0);
    expect(json<{ done: number; dead: number }>(workerRun)).toMatchObject({ done: dataFiles.length, dead: 0 });
    const ingested = await ingest!;
    expect(ingested.code, ingested.stderr).toBe(0);
    expect(json<IngestSummary & { enqueued: number }>(ingested)).toMatchObject({ created: dataFiles.length, enqueued: dataFiles.length });

    // After the worker stopped, everything is still there: the user, the documents, the jobs done.
    const status = json<{ sync: { pending: number; done: number }; usage: { models: Array<{ texts: number; tokens: number; requests: number; owners: number }> } }>(
      await cliOn(db, ["status", "--json"]),
    );
    expect(status.sync).toMatchObject({ pending: 0, done: dataFiles.length });
    // The usage ledger saw what the worker embedded: one owner, one embedder.
    expect(status.usage.models).toHaveLength(1);
    expect(status.usage.models[0]!.owners).toBe(1);
    expect(status.usage.models[0]!.texts).toBeGreaterThanOrEqual(dataFiles.length);
    expect(status.usage.models[0]!.tokens).toBeGreaterThan(status.usage.models[0]!.texts);
    const again = json<IngestSummary>(await cliOn(db, ["ingest", DATA, "--user", "ada@example.com", "--enqueue", "--json"]));
    expect(again).toMatchObject({ created: 0, unchanged: dataFiles.length });
    const { hits } = json<{ hits: unknown[] }>(await cliOn(db, ["search", "websocket server broadcast", "--user", "ada@example.com", "--min-score", "0.05", "--json"]));
    expect(hits.length).toBeGreaterThan(0);
  }, 180_000);

  it("a worker using another process's PGlite opens the database again when that process stops, and goes on working", async () => {
    const db = join(await tempDir(), "db");
    // The holder: a library process (tests/fixtures/pglite-process.ts) that opened the directory first.
    const holder = spawn(process.execPath, ["--import", "./bench/hooks.ts", "tests/fixtures/pglite-process.ts", db], { cwd: repoRoot });
    await new Promise<void>((resolve) => holder.stdout.on("data", (chunk: Buffer) => chunk.toString().includes('"open"') && resolve()));

    let ingest: Promise<ChildRun> | undefined;
    let stopped = false;
    const worker = await cliOn(db, ["worker", "--poll-ms", "100", "--json"], {
      watch: (stderr, child) => {
        if (/using the database through pid/.test(stderr) && holder.exitCode === null && !holder.stdin.writableEnded) holder.stdin.end("close\n");
        if (/has stopped: opening it again/.test(stderr)) {
          ingest ??= cliOn(db, ["ingest", DATA, "--enqueue", "--json"]);
        }
        if (!stopped && ingest && new RegExp(`queue: 0 pending, 0 running, 0 dead, ${dataFiles.length} done`).test(stderr)) {
          stopped = true;
          child.kill("SIGTERM");
        }
      },
    });
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stderr).toContain(`using the database through pid ${holder.pid}`);
    expect(json<{ done: number }>(worker).done).toBe(dataFiles.length);
    expect((await ingest!).code).toBe(0);
  }, 180_000);

  describe("secrets passed through the environment", () => {
    const key = `sk-test-${randomBytes(16).toString("hex")}`;
    let server: Server;
    let echoingUrl: string;

    beforeAll(async () => {
      // Answers like OpenAI does to a bad key, but quoting the key in full.
      server = createServer((request, response) => {
        const sent = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
        response.writeHead(401, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${sent}`, type: "invalid_request_error", code: "invalid_api_key" } }));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      echoingUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    // --verbose logs every retry with its error, which is one more place a key could leak.
    const offlineOpenAI = ["--database-url", "memory://", "--vector-store", "memory", "--embedder", "openai", "--verbose"];
    const expectNoSecret = (run: ChildRun) => {
      expect(run.stdout + run.stderr).not.toContain(key);
      expect(run.stdout + run.stderr).not.toContain(key.slice("sk-test-".length));
    };

    it("never appear in stdout or stderr when the provider is unreachable", async () => {
      const env = cleanEnv({ OPENAI_API_KEY: key, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" });
      const search = await runCli([...offlineOpenAI, "search", "anything"], { env });
      // Hybrid search answers from its keywords when the embedder is down, and says why.
      expect(search.code).toBe(0);
      expect(search.stdout).toMatch(/^Keyword results only: the embedder failed \(PROVIDER: /m);
      expect(search.stderr).toContain("retrying");
      expectNoSecret(search);
    });

    it("never appear in stdout or stderr when the provider quotes the key back", async () => {
      const env = cleanEnv({ OPENAI_API_KEY: key, OPENAI_BASE_URL: echoingUrl });
      // status applies no migration: give it a migrated database of its own.
      const migrated = ["--database-url", join(await mkdtemp(join(tmpdir(), "dualstore-cli-secrets-")), "db"), ...offlineOpenAI.slice(2)];
      expect((await runCli([...migrated, "migrate"], { env })).code).toBe(0);
      const status = await runCli([...migrated, "status", "--json"], { env });
      expect(status.code).toBe(1);
      expect(json<{ embedder: { status: string; error: string } }>(status).embedder).toMatchObject({ status: "down", error: expect.stringContaining("401") });
      const search = await runCli([...migrated, "search", "anything", "--json"], { env });
      expect(search.code).toBe(0);
      expect(json<{ degraded: { component: string; code: string } }>(search).degraded).toMatchObject({ component: "embedder", code: "PROVIDER" });
      for (const run of [status, search]) expectNoSecret(run);
    });
  });
});

/** A few paragraphs of made-up but varied prose, so each note chunks and embeds like a real file. */
function noteText(seed: number): string {
  const words = ["replica", "vector", "index", "postgres", "chunk", "embed", "retry", "backoff", "queue", "worker", "lease", "fence", "commit", "shard"];
  const paragraphs = Array.from({ length: 8 }, (_, p) =>
    Array.from({ length: 90 }, (_, w) => words[(seed * 7 + p * 13 + w * w) % words.length]).join(" "),
  );
  return `# Note ${seed}\n\n${paragraphs.join("\n\n")}\n`;
}
