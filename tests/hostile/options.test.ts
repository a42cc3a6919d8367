import { expect, it } from "vitest";
import { ConfigurationError, createDualstore, type DualstoreOptions } from "../../src/index.js";
import { adminQuery, describeEachDatabase } from "../helpers/db.js";
import { expectRefused, refuses, type HostileCase } from "./hostile.js";

type Database = NonNullable<DualstoreOptions["database"]>;

/** createDualstore on the target's fresh database with `options` on top: every case fails before opening it. */
const open = (options: Record<string, unknown>) => (database: Database) =>
  createDualstore({ env: {}, vectorStore: { provider: "memory" }, ...options, database: { ...database, ...(options.database as object) } } as DualstoreOptions);
const C = ConfigurationError;

const cases: Array<HostileCase<Database>> = [
  refuses("a misspelled database option", (database) => createDualstore({ env: {}, databse: database } as never), C, "databse"),
  refuses("a misspelled database.url", open({ database: { ulr: "postgres://x" } }), C, "database.ulr"),
  refuses("a misspelled database.poolSize", open({ database: { poolsize: 3 } }), C, "database.poolsize"),
  refuses("an unknown database driver", open({ database: { driver: "mysql" } }), C, "database.driver"),
  refuses("database.poolSize 0", open({ database: { poolSize: 0 } }), C, "database.poolSize"),
  refuses("database.poolSize NaN", open({ database: { poolSize: Number.NaN } }), C, "database.poolSize"),
  refuses("a schema name of 64 characters", open({ database: { schema: "s".repeat(64) } }), C, "database.schema"),
  refuses("an empty database.url", open({ database: { url: "" } }), C, "database.url"),
  refuses("database.onQuery that is no function", open({ database: { onQuery: "log" } }), C, "database.onQuery"),
  refuses("database.prisma that is no client", open({ database: { prisma: {} } }), C, "database.prisma"),
  refuses("database.pglite that is no PGlite", open({ database: { pglite: "memory" } }), C, "database.pglite"),
  refuses("a misspelled database.neon option", open({ database: { neon: { wsProxi: "x" } } }), C, "database.neon.wsProxi"),
  refuses("an unknown database.managedBy", open({ database: { managedBy: "nobody" } }), C, "database.managedBy"),
  refuses("migrate: 'yes'", open({ migrate: "yes" }), C, "migrate"),
  refuses("a misspelled migrate", open({ migrte: false }), C, "migrte"),
  refuses("an empty migrationsDir", open({ migrationsDir: "" }), C, "migrationsDir"),
  refuses("migrate: true with managedBy app", open({ migrate: true, database: { managedBy: "app" } }), C, "migrate"),
  refuses("an unknown owners mode", open({ owners: "everyone" }), C, "owners"),
  refuses("transactions.timeoutMs 0", open({ transactions: { timeoutMs: 0 } }), C, "transactions.timeoutMs"),
  refuses("a misspelled transactions option", open({ transactions: { timeout: 5 } }), C, "transactions.timeout"),
  refuses("a misspelled sync.onWrite", open({ sync: { onWrit: "now" } }), C, "sync.onWrit"),
  refuses("an unknown sync.onWrite", open({ sync: { onWrite: "later" } }), C, "sync.onWrite"),
  refuses("an unknown sync.namespacing", open({ sync: { namespacing: "per-tenant" } }), C, "sync.namespacing"),
  refuses("sync.leaseMs 50", open({ sync: { leaseMs: 50 } }), C, "sync.leaseMs"),
  refuses("sync.leaseMs NaN", open({ sync: { leaseMs: Number.NaN } }), C, "sync.leaseMs"),
  refuses("sync.embedConcurrency 0", open({ sync: { embedConcurrency: 0 } }), C, "sync.embedConcurrency"),
  refuses("sync.contentLoader that is no function", open({ sync: { contentLoader: "fs" } }), C, "sync.contentLoader"),
  refuses("sync.retry.maxRetries 100", open({ sync: { retry: { maxRetries: 100 } } }), C, "sync.retry.maxRetries"),
  refuses("a misspelled sync.retry option", open({ sync: { retry: { maxRetry: 1 } } }), C, "sync.retry.maxRetry"),
  refuses("sync.jobs.maxAttempts 0", open({ sync: { jobs: { maxAttempts: 0 } } }), C, "sync.jobs.maxAttempts"),
  refuses("a misspelled sync.jobs option", open({ sync: { jobs: { attempts: 3 } } }), C, "sync.jobs.attempts"),
  refuses("chunker.chunkSize 8", open({ chunker: { chunkSize: 8 } }), C, "chunker.chunkSize"),
  refuses("a misspelled chunker option", open({ chunker: { chunksize: 256 } }), C, "chunker.chunksize"),
  refuses("a negative chunker.overlap", open({ chunker: { overlap: -1 } }), C, "chunker.overlap"),
  refuses("a logger that is a function", open({ logger: () => undefined }), C, "logger"),
  refuses("a logger without warn()", open({ logger: { info() {} } }), C, "logger"),
  refuses("env that is a string", open({ env: "production" }), C, "env"),
  refuses("an embedder that is a string", open({ embedder: "openai" }), C, "embedder"),
  refuses("an unknown embedder provider", open({ embedder: { provider: "gpt" } }), C, "embedder.provider"),
  refuses("a misspelled local embedder option", open({ embedder: { provider: "local", dimensions: 256 } }), C, "embedder.dimensions"),
  refuses("a local embedder dimension of 4", open({ embedder: { provider: "local", dimension: 4 } }), C, "embedder.dimension"),
  refuses("a misspelled OpenAI option", open({ embedder: { provider: "openai", apiKey: "sk-hostile-0123456789", modle: "x" } }), C, "embedder.modle"),
  refuses("a reranker that is a string", open({ search: { reranker: "cohere" } }), C, "search.reranker"),
  refuses("an unknown reranker provider", open({ search: { reranker: { provider: "jina" } } }), C, "search.reranker.provider"),
  refuses("a misspelled Cohere reranker option", open({ search: { reranker: { provider: "cohere", apiKey: "co-hostile-0123456789", modle: "x" } } }), C, "search.reranker.modle"),
  refuses("a misspelled search option", open({ search: { rerankr: () => [] } }), C, "search.rerankr"),
  refuses("search.candidates 0", open({ search: { candidates: 0 } }), C, "search.candidates"),
  refuses("a vector store that is a number", open({ vectorStore: 5 }), C, "vectorStore"),
  refuses("an unknown vector store provider", open({ vectorStore: { provider: "faiss" } }), C, "vectorStore.provider"),
  refuses("an option the memory store does not have", open({ vectorStore: { provider: "memory", index: "x" } }), C, "vectorStore.index"),
  refuses("a misspelled pgvector option", open({ vectorStore: { provider: "pgvector", efsearch: 10 } }), C, "vectorStore.efsearch"),
  refuses("pgvector efSearch 0", open({ vectorStore: { provider: "pgvector", efSearch: 0 } }), C, "vectorStore.efSearch"),
  refuses("a misspelled Pinecone option", open({ vectorStore: { provider: "pinecone", apiKey: "pcsk_hostile_0123456789", index: "i", nameSpacePrefix: "a" } }), C, "vectorStore.nameSpacePrefix"),
  refuses("a misspelled LanceDB option", open({ vectorStore: { provider: "lancedb", uri: "./vectors", tabel: "x" } }), C, "vectorStore.tabel"),
];

describeEachDatabase(
  "hostile input: createDualstore options",
  (target) => {
    it.each(cases.map((hostile) => [hostile.name, hostile] as const))("refuses %s, naming the option, before opening anything", async (_name, hostile) => {
      const database = await target.freshDatabase();
      await expectRefused(database, hostile);
      // Refused before the database was opened: its schema was never even created.
      const schema = database.url ? new URL(database.url).searchParams.get("schema") : null;
      if (schema) expect(await adminQuery("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema])).toEqual([]);
    });

    it("suggests the nearest known option", async () => {
      const error = await expectRefused(await target.freshDatabase(), cases[0]!);
      expect(error.message).toBe("databse: unknown option 'databse' (did you mean 'database'?)");
      const nested = await expectRefused(await target.freshDatabase(), cases[2]!);
      expect(nested.message).toContain("unknown option 'poolsize' (did you mean 'poolSize'?)");
    });
  },
  { neon: false },
);
