import { rm } from "node:fs/promises";
import { silentLogger } from "../../src/core/logger.js";
import { createLanceDbVectorStore } from "../../src/vector-stores/lancedb/lancedb-vector-store.js";
import { tempDir } from "../helpers/paths.js";
import { vectorStoreContract } from "./vector-store-contract.js";

vectorStoreContract("lancedb (local directory)", async () => {
  const directory = tempDir("dualstore-lancedb-");
  const store = await createLanceDbVectorStore({ uri: directory }, { env: {}, logger: silentLogger });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
});
