import { z } from "zod";
import { ConfigurationError } from "../../errors.js";
import { parseConfig } from "../../internal/validate.js";

/** Cohere's embedding models, their native vector length, and the lengths `outputDimension` may pick. */
export const COHERE_EMBEDDING_MODELS = {
  "embed-v4.0": { dimension: 1536, outputDimensions: [256, 512, 1024, 1536] },
  "embed-english-v3.0": { dimension: 1024, outputDimensions: undefined },
  "embed-multilingual-v3.0": { dimension: 1024, outputDimensions: undefined },
  "embed-english-light-v3.0": { dimension: 384, outputDimensions: undefined },
  "embed-multilingual-light-v3.0": { dimension: 384, outputDimensions: undefined },
} as const;

export type CohereEmbeddingModel = keyof typeof COHERE_EMBEDDING_MODELS;

/** Options of `embedder: { provider: "cohere", ... }`. */
export interface CohereEmbedderConfig {
  /** API key. Default: COHERE_API_KEY from the environment; one of the two is required. */
  apiKey?: string;
  /** Embedding model. Default "embed-v4.0". */
  model?: CohereEmbeddingModel;
  /**
   * Vector length for embed-v4.0: 256, 512, 1024 or 1536. Default 1536. The v3 models have a
   * fixed length (1024, or 384 for the light ones) and reject this option.
   */
  outputDimension?: 256 | 512 | 1024 | 1536;
  /** API base URL (a proxy or a private deployment). Default: COHERE_BASE_URL, else https://api.cohere.com. */
  baseUrl?: string;
  /** Time limit for one request, in milliseconds; a timed-out request is retried like any transient failure. Default 60,000. */
  timeoutMs?: number;
}

/** The configuration with defaults and environment fallbacks applied, checked. */
export interface ResolvedCohereConfig {
  readonly apiKey: string;
  readonly model: CohereEmbeddingModel;
  /** Sent as `output_dimension`; absent for models with a fixed length. */
  readonly outputDimension: number | undefined;
  /** Length of the vectors the model will return. */
  readonly dimension: number;
  readonly baseUrl: string | undefined;
  readonly timeoutMs: number;
}

const configSchema = z.strictObject({
  apiKey: z.string().min(1).optional(),
  model: z.enum(Object.keys(COHERE_EMBEDDING_MODELS) as [CohereEmbeddingModel, ...CohereEmbeddingModel[]]).default("embed-v4.0"),
  outputDimension: z.number().int().optional(),
  baseUrl: z.url().optional(),
  timeoutMs: z.number().int().min(1).default(60_000),
});

/**
 * Checks `config` and fills in defaults and environment fallbacks. Messages name the option
 * (or the environment variable) and what was expected, never a value: it may be a secret.
 */
export function resolveCohereConfig(config: CohereEmbedderConfig, env: NodeJS.ProcessEnv): ResolvedCohereConfig {
  const options = parseConfig(configSchema, config, "embedder");
  const model = COHERE_EMBEDDING_MODELS[options.model];
  const allowed: readonly number[] | undefined = model.outputDimensions;
  if (options.outputDimension !== undefined) {
    if (allowed === undefined) {
      throw new ConfigurationError(
        `embedder.outputDimension: ${options.model} has a fixed dimension of ${model.dimension}; remove the option or use embed-v4.0`,
      );
    }
    if (!allowed.includes(options.outputDimension)) {
      throw new ConfigurationError(`embedder.outputDimension: expected one of ${allowed.join(", ")} for ${options.model}, got ${options.outputDimension}`);
    }
  }
  const apiKey = options.apiKey ?? nonEmpty(env.COHERE_API_KEY);
  if (apiKey === undefined) {
    throw new ConfigurationError("embedder.apiKey: no Cohere API key; pass apiKey or set COHERE_API_KEY");
  }
  const baseUrl = options.baseUrl ?? nonEmpty(env.COHERE_BASE_URL);
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
    throw new ConfigurationError("embedder.baseUrl: COHERE_BASE_URL is not a valid URL");
  }
  // Sent even at the default so the vectors keep the length in the embedder id if Cohere's default changes.
  const outputDimension = allowed === undefined ? undefined : (options.outputDimension ?? model.dimension);
  return {
    apiKey,
    model: options.model,
    outputDimension,
    dimension: outputDimension ?? model.dimension,
    baseUrl,
    timeoutMs: options.timeoutMs,
  };
}

/** An environment variable set to "" counts as unset, as shells and .env files often leave it. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
