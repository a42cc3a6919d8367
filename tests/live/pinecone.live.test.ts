// The VectorStore contract against the real Pinecone service. Runs only when PINECONE_API_KEY and
// PINECONE_INDEX (or PINECONE_HOST) are set; the index must be a serverless cosine index of
// dimension 8, and is created in aws/us-east-1 when PINECONE_INDEX names one that does not exist.
// Every run works under its own namespace prefix and deletes those namespaces afterwards.
// PINECONE_SETTLE_MS (default 10,000) is how long to wait for writes to become visible.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Pinecone } from "@pinecone-database/pinecone";
import { describe, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createPineconeVectorStore } from "../../src/vector-stores/pinecone/pinecone-vector-store.js";
import { vectorStoreContract } from "../contract/vector-store-contract.js";

const { PINECONE_API_KEY: apiKey, PINECONE_INDEX: index, PINECONE_HOST: host } = process.env;
const missing = [apiKey ? undefined : "PINECONE_API_KEY", index || host ? undefined : "PINECONE_INDEX (or PINECONE_HOST)"].filter(
  (name): name is string => name !== undefined,
);

if (missing.length > 0) {
  console.warn(`Skipping the live Pinecone contract: ${missing.join(" and ")} not set.`);
  describe.skip("VectorStore contract: pinecone (live)", () => {
    it(`runs against the real Pinecone service once ${missing.join(" and ")} is set`, () => {});
  });
} else {
  const settleMs = Number(process.env.PINECONE_SETTLE_MS ?? 10_000);

  vectorStoreContract("pinecone (live)", async () => {
    const namespacePrefix = `dualstore-live-${randomUUID().slice(0, 8)}-`;
    const store = await createPineconeVectorStore(
      { namespacePrefix, ...(index ? { createIfMissing: { cloud: "aws" as const, region: "us-east-1" } } : {}) },
      { env: process.env, logger: silentLogger },
    );
    return {
      store,
      settle: () => sleep(settleMs),
      cleanup: async () => {
        const sdk = new Pinecone({ apiKey: apiKey! });
        const data = sdk.index({ host: host ?? (await sdk.describeIndex(index!)).host });
        await sleep(settleMs);
        const stats = await data.describeIndexStats();
        const ours = Object.keys(stats.namespaces ?? {}).filter((name) => name.startsWith(namespacePrefix));
        await Promise.all(ours.map((namespace) => data.deleteAll({ namespace })));
      },
    };
  });
}
