// The Reranker contract for Cohere (the real SDK against the local protocol server) and for a
// scoring function (here: the share of the query's words a text holds, as a user might write).
import { afterAll } from "vitest";
import { createCohereReranker } from "../../src/rerankers/cohere/cohere-reranker.js";
import { FunctionReranker } from "../../src/index.js";
import { startCohereServer, type CohereServer } from "../servers/cohere-server.js";
import { overlapRelevance } from "../servers/cohere-rerank.js";
import { rerankerContract } from "./reranker-contract.js";

let cohereServer: Promise<CohereServer> | undefined;
afterAll(async () => (await cohereServer)?.close());

rerankerContract("cohere rerank-v3.5", async () => {
  const server = await (cohereServer ??= startCohereServer());
  const reranker = await createCohereReranker({ provider: "cohere", apiKey: server.apiKey, baseUrl: server.url }, {});
  return { reranker, hangNextRequest: () => server.faults.next("timeout"), cleanup: async () => {} };
});

rerankerContract("function (word overlap)", async () => ({
  reranker: new FunctionReranker(({ query, texts }) => texts.map((text) => overlapRelevance(query, text)), { id: "overlap" }),
  cleanup: async () => {},
}));
