// The Embedder contract against the real OpenAI and Cohere services. Runs only with their keys
// in the environment (OPENAI_API_KEY, COHERE_API_KEY; optional OPENAI_BASE_URL, COHERE_BASE_URL);
// without one, its suite is skipped loudly, not silently.
import { describe, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createCohereEmbedder } from "../../src/embedders/cohere/cohere-embedder.js";
import type { Embedder } from "../../src/embedders/embedder.js";
import { createOpenAIEmbedder } from "../../src/embedders/openai/openai-embedder.js";
import { embedderContract } from "../contract/embedder-contract.js";

const context = { env: process.env, logger: silentLogger };

function liveContract(name: string, keyVariable: string, create: () => Promise<Embedder>): void {
  if (process.env[keyVariable]) {
    embedderContract(`${name} (live)`, async () => ({ embedder: await create(), cleanup: async () => {} }));
    return;
  }
  console.warn(`\n[tests] SKIPPING live ${name} embedder tests: ${keyVariable} is not set\n`);
  describe.skip(`Embedder contract: ${name} (live; needs ${keyVariable})`, () => {
    it("meets the Embedder contract against the real service", () => {});
  });
}

liveContract("openai text-embedding-3-small", "OPENAI_API_KEY", () => createOpenAIEmbedder({}, context));
liveContract("cohere embed-v4.0", "COHERE_API_KEY", () => createCohereEmbedder({}, context));
