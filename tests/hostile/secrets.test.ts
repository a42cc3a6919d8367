// Secrets under hostile conditions: a provider echoing the key deep inside a long message, and
// every public object printed with util.inspect (as console.log and error trackers do).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactAndClip, registerSecret } from "../../src/core/redact.js";
import { createDualstore, DatabaseError, ProviderError, type Dualstore, type LogFields } from "../../src/index.js";
import { adminQuery, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

// Shaped like no generic secret pattern: only registration can mask them.
const PINECONE_KEY = "Zq9-hostile-pinecone-7731c0ffee";
const OPENAI_KEY = "Wv4-hostile-openai-5520beefcafe";
const DB_PASSWORD = "Hx7-hostile-db-password-9904";
const SECRETS = [PINECONE_KEY, OPENAI_KEY, DB_PASSWORD];

/** No secret, and not even the first characters of one (what a cut through it would leave). */
function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret.slice(0, 6));
}

function everything(error: unknown): string {
  const parts = [String(error), inspect(error, { depth: 10, showHidden: true })];
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    parts.push(current.message, current.stack ?? "");
  }
  return parts.join("\n");
}

describe("secrets in long messages", () => {
  let server: Server;
  let host: string;
  const clipSchema = uniqueSchema("clip");
  beforeAll(async () => {
    // A data plane that answers every request with an error echoing the key after character 490.
    server = createServer((_request, response) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { code: "INTERNAL", message: `${"x".repeat(492)} with key ${PINECONE_KEY} rejected` } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (postgresAvailable) await adminQuery(`DROP SCHEMA IF EXISTS "${clipSchema}" CASCADE`);
  });

  it("shows no part of a key that a provider message carries after character 490", async () => {
    const error = await rejectsWith(
      createDualstore({
        database: postgresAvailable ? { url: TEST_DATABASE_URL, schema: clipSchema } : { driver: "pglite" },
        vectorStore: { provider: "pinecone", apiKey: PINECONE_KEY, host, requestTimeoutMs: 2_000 },
        sync: { retry: { maxRetries: 0 } },
        env: {},
      }),
      ProviderError,
    );
    expect(error.status).toBe(500);
    expect(error.message).toContain("x".repeat(100));
    expectNoSecret(everything(error));
  }, 120_000);

  it("masks before it cuts, wherever a message is shortened", () => {
    registerSecret(OPENAI_KEY);
    for (const at of [0, 480, 490, 495, 499]) {
      const clipped = redactAndClip(`${"y".repeat(at)}${OPENAI_KEY} and more`, 500);
      expect(clipped.length).toBeLessThanOrEqual(500);
      expectNoSecret(clipped);
    }
  });

  it("masks a registered secret in any DualstoreError's message, however it was built", () => {
    registerSecret(DB_PASSWORD);
    const error = new DatabaseError(`Document: connection to postgresql://app:${DB_PASSWORD}@db.internal/app failed (${DB_PASSWORD})`);
    expectNoSecret(everything(error));
    expect(error.message).toContain("[redacted]");
  });
});

describe("secrets in what util.inspect prints", () => {
  let pinecone: PineconeServer;
  let openai: OpenAIServer;
  let ds: Dualstore;
  const logs: string[] = [];
  const schema = uniqueSchema("inspect");

  beforeAll(async () => {
    [pinecone, openai] = await Promise.all([
      startPineconeServer({ apiKey: PINECONE_KEY, indexes: [{ name: "inspect", dimension: 1536 }], retryAfterSeconds: 0 }),
      startOpenAIServer({ apiKey: OPENAI_KEY, retryAfterSeconds: 0 }),
    ]);
    const url = new URL(TEST_DATABASE_URL);
    url.password = DB_PASSWORD; // trust authentication ignores it; dualstore must still never show it
    url.searchParams.set("schema", schema);
    const record = (message: string, fields?: LogFields) => logs.push(`${message} ${JSON.stringify(fields ?? {})}`);
    ds = await createDualstore({
      database: postgresAvailable ? { url: url.toString() } : { driver: "pglite" },
      vectorStore: { provider: "pinecone", apiKey: PINECONE_KEY, host: pinecone.indexHost("inspect"), requestTimeoutMs: 2_000 },
      embedder: { provider: "openai", apiKey: OPENAI_KEY, baseURL: `${openai.url}/v1`, timeoutMs: 2_000 },
      sync: { retry: { maxRetries: 0 }, onWrite: "none" },
      logger: { debug: record, info: record, warn: record, error: record },
      env: {},
    });
  });

  afterAll(async () => {
    await ds?.close();
    if (postgresAvailable) await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await Promise.all([pinecone?.close(), openai?.close()]);
  });

  it("prints the instance, its scopes, repositories, Prisma client, embedder and store without a password or key", async () => {
    const user = await ds.users.create({ email: "inspect@example.com" });
    const scoped = ds.as(user.id);
    const printed = [ds, scoped, ds.users, ds.documents, scoped.chats, scoped.chats.messages, ds.embedder, ds.vectorStore, ds.database, ds.sync].map((value) =>
      inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    );
    for (const text of printed) expectNoSecret(text);
    // Prisma's own client prints its internals down to the driver's pool: as console.log shows it.
    expectNoSecret(inspect(ds.prisma, { depth: 3 }));
    expect(printed[0]).toMatch(/^Dualstore \{/);
    expect(printed[0]).toContain(postgresAvailable ? "[redacted]" : "pglite");
    expect(printed[1]).toContain(user.id);
  });

  it("keeps health reports and logs free of secrets when a provider fails", async () => {
    pinecone.faults.next("500", { times: 5 });
    openai.faults.next("500", { times: 5 });
    const report = await ds.health();
    expect(report.status).not.toBe("up");
    expectNoSecret(JSON.stringify(report));
    expectNoSecret(inspect(report, { depth: Number.POSITIVE_INFINITY }));
    expectNoSecret(logs.join("\n"));
  });
});
