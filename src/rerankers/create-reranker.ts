import { ConfigurationError } from "../errors.js";
import { resolveCohereRerankerConfig, type CohereRerankerConfig } from "./cohere/cohere-reranker.js";
import { FunctionReranker, type RerankFunction } from "./function/function-reranker.js";
import type { Reranker } from "./reranker.js";

/** Which reranker to use: Cohere's by name with its options, any Reranker object, or a scoring function. */
export type RerankerConfig = ({ provider: "cohere" } & CohereRerankerConfig) | Reranker | RerankFunction;

function isReranker(value: unknown): value is Reranker {
  return typeof value === "object" && value !== null && typeof (value as Reranker).rerank === "function" && typeof (value as Reranker).id === "string";
}

/** Checks the configuration createReranker would build, without loading an SDK: a missing key fails before the database is opened. */
export function checkRerankerConfig(config: RerankerConfig, env: NodeJS.ProcessEnv): void {
  if (typeof config === "function" || isReranker(config)) return;
  if (typeof config === "object" && config !== null && (config as { provider?: unknown }).provider === "cohere") {
    resolveCohereRerankerConfig(config, env);
    return;
  }
  const provider = typeof config === "object" && config !== null ? (config as { provider?: unknown }).provider : undefined;
  throw new ConfigurationError(
    provider === undefined
      ? "search.reranker: expected a Reranker (id and rerank()), a scoring function, or { provider: \"cohere\", ... }"
      : `search.reranker.provider: unknown provider ${JSON.stringify(provider)}; expected "cohere"`,
    { option: provider === undefined ? "search.reranker" : "search.reranker.provider" },
  );
}

/** Builds the configured reranker; Cohere's SDK is loaded only when chosen. */
export async function createReranker(config: RerankerConfig, env: NodeJS.ProcessEnv): Promise<Reranker> {
  checkRerankerConfig(config, env);
  if (typeof config === "function") return new FunctionReranker(config);
  if (isReranker(config)) return config;
  const { createCohereReranker } = await import("./cohere/cohere-reranker.js");
  return createCohereReranker(config, env);
}
