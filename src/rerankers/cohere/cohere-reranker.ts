import type * as CohereSdk from "cohere-ai";
import { z } from "zod";
import { showAs } from "../../core/inspect.js";
import { registerSecret } from "../../core/redact.js";
import { cohereFailure } from "../../embedders/cohere/cohere-errors.js";
import { ConfigurationError, ProviderError } from "../../errors.js";
import { importOptional } from "../../internal/optional-import.js";
import { parseConfig } from "../../internal/validate.js";
import type { RerankCallOptions, Reranker, RerankResult } from "../reranker.js";

/** Options of `search: { reranker: { provider: "cohere", ... } }`. */
export interface CohereRerankerConfig {
  /** API key. Default: COHERE_API_KEY from the environment; one of the two is required. */
  apiKey?: string;
  /** Rerank model, e.g. "rerank-v3.5", "rerank-v4.0-pro", "rerank-multilingual-v3.0". Default "rerank-v3.5". */
  model?: string;
  /** Longer texts are cut by Cohere to this many tokens. Default: Cohere's (4,096). */
  maxTokensPerDoc?: number;
  /** API base URL (a proxy or a private deployment). Default: COHERE_BASE_URL, else https://api.cohere.com. */
  baseUrl?: string;
  /** Time limit for one request, in milliseconds; a timed-out request is retried like any transient failure. Default 30,000. */
  timeoutMs?: number;
}

const configSchema = z.strictObject({
  provider: z.literal("cohere"),
  apiKey: z.string().min(1).optional(),
  model: z.string().min(1).max(100).default("rerank-v3.5"),
  maxTokensPerDoc: z.number().int().min(1).max(1_000_000).optional(),
  baseUrl: z.url().optional(),
  timeoutMs: z.number().int().min(1).default(30_000),
});

type ResolvedConfig = z.output<typeof configSchema> & { apiKey: string; baseUrl: string | undefined };

/** Cohere's advice for one rerank request (API reference, `documents`). */
const MAX_TEXTS_PER_REQUEST = 1_000;

/**
 * Checks `config` and fills in defaults and environment fallbacks. Messages name the option
 * (or the environment variable), never a value: it may be a secret.
 */
export function resolveCohereRerankerConfig(config: CohereRerankerConfig & { provider: "cohere" }, env: NodeJS.ProcessEnv): ResolvedConfig {
  const options = parseConfig(configSchema, config, "search.reranker");
  const apiKey = options.apiKey ?? nonEmpty(env.COHERE_API_KEY);
  if (apiKey === undefined) {
    throw new ConfigurationError("search.reranker.apiKey: no Cohere API key; pass apiKey or set COHERE_API_KEY", { option: "search.reranker.apiKey" });
  }
  const baseUrl = options.baseUrl ?? nonEmpty(env.COHERE_BASE_URL);
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
    throw new ConfigurationError("search.reranker.baseUrl: COHERE_BASE_URL is not a valid URL", { option: "search.reranker.baseUrl" });
  }
  return { ...options, apiKey, baseUrl };
}

/**
 * Cohere's rerank endpoint through the official SDK's v2 client. The SDK does not retry:
 * dualstore's one retry policy does, from the ProviderErrors this class throws.
 */
export class CohereReranker implements Reranker {
  readonly id: string;
  readonly maxTexts = MAX_TEXTS_PER_REQUEST;
  private readonly client: CohereSdk.CohereClientV2;

  constructor(
    private readonly sdk: typeof CohereSdk,
    private readonly config: ResolvedConfig,
  ) {
    // Its client and settings hold the API key: inspect shows what it is, not how it connects.
    showAs(this, "CohereReranker", () => ({ id: this.id }));
    this.id = `cohere:${config.model}`;
    this.client = new sdk.CohereClientV2({
      token: config.apiKey,
      ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
      maxRetries: 0,
      timeoutInSeconds: config.timeoutMs / 1000,
    });
  }

  async rerank(query: string, texts: readonly string[], options: RerankCallOptions = {}): Promise<RerankResult[]> {
    const { signal, topN } = options;
    const { model, maxTokensPerDoc, timeoutMs } = this.config;
    const response = await this.client
      .rerank(
        {
          model,
          query,
          documents: [...texts],
          ...(topN === undefined ? {} : { topN }),
          ...(maxTokensPerDoc === undefined ? {} : { maxTokensPerDoc }),
        },
        { abortSignal: signal },
      )
      .catch((error: unknown) => {
        throw cohereFailure(this.sdk, error, { signal, timeoutMs });
      });
    // The SDK does not validate answers: a body without results is reported, not mistaken for "no relevant text".
    if (!Array.isArray(response.results)) {
      throw new ProviderError("cohere", "the rerank response carried no results", { retryable: false, requestId: response.id });
    }
    return response.results.map((result) => ({ index: result.index, score: result.relevanceScore }));
  }
}

/** Builds the Cohere reranker from `search: { reranker: { provider: "cohere", ... } }`; loads the SDK only now. */
export async function createCohereReranker(config: CohereRerankerConfig & { provider: "cohere" }, env: NodeJS.ProcessEnv): Promise<CohereReranker> {
  const resolved = resolveCohereRerankerConfig(config, env);
  registerSecret(resolved.apiKey);
  const sdk = await importOptional("cohere-ai", () => import("cohere-ai"), "search.reranker");
  return new CohereReranker(sdk, resolved);
}

/** An environment variable set to "" counts as unset, as shells and .env files often leave it. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
