// API keys and database passwords must never surface: not in thrown errors (message, stack,
// causes), not in logs, not in health(), not in what dualstore writes to its own tables.
import { inspect } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDualstore, type Dualstore, type LogFields } from "../../src/index.js";
import { postgresAvailable, TEST_DATABASE_URL, uniqueSchema, adminQuery } from "../helpers/db.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

const PINECONE_KEY = "pcsk_secret_pinecone_4f9d2b7e1a";
const OPENAI_KEY = "sk-secret-openai-8c3e5a1f9b7d";
const DB_PASSWORD = "db-password-6e2f8a1c";

let pinecone: PineconeServer;
let openai: OpenAIServer;
const logs: string[] = [];
const schema = uniqueSchema("secrets");
let ds: Dualstore;

beforeAll(async () => {
  [pinecone, openai] = await Promise.all([
    startPineconeServer({ apiKey: PINECONE_KEY, indexes: [{ name: "secrets", dimension: 1536 }], retryAfterSeconds: 0 }),
    startOpenAIServer({ apiKey: OPENAI_KEY, retryAfterSeconds: 0 }),
  ]);
  const record = (level: string) => (message: string, fields?: LogFields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const url = new URL(TEST_DATABASE_URL);
  url.password = DB_PASSWORD; // trust authentication ignores it; dualstore must still never show it
  url.searchParams.set("schema", schema);
  ds = await createDualstore({
    database: postgresAvailable ? { url: url.toString() } : { driver: "pglite" },
    vectorStore: { provider: "pinecone", apiKey: PINECONE_KEY, host: pinecone.indexHost("secrets"), requestTimeoutMs: 500 },
    embedder: { provider: "openai", apiKey: OPENAI_KEY, baseURL: `${openai.url}/v1`, timeoutMs: 500 },
    sync: { retry: { maxRetries: 1, minDelayMs: 1 }, jobs: { maxAttempts: 1 }, onWrite: "none" },
    logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
    env: {},
  });
});

afterAll(async () => {
  await ds?.close();
  if (postgresAvailable) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await Promise.all([pinecone?.close(), openai?.close()]);
});

function expectClean(text: string): void {
  for (const secret of [PINECONE_KEY, OPENAI_KEY, DB_PASSWORD]) expect(text).not.toContain(secret);
}

function everything(error: unknown): string {
  const parts = [String(error), JSON.stringify(error), inspect(error, { depth: 10, showHidden: true })];
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? "");
  }
  return parts.join("\n");
}

it("keeps keys out of errors for rejected keys, server errors, dropped connections and timeouts", async () => {
  const user = await ds.users.create({ email: "secrets@example.com" });
  const doc = await ds.documents.create({ userId: user.id, title: "t", source: "api", content: "some text" });
  for (const kind of ["500", "drop", "timeout", "429"] as const) {
    openai.faults.next(kind, { times: 3 });
    const error = await ds.indexDocument(doc.id).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expectClean(everything(error));
  }
  for (const kind of ["500", "drop", "timeout"] as const) {
    pinecone.faults.next(kind, { times: 3 });
    const error = await ds.search("text", { userId: user.id, minScore: 0, mode: "vector" }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expectClean(everything(error));
  }
  // A rejected key: the services answer 401 naming the key they got.
  const wrongKey = await createDualstore({
    database: { driver: "pglite" },
    vectorStore: { provider: "memory" },
    embedder: { provider: "openai", apiKey: `${OPENAI_KEY}-revoked`, baseURL: `${openai.url}/v1` },
    sync: { retry: { maxRetries: 0 }, onWrite: "none" },
    env: {},
  });
  try {
    const revoked = await wrongKey.documents.create({ title: "t", source: "api", content: "x" });
    expectClean(everything(await wrongKey.indexDocument(revoked.id).then(() => undefined, (e: unknown) => e)));
  } finally {
    await wrongKey.close();
  }
});

it("keeps keys out of what dualstore records: document errors and dead jobs", async () => {
  const doc = await ds.documents.create({ title: "queued", source: "api", content: "queued text" });
  await ds.sync.enqueue([doc.id]);
  openai.faults.next("500", { times: 10 });
  await ds.sync.drain();
  const row = await ds.documents.get(doc.id);
  expect(row.indexError).toBeTruthy();
  expectClean(JSON.stringify(row));
  expectClean(JSON.stringify(await ds.prisma.syncJob.findMany()));
});

it("keeps keys and the database password out of health() and logs", async () => {
  pinecone.faults.next("500", { times: 5 });
  const report = await ds.health();
  expect(report.status).toBe("degraded");
  expect(report.vectorStore!.status).toBe("down");
  expectClean(JSON.stringify(report));
  expectClean(ds.database.location);
  expect(logs.length).toBeGreaterThan(0);
  expectClean(logs.join("\n"));
});
