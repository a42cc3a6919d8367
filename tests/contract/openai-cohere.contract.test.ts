// The Embedder contract for OpenAI and Cohere, through their real SDKs against the local
// protocol servers (no network: the servers speak the same API on 127.0.0.1).
import { afterAll } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createCohereEmbedder } from "../../src/embedders/cohere/cohere-embedder.js";
import type { CohereEmbedderConfig } from "../../src/embedders/cohere/cohere-config.js";
import { createOpenAIEmbedder } from "../../src/embedders/openai/openai-embedder.js";
import type { OpenAIEmbedderConfig } from "../../src/embedders/openai/openai-config.js";
import { startCohereServer, type CohereServer } from "../servers/cohere-server.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";
import { embedderContract, type EmbedderHarness } from "./embedder-contract.js";

// One server per provider for the file, started by the first suite that needs it.
let openaiServer: Promise<OpenAIServer> | undefined;
let cohereServer: Promise<CohereServer> | undefined;

afterAll(async () => {
  await Promise.all([openaiServer, cohereServer].map(async (server) => (await server)?.close()));
});

const context = { env: {}, logger: silentLogger };

async function openai(config: OpenAIEmbedderConfig): Promise<EmbedderHarness> {
  const server = await (openaiServer ??= startOpenAIServer());
  const embedder = await createOpenAIEmbedder({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, ...config }, context);
  return { embedder, hangNextRequest: () => server.faults.next("timeout"), cleanup: async () => {} };
}

async function cohere(config: CohereEmbedderConfig): Promise<EmbedderHarness> {
  const server = await (cohereServer ??= startCohereServer());
  const embedder = await createCohereEmbedder({ apiKey: server.apiKey, baseUrl: server.url, ...config }, context);
  return { embedder, hangNextRequest: () => server.faults.next("timeout"), cleanup: async () => {} };
}

embedderContract("openai text-embedding-3-small (1536)", () => openai({}));
embedderContract("openai text-embedding-3-large (dimensions 256)", () => openai({ model: "text-embedding-3-large", dimensions: 256 }));
embedderContract("cohere embed-v4.0 (1024)", () => cohere({ outputDimension: 1024 }));
embedderContract("cohere embed-english-v3.0", () => cohere({ model: "embed-english-v3.0" }));
