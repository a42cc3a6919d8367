// Every provider's configuration (embedder and vector store, keys included) is checked before
// the database is opened: a missing key fails at once, not after opening and migrating. Proved
// with databases that would fail differently if they were touched: a closed port (a
// ConnectionError) and a PGlite directory (which opening would create).
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigurationError, createDualstore, type DualstoreOptions } from "../../src/index.js";
import { rejectsWith } from "../helpers/errors.js";
import { tempDir } from "../helpers/paths.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cases: Array<[string, Omit<DualstoreOptions, "database">, RegExp]> = [
  ["a Pinecone store without a key", { vectorStore: { provider: "pinecone", index: "docs" }, embedder: { provider: "local" }, env: {} }, /vectorStore\.apiKey \(or PINECONE_API_KEY\): is required/],
  ["the Pinecone default (PINECONE_API_KEY set) without an index", { embedder: { provider: "local" }, env: { PINECONE_API_KEY: "pc-test-key-123456" } }, /PINECONE_INDEX/],
  ["an OpenAI embedder without a key", { embedder: { provider: "openai" }, vectorStore: { provider: "memory" }, env: {} }, /OPENAI_API_KEY/],
  ["a Cohere embedder without a key", { embedder: { provider: "cohere" }, vectorStore: { provider: "memory" }, env: {} }, /COHERE_API_KEY/],
  ["LanceDB Cloud without a key", { vectorStore: { provider: "lancedb", uri: "db://vectors" }, embedder: { provider: "local" }, env: {} }, /LANCEDB_API_KEY/],
];

describe("provider configuration is checked before the database is opened", () => {
  it.each(cases)("%s fails with a ConfigurationError, not a connection error", async (_name, options, message) => {
    const url = `postgresql://postgres:pw@127.0.0.1:${await closedPort()}/test`;
    const error = await rejectsWith(createDualstore({ ...options, database: { url } }), ConfigurationError);
    expect(error.message).toMatch(message);
  });

  it("a missing key leaves an on-disk PGlite directory uncreated", async () => {
    const dataDir = join(tempDir(), "db");
    await rejectsWith(createDualstore({ database: { url: dataDir }, vectorStore: { provider: "pinecone", index: "docs" }, env: {} }), ConfigurationError);
    expect(existsSync(dataDir)).toBe(false);
  });
});
