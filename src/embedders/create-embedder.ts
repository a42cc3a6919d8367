import { z } from "zod";
import type { Logger } from "../core/logger.js";
import { ConfigurationError } from "../errors.js";
import { parseConfig } from "../internal/validate.js";
import { resolveCohereConfig, type CohereEmbedderConfig } from "./cohere/cohere-config.js";
import type { Embedder } from "./embedder.js";
import { LocalEmbedder, type LocalEmbedderOptions } from "./local/local-embedder.js";
import { resolveOpenAIConfig, type OpenAIEmbedderConfig } from "./openai/openai-config.js";

/** Which embedder to use: a built-in provider by name with its options, or any Embedder object. */
export type EmbedderConfig =
  | ({ provider: "local" } & LocalEmbedderOptions)
  | ({ provider: "openai" } & OpenAIEmbedderConfig)
  | ({ provider: "cohere" } & CohereEmbedderConfig)
  | Embedder;

export interface EmbedderContext {
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
}

// The local embedder's options as a strict object (OpenAI's and Cohere's live in their config files).
const localOptions = z.strictObject({ provider: z.literal("local"), dimension: z.number().int().min(8).max(16_384).optional() });

function isEmbedder(value: unknown): value is Embedder {
  return typeof value === "object" && value !== null && typeof (value as Embedder).embedDocuments === "function";
}

/**
 * Checks the configuration of the embedder createEmbedder would build, without loading its SDK
 * or calling it: a missing key fails before the database is even opened.
 */
export function checkEmbedderConfig(config: EmbedderConfig | undefined, env: NodeJS.ProcessEnv): void {
  if (isEmbedder(config)) return;
  if (config === undefined) {
    if (env.OPENAI_API_KEY) checkEmbedderConfig({ provider: "openai" }, env);
    else if (env.COHERE_API_KEY) checkEmbedderConfig({ provider: "cohere" }, env);
    return;
  }
  switch (config.provider) {
    case "local":
      parseConfig(localOptions, config, "embedder");
      return;
    case "openai": {
      const { provider: _provider, ...options } = config;
      resolveOpenAIConfig(options, env);
      return;
    }
    case "cohere": {
      const { provider: _provider, ...options } = config;
      resolveCohereConfig(options, env);
      return;
    }
    default:
      throw new ConfigurationError(`embedder.provider: unknown provider ${JSON.stringify((config as { provider: unknown }).provider)}`, { option: "embedder.provider" });
  }
}

/** The embedder used when none is configured: OpenAI with OPENAI_API_KEY, Cohere with COHERE_API_KEY, else the local one. */
export function defaultEmbedderConfig(env: NodeJS.ProcessEnv): Exclude<EmbedderConfig, Embedder> {
  if (env.OPENAI_API_KEY) return { provider: "openai" };
  if (env.COHERE_API_KEY) return { provider: "cohere" };
  return { provider: "local" };
}

/**
 * Builds the configured embedder; provider SDKs are loaded only when chosen. Absent: OpenAI
 * when OPENAI_API_KEY is set, Cohere when COHERE_API_KEY is, else the offline LocalEmbedder
 * (lexical; right for tests and demos, not for production search).
 */
export async function createEmbedder(config: EmbedderConfig | undefined, context: EmbedderContext): Promise<Embedder> {
  if (isEmbedder(config)) return config;
  if (config === undefined) {
    const chosen = defaultEmbedderConfig(context.env);
    if (chosen.provider === "local") context.logger.info("no embedder configured: using the offline LocalEmbedder (lexical, not semantic)");
    return createEmbedder(chosen, context);
  }
  switch (config.provider) {
    case "local": {
      const { provider: _provider, ...options } = config;
      return new LocalEmbedder(options);
    }
    case "openai": {
      const { provider: _provider, ...options } = config;
      const { createOpenAIEmbedder } = await import("./openai/openai-embedder.js");
      return createOpenAIEmbedder(options, context);
    }
    case "cohere": {
      const { provider: _provider, ...options } = config;
      const { createCohereEmbedder } = await import("./cohere/cohere-embedder.js");
      return createCohereEmbedder(options, context);
    }
    default:
      throw new ConfigurationError(`embedder.provider: unknown provider ${JSON.stringify((config as { provider: unknown }).provider)}`, { option: "embedder.provider" });
  }
}
