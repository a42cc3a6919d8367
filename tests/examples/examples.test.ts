// The examples as a user runs them: `npm run quickstart`, `npm run example:*` (Node 22 runs
// TypeScript directly), importing "dualstore" from dist/. Each must exit 0, print what it
// promises, and leave an up-to-date dist/ alone: only changed sources are worth a 20 s build.
import { execFile } from "node:child_process";
import { readdir, rm, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/build.js";
import { cleanEnv, startChild, type ChildRun } from "../helpers/child-process.js";
import { freshServerDatabase } from "../helpers/app-database.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { repoRoot } from "../helpers/paths.js";
import { startOpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer } from "../servers/pinecone-server.js";

const builtAt = () => stat(join(repoRoot, "dist", "index.js")).then((info) => info.mtimeMs);

/** `npm run <script>`; fails the test if it rebuilt dist/, which is current (beforeAll built it). */
async function runExample(script: string, services: Record<string, string> = {}): Promise<ChildRun> {
  const before = await builtAt();
  const run = await startChild(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", script], { env: cleanEnv(services) }).exited;
  expect(await builtAt(), `npm run ${script} rebuilt an up-to-date dist/`).toBe(before);
  return run;
}

const dataFiles = (await readdir(join(repoRoot, "examples", "data"))).filter((file) => file.endsWith(".md"));

beforeAll(() => ensureBuilt(), 300_000);

describe("examples", () => {
  it("quickstart indexes the README files and answers searches", async () => {
    const run = await runExample("quickstart");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Indexed \d+ documents into \d+ chunks/m);
    expect(run.stdout).toMatch(/\? retry a failed promise with exponential backoff\n +\d\.\d{3} {2}p-retry/);
    expect(run.stdout).toMatch(/^health: up/m);
  });

  it("chat-with-rag stores a grounded assistant turn and a sources artifact linked to it", async () => {
    const run = await runExample("example:chat");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("user:\nHow do I retry a failed promise with exponential backoff?");
    expect(run.stdout).toMatch(/assistant \(extractive-demo, \d+ tokens, \d+ ms\):\nFrom your documents:\n- .*exponential backoff.* \[1\]/);
    expect(run.stdout).toMatch(/--- artifact "Sources" \(markdown, linked to message \w+\) ---/);
    expect(run.stdout).toMatch(/\| 1 \| p-retry \| \d+ \| \d\.\d{3} \|/);
  });

  it("bulk-ingest ingests the folder with progress, then finds it unchanged on a second run", async () => {
    const run = await runExample("example:bulk");
    expect(run.code, run.stderr).toBe(0);
    const n = dataFiles.length;
    expect(run.stdout).toContain(`  index: ${n}/${n}`);
    expect(run.stdout).toMatch(new RegExp(`^first run: ${n} files, ${n} created, 0 updated, 0 unchanged, 0 skipped, 0 failed; ${n} indexed`, "m"));
    expect(run.stdout).toMatch(new RegExp(`^second run: ${n} files, 0 created, 0 updated, ${n} unchanged, .*; 0 indexed, 0 chunks, 0 embedded`, "m"));
    expect(run.stdout).toMatch(/^Search works: top hit "[\w-]+\.md" \(file:\/\//m);
  });

  it("serverless-drain refuses a call without the secret, drains in budgeted calls until no work is left, then after a write", async () => {
    const run = await runExample("example:serverless");
    expect(run.code, run.stderr).toBe(0);
    const n = dataFiles.length - 1; // SOURCES.md is not ingested
    expect(run.stdout).toContain(`Wrote ${n} documents; ${n} index jobs are due.`);
    expect(run.stdout).toMatch(/^without the secret: 401$/m);
    expect(run.stdout).toMatch(/^call 1: 200, \d+ done in \d+ ms \(budget 1000 ms\)/m);
    expect(run.stdout).toMatch(/^call \d+: 200, \d+ done in \d+ ms \(budget 1000 ms\), 0 due, work left: no$/m);
    expect(run.stdout).toContain(`${n} documents indexed through the endpoint.`);
    expect(run.stdout).toMatch(/^after-write drain: 1 done; INDEXED$/m);
    // 9 s of CPU; a loaded shared machine stretched its wall time past a minute.
  }, 180_000);

  it("neon-pinecone without keys names the missing variables, says skipped and exits 0", async () => {
    const run = await runExample("example:production");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "Missing environment variables: NEON_DATABASE_URL (or DATABASE_URL), PINECONE_API_KEY, PINECONE_INDEX (or PINECONE_HOST), OPENAI_API_KEY.",
    );
    expect(run.stdout.trim().split("\n").at(-1)).toBe("skipped");
  });

  // The production path with every variable set, the services being the protocol servers and the
  // local PostgreSQL (through node-postgres: the Neon driver needs a *.neon.tech host).
  it.skipIf(!postgresAvailable)("neon-pinecone with every variable set ingests, searches and reports health", async () => {
    const [pinecone, openai] = await Promise.all([
      startPineconeServer({ indexes: [{ name: "example", dimension: 1536 }] }),
      startOpenAIServer(),
    ]);
    const schema = uniqueSchema("example");
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set("schema", schema);
    try {
      const run = await runExample("example:production", {
        DATABASE_URL: url.toString(),
        PINECONE_API_KEY: pinecone.apiKey,
        PINECONE_HOST: pinecone.indexHost("example"),
        OPENAI_API_KEY: openai.apiKey,
        OPENAI_BASE_URL: `${openai.url}/v1`,
      });
      expect(run.code, run.stderr).toBe(0);
      const n = dataFiles.length;
      expect(run.stdout).toMatch(new RegExp(`^${n} files: ${n} created, 0 updated, 0 unchanged; ${n} indexed \\((\\d+) chunks embedded\\)`, "m"));
      const embedded = Number(/indexed \((\d+) chunks embedded\)/.exec(run.stdout)?.[1]);
      pinecone.settle();
      expect(pinecone.storedVectors("example")).toHaveLength(embedded);
      expect(run.stdout).toMatch(/\? retry with exponential backoff\n +\d\.\d{3} {2}p-retry\.md/);
      expect(run.stdout).toMatch(/^database: up in [\d.]+ ms/m);
      expect(run.stdout).toMatch(/^vectorStore: up in [\d.]+ ms/m);
      expect(run.stdout).toMatch(/^embedder: up in [\d.]+ ms/m);
      expect(`${run.stdout}${run.stderr}`).not.toContain(openai.apiKey);
      expect(`${run.stdout}${run.stderr}`).not.toContain(pinecone.apiKey);
    } finally {
      await Promise.all([pinecone.close(), openai.close()]);
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it("existing-app generates its own Prisma client, installs its sources and finds a raw-SQL write, per owner; its code type-checks", async () => {
    const example = join(repoRoot, "examples", "existing-app");
    await rm(join(example, "generated"), { recursive: true, force: true });
    const run = await runExample("example:existing-app");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^source products: public\.Product, 3 rows, 3 enqueued$/m);
    expect(run.stdout).toMatch(/^source tickets: public\.Ticket, 1 rows, 1 enqueued$/m);
    // Bob's ticket came in through raw SQL after the install; only Bob finds it.
    const [ada, bob] = run.stdout.split(/^bob\? /m);
    expect(bob).toMatch(/tickets:raw-\d+ {2}ticket "Tent pole snapped"/);
    expect(ada).not.toContain("Tent pole snapped");
    expect(ada).toMatch(/products:\d+ {2}Trail tent \(outdoor\)/);
    expect(run.stdout).toMatch(/^products: 3\/3 indexed, tickets: 2\/2 indexed$/m);
    await promisify(execFile)(process.execPath, [join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", example], { cwd: repoRoot });
  }, 300_000);

  // The same app on a PostgreSQL server: its tables in public, dualstore's in the schema "dualstore"; vectors in Pinecone (the protocol server).
  it.skipIf(!postgresAvailable)("existing-app runs against PostgreSQL, side by side with the app's tables", async () => {
    const pinecone = await startPineconeServer({ indexes: [{ name: "existing-app", dimension: 384 }] });
    try {
      const url = await freshServerDatabase();
      const run = await runExample("example:existing-app", { DATABASE_URL: url, PINECONE_API_KEY: pinecone.apiKey, PINECONE_HOST: pinecone.indexHost("existing-app") });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^products: 3\/3 indexed, tickets: 2\/2 indexed$/m);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>(
          `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_name IN ('Product', 'Ticket', 'User', 'Document') ORDER BY 1`,
        );
        expect(rows.map((row) => row.name)).toEqual(["dualstore.Document", "dualstore.User", "public.Product", "public.Ticket", "public.User"]);
      } finally {
        await client.end();
      }
    } finally {
      await pinecone.close();
    }
  }, 300_000);
});
