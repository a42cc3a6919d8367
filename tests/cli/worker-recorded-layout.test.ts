// `dualstore worker` serving an app it was given no options of: a real CLI process, started with
// nothing but the database URL, must index the app's documents the way the app recorded its
// index (here per-user namespaces, a 64-dimension local embedder and a LanceDB directory), not
// with the CLI's defaults.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore } from "../../src/index.js";
import { ensureBuilt } from "../helpers/build.js";
import { startCli } from "../helpers/child-process.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { eventually } from "../helpers/eventually.js";

(postgresAvailable ? describe : describe.skip)("dualstore worker follows the recorded index configuration [postgres]", () => {
  const schema = uniqueSchema("cliw");
  const url = `${TEST_DATABASE_URL}?schema=${schema}`;
  let lancedb: string;
  let app: Dualstore<PrismaClient>;

  beforeAll(async () => {
    ensureBuilt();
    lancedb = await mkdtemp(join(tmpdir(), "dualstore-cliw-"));
    app = (await createDualstore({
      database: { url },
      embedder: { provider: "local", dimension: 64 },
      vectorStore: { provider: "lancedb", uri: lancedb },
      sync: { namespacing: "per-user" },
      env: {},
    })) as unknown as Dualstore<PrismaClient>;
    // A cold build of dist/ takes minutes on a loaded machine.
  }, 600_000);

  afterAll(async () => {
    await app?.close();
    await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await rm(lancedb, { recursive: true, force: true });
  });

  it("indexes an app's per-user documents into the user's namespace, where the app's searches find them", async () => {
    const user = await app.users.create({ email: "grace@example.com" });
    const doc = await app.documents.create({ userId: user.id, title: "Checkpoints", source: "api", content: "A checkpoint flushes dirty pages so recovery replays less WAL." });
    expect((await app.sync.stats()).pending).toBe(1);

    const worker = startCli(["worker", "--database-url", url, "--poll-ms", "50", "--json"]);
    try {
      await eventually(async () => expect((await app.documents.get(doc.id)).indexStatus).toBe("INDEXED"), 60_000, 100);
    } finally {
      worker.child.kill("SIGTERM");
    }
    const run = await worker.exited;
    expect(run.code, run.stderr).toBe(0);
    expect(await app.documents.get(doc.id)).toMatchObject({ vectorNamespace: user.id, embedder: "local:hashing-v1:64" });
    const hits = await app.as(user.id).search("checkpoint recovery WAL", {});
    expect(hits.map((hit) => hit.document.id)).toEqual([doc.id]);
  });
});
