// A database that cannot be reached is reported as what it is, before any migration: a
// ConnectionError (CONNECTION_FAILED) naming where dualstore tried, in one line, with no secret.
// A URL whose password breaks its syntax is a ConfigurationError that quotes none of it.
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigurationError, ConnectionError, createDualstore, MigrationError, type DualstoreOptions } from "../../src/index.js";
import { rejectsWith } from "../helpers/errors.js";
import { postgresAvailable, TEST_DATABASE_URL } from "../helpers/db.js";
import { startNeonBridge, type NeonBridge } from "../servers/neon-bridge.js";

const PASSWORD = "Zq7hunter2Kp";

/** A TCP port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const open = (database: NonNullable<DualstoreOptions["database"]>) => createDualstore({ database, env: {}, vectorStore: null });

function expectOneLineWithoutSecret(error: Error): void {
  expect(error.message).not.toContain("\n");
  expect(error.message).not.toContain(PASSWORD);
  expect(error.message).not.toContain("[object");
  expect(error.message.length).toBeLessThan(300);
}

describe("an unreachable PostgreSQL server", () => {
  it("is a ConnectionError naming host and port, raised before migrating", async () => {
    const port = await closedPort();
    const error = await rejectsWith(open({ url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/test` }), ConnectionError);
    expect(error).not.toBeInstanceOf(MigrationError);
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.target).toBe(`127.0.0.1:${port}`);
    expect(error.message).toBe(
      `Cannot connect to the database at 127.0.0.1:${port}: connection refused (is the server running, and listening on that port?) [ECONNREFUSED]`,
    );
    expectOneLineWithoutSecret(error);
  });

  it("says a host name that does not resolve is not found", async () => {
    const error = await rejectsWith(open({ url: `postgresql://postgres:${PASSWORD}@no-such-host.invalid:5432/test` }), ConnectionError);
    expect(error.message).toMatch(/^Cannot connect to the database at no-such-host\.invalid:5432: host name (not found|lookup failed)/);
    expectOneLineWithoutSecret(error);
  });

  it.skipIf(!postgresAvailable)("passes on the server's own reason when it refuses the connection", async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = "/no_such_database_here";
    const error = await rejectsWith(open({ url: url.toString() }), ConnectionError);
    expect(error.message).toContain('database "no_such_database_here" does not exist');
  });

  it("is reported by an explicit migrate() too, when the instance was created without migrating", async () => {
    const port = await closedPort();
    const ds = await createDualstore({ database: { url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/test` }, env: {}, vectorStore: null, migrate: false });
    try {
      await rejectsWith(ds.migrate(), ConnectionError);
    } finally {
      await ds.close();
    }
  });
});

describe("a password with characters a URL reserves", () => {
  // In "p@ss/word" the "/" ends the host part: the URL parses with "ss" as its host (the issue's
  // "Can't reach database server at ss"). "#" and "?" cut it short the same way; "ab/" makes the
  // URL unparseable.
  const malformed = [
    `postgresql://postgres:p@${PASSWORD}/word@127.0.0.1:5432/test`,
    `postgresql://postgres:12#${PASSWORD}@127.0.0.1:5432/test`,
    `postgresql://postgres:12?${PASSWORD}@127.0.0.1:5432/test`,
    `postgresql://postgres:ab/${PASSWORD}@127.0.0.1:5432/test`,
  ];

  it.each(malformed)("is a ConfigurationError that says to percent-encode and quotes no part of the URL (%#)", async (url) => {
    const error = await rejectsWith(open({ url }), ConfigurationError);
    expect(error.message).toMatch(/^database\.url: (malformed|not a valid) postgres:\/\/ URL/);
    expect(error.message).toContain("percent-encode");
    for (let i = 0; i + 3 <= PASSWORD.length; i++) expect(error.message).not.toContain(PASSWORD.slice(i, i + 3));
    expect(error.message).not.toContain("127.0.0.1");
  });

  it("works once percent-encoded", async () => {
    const url = `postgresql://postgres:${encodeURIComponent(`ab/${PASSWORD}`)}@127.0.0.1:${await closedPort()}/test`;
    // Well-formed: the failure is now the honest one, about the real host.
    const error = await rejectsWith(open({ url }), ConnectionError);
    expect(error.target).toMatch(/^127\.0\.0\.1:/);
  });
});

describe("an unreachable Neon endpoint, through Neon's real driver", () => {
  let bridge: NeonBridge | undefined;
  afterAll(() => bridge?.close());

  const neonUrl = `postgresql://postgres:${PASSWORD}@ep-unreachable.local.invalid:5432/test`;

  it("whose WebSocket proxy refuses is a one-line ConnectionError with the real cause", async () => {
    const port = await closedPort();
    const settings = { wsProxy: () => `127.0.0.1:${port}/v2`, useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false as const };
    const error = await rejectsWith(open({ url: neonUrl, driver: "neon", neon: settings }), ConnectionError);
    expect(error.target).toBe("ep-unreachable.local.invalid:5432");
    // Node's WebSocket says no more than this about a refused connection.
    expect(error.message).toMatch(/^Cannot connect to the database at ep-unreachable\.local\.invalid:5432: .*(network error|ECONNREFUSED)/);
    expectOneLineWithoutSecret(error);
  });

  it("whose database server is down behind the proxy is a one-line ConnectionError", async () => {
    bridge = await startNeonBridge({ targetHost: "127.0.0.1", targetPort: await closedPort() });
    const error = await rejectsWith(open({ url: neonUrl, driver: "neon", neon: bridge.neonSettings }), ConnectionError);
    expect(error.target).toBe("ep-unreachable.local.invalid:5432");
    expectOneLineWithoutSecret(error);
  });
});
