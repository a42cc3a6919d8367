// The VectorStore contract against the real Pinecone SDK talking to the local protocol server,
// with a visibility delay so that eventual consistency is exercised, not assumed away.
import { afterAll } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createPineconeVectorStore } from "../../src/vector-stores/pinecone/pinecone-vector-store.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";
import { vectorStoreContract } from "./vector-store-contract.js";

const servers: PineconeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

vectorStoreContract("pinecone (protocol server)", async (dimension) => {
  const server = await startPineconeServer({ indexes: [{ name: "contract", dimension }], visibilityDelayMs: 30 });
  servers.push(server);
  const store = await createPineconeVectorStore(
    { apiKey: server.apiKey, index: "contract", controllerHostUrl: server.url, requestTimeoutMs: 5_000 },
    { env: {}, logger: silentLogger },
  );
  return {
    store,
    settle: async () => server.settle(),
    hangNextRequest: () => server.faults.next("timeout", { match: "/data/" }),
    cleanup: () => server.close(),
  };
});
