// `dualstore embeddings migrate` killed mid-build (SIGKILL, while the embedding provider holds its
// fourth request) and run again: the second process finishes the model change without sending
// again what the first one built, and the end state is the same as an uninterrupted run's. On
// PostgreSQL with LanceDB; and on an on-disk PGlite with pgvector, which the app (this process)
// holds and serves, so each CLI process works through its socket.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, type Dualstore, type DualstoreOptions } from "../../src/index.js";
import { ensureBuilt } from "../helpers/build.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { eventually } from "../helpers/eventually.js";
import { modelOf, topic } from "../helpers/model-change.js";
import { cleanEnv, startCli } from "../helpers/child-process.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";

const OLD = "local:hashing-v1:64";
const NEW = "openai:text-embedding-3-small:128";
const DOCUMENTS = 12;

/** The texts of each embedding request the server received, in order. */
function embeddingRequests(server: OpenAIServer): string[][] {
  return server.requests.filter((r) => r.path.endsWith("/embeddings")).map((r) => [(r.body as { input: string | string[] }).input].flat());
}

/** Where the app keeps its index, as the app and the CLI open it. */
interface Place {
  /** `--database-url` of the CLI. */
  readonly databaseUrl: string;
  readonly database: NonNullable<DualstoreOptions["database"]>;
  readonly vectorStore: DualstoreOptions["vectorStore"];
  /** Vectors in the store's table of this dimension. */
  count(app: Dualstore<PrismaClient>, dimension: number): Promise<number>;
  /** Another instance on the app's database: the end state as a process configured with the new model sees it. */
  reopen(app: Dualstore<PrismaClient>, options: Pick<DualstoreOptions, "embedder">): Promise<Dualstore<PrismaClient>>;
  cleanUp(): Promise<void>;
}

async function onPostgres(): Promise<Place> {
  const schema = uniqueSchema("emk");
  const url = `${TEST_DATABASE_URL}?schema=${schema}`;
  const lancedb = await mkdtemp(join(tmpdir(), "dualstore-emk-"));
  return {
    databaseUrl: url,
    database: { url },
    vectorStore: { provider: "lancedb", uri: lancedb },
    async count(_app, dimension) {
      const lance = await import("@lancedb/lancedb");
      const connection = await lance.connect(lancedb);
      try {
        return await (await connection.openTable(`vectors_${dimension}`)).countRows();
      } finally {
        connection.close();
      }
    },
    reopen: async (_app, options) => (await createDualstore({ database: { url }, ...options, env: {} })) as unknown as Dualstore<PrismaClient>,
    async cleanUp() {
      await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await rm(lancedb, { recursive: true, force: true });
    },
  };
}

async function onPglite(): Promise<Place> {
  const dir = await mkdtemp(join(tmpdir(), "dualstore-emk-"));
  const dataDir = join(dir, "db");
  return {
    databaseUrl: dataDir,
    database: { url: dataDir },
    vectorStore: { provider: "pgvector" },
    async count(app, dimension) {
      const [row] = await app.prisma.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM dualstore_vectors.vectors_${dimension}`);
      return row!.n;
    },
    reopen: async (app, options) =>
      (await createDualstore({ database: { prisma: app.prisma, schema: app.database.schema }, migrate: false, ...options, env: {} })) as unknown as Dualstore<PrismaClient>,
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}

const targets = [
  { name: "postgres", available: postgresAvailable, place: onPostgres },
  { name: "pglite", available: true, place: onPglite },
];

for (const target of targets) {
  (target.available ? describe : describe.skip)(`a model change killed mid-build resumes [${target.name}]`, () => {
    let place: Place;
    let openai: OpenAIServer;
    const opened: Array<Dualstore<PrismaClient>> = [];

    beforeAll(async () => {
      ensureBuilt();
      place = await target.place();
      openai = await startOpenAIServer();
      // A cold build of dist/ takes minutes on a loaded machine.
    }, 600_000);

    afterAll(async () => {
      // The app last: it holds an on-disk PGlite the others use.
      for (const ds of opened.reverse()) await ds.close();
      await openai?.close();
      await place?.cleanUp();
    });

    function migrate(): ReturnType<typeof startCli> {
      const env = cleanEnv({ OPENAI_API_KEY: openai.apiKey, OPENAI_BASE_URL: `${openai.url}/v1` });
      return startCli(["embeddings", "migrate", "--database-url", place.databaseUrl, "--to", "openai:text-embedding-3-small:128", "--batch-size", "2", "--yes", "--json"], { env });
    }

    it("a second run finishes the change, sending only the texts the killed run had not built; the old vectors are gone and reconcile is clean", async () => {
      const app = (await createDualstore({
        database: place.database,
        embedder: { provider: "local", dimension: 64 },
        vectorStore: place.vectorStore,
        sync: { onWrite: "now" },
        env: {},
      })) as unknown as Dualstore<PrismaClient>;
      opened.push(app);
      for (let i = 0; i < DOCUMENTS; i++) await app.documents.create({ title: `n${i}`, source: "api", content: topic(i) });

      // The provider answers three requests (three batches of two documents), then holds every other.
      let seen = 0;
      const held = new Promise<void>(() => {});
      openai.faults.next("stall", { times: Infinity, match: (request) => request.path.endsWith("/embeddings") && ++seen > 3, until: held });
      const first = migrate();
      await eventually(async () => expect(embeddingRequests(openai).length, "the fourth request is held").toBeGreaterThanOrEqual(4), 120_000, 50);
      first.child.kill("SIGKILL");
      expect((await first.exited).code).toBeNull();
      const builtTexts = embeddingRequests(openai).slice(0, 3).flat();
      expect(builtTexts).toHaveLength(6);
      expect(await app.embeddings.status()).toMatchObject({ state: "building", live: OLD, building: NEW, documents: DOCUMENTS, built: 6 });
      // The live generation still answers.
      expect((await app.search("zebra7 river7", { userId: null, mode: "vector", topK: 1 }))[0]!.document.title).toBe("n7");

      openai.faults.clear();
      const before = openai.requests.length;
      const second = migrate();
      const { code, stdout, stderr } = await second.exited;
      expect(code, stderr).toBe(0);
      const sent = openai.requests.slice(before).filter((r) => r.path.endsWith("/embeddings")).flatMap((r) => [(r.body as { input: string | string[] }).input].flat());
      expect(sent).toHaveLength(DOCUMENTS - 6);
      expect(sent.filter((text) => builtTexts.includes(text))).toEqual([]);
      expect(JSON.parse(stdout)).toMatchObject({ from: OLD, to: NEW, documents: DOCUMENTS, built: DOCUMENTS, embedded: DOCUMENTS - 6, removed: DOCUMENTS });

      const after = await place.reopen(app, { embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1`, dimensions: 128 } });
      opened.push(after);
      expect(await after.prisma.indexGeneration.findMany()).toMatchObject([{ state: "LIVE", embedder: NEW, dimension: 128 }]);
      expect(await after.prisma.generationDocument.count()).toBe(0);
      expect(await place.count(app, 64)).toBe(0);
      expect(await place.count(app, 128)).toBe(DOCUMENTS);
      expect(await after.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
      const [hit] = await after.search("zebra7 river7", { userId: null, mode: "vector", topK: 1 });
      expect(hit!.document.title).toBe("n7");
      expect(modelOf(hit!, [OLD, NEW])).toBe(NEW);
    });
  });
}
