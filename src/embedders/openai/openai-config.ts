import { z } from "zod";
import { ConfigurationError } from "../../errors.js";
import { parseConfig } from "../../internal/validate.js";

/** OpenAI's embedding models, their native vector length, and whether `dimensions` can shorten it. */
export const OPENAI_EMBEDDING_MODELS = {
  "text-embedding-3-small": { dimension: 1536, shortenable: true },
  "text-embedding-3-large": { dimension: 3072, shortenable: true },
  "text-embedding-ada-002": { dimension: 1536, shortenable: false },
} as const;

export type OpenAIEmbeddingModel = keyof typeof OPENAI_EMBEDDING_MODELS;

/** Options of `embedder: { provider: "openai", ... }`. */
export interface OpenAIEmbedderConfig {
  /** API key. Default: OPENAI_API_KEY from the environment; one of the two is required. */
  apiKey?: string;
  /** Embedding model. Default "text-embedding-3-small". */
  model?: OpenAIEmbeddingModel;
  /**
   * Vector length for a text-embedding-3 model, from 1 to its native length (OpenAI shortens
   * the vector server-side). Default: the native length, 1536 for -3-small and 3072 for
   * -3-large. text-embedding-ada-002 has a fixed 1536 and rejects this option.
   */
  dimensions?: number;
  /** API base URL (a proxy or an OpenAI-compatible server). Default: OPENAI_BASE_URL, else https://api.openai.com/v1. */
  baseURL?: string;
  /** Organization the requests are billed to. Default: OPENAI_ORG_ID, else the key's default organization. */
  organization?: string;
  /** Project the requests are billed to. Default: OPENAI_PROJECT_ID, else the key's default project. */
  project?: string;
  /** Time limit for one request, in milliseconds; a timed-out request is retried like any transient failure. Default 60,000. */
  timeoutMs?: number;
}

/** The configuration with defaults and environment fallbacks applied, checked. */
export interface ResolvedOpenAIConfig {
  readonly apiKey: string;
  readonly model: OpenAIEmbeddingModel;
  /** Sent as `dimensions` when set; absent means the model's native length. */
  readonly dimensions: number | undefined;
  /** Length of the vectors the model will return. */
  readonly dimension: number;
  readonly baseURL: string | undefined;
  readonly organization: string | undefined;
  readonly project: string | undefined;
  readonly timeoutMs: number;
}

const configSchema = z.strictObject({
  apiKey: z.string().min(1).optional(),
  model: z.enum(Object.keys(OPENAI_EMBEDDING_MODELS) as [OpenAIEmbeddingModel, ...OpenAIEmbeddingModel[]]).default("text-embedding-3-small"),
  dimensions: z.number().int().min(1).optional(),
  baseURL: z.url().optional(),
  organization: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  timeoutMs: z.number().int().min(1).default(60_000),
});

/**
 * Checks `config` and fills in defaults and environment fallbacks. Messages name the option
 * (or the environment variable) and what was expected, never a value: it may be a secret.
 */
export function resolveOpenAIConfig(config: OpenAIEmbedderConfig, env: NodeJS.ProcessEnv): ResolvedOpenAIConfig {
  const options = parseConfig(configSchema, config, "embedder");
  const model = OPENAI_EMBEDDING_MODELS[options.model];
  if (options.dimensions !== undefined) {
    if (!model.shortenable) {
      throw new ConfigurationError(
        `embedder.dimensions: ${options.model} has a fixed dimension of ${model.dimension}; remove the option or use a text-embedding-3 model`,
      );
    }
    if (options.dimensions > model.dimension) {
      throw new ConfigurationError(`embedder.dimensions: expected 1 to ${model.dimension} for ${options.model}, got ${options.dimensions}`);
    }
  }
  const apiKey = options.apiKey ?? nonEmpty(env.OPENAI_API_KEY);
  if (apiKey === undefined) {
    throw new ConfigurationError("embedder.apiKey: no OpenAI API key; pass apiKey or set OPENAI_API_KEY");
  }
  const baseURL = options.baseURL ?? nonEmpty(env.OPENAI_BASE_URL);
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new ConfigurationError("embedder.baseURL: OPENAI_BASE_URL is not a valid URL");
  }
  return {
    apiKey,
    model: options.model,
    dimensions: options.dimensions,
    dimension: options.dimensions ?? model.dimension,
    baseURL,
    organization: options.organization ?? nonEmpty(env.OPENAI_ORG_ID),
    project: options.project ?? nonEmpty(env.OPENAI_PROJECT_ID),
    timeoutMs: options.timeoutMs,
  };
}

/** An environment variable set to "" counts as unset, as shells and .env files often leave it. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
