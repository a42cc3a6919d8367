import type * as CohereSdk from "cohere-ai";
import { showAs } from "../../core/inspect.js";
import { registerSecret } from "../../core/redact.js";
import { ProviderError, ValidationError } from "../../errors.js";
import { importOptional } from "../../internal/optional-import.js";
import type { EmbedderContext } from "../create-embedder.js";
import type { EmbedCallOptions, Embedder } from "../embedder.js";
import { cohereFailure } from "./cohere-errors.js";
import { resolveCohereConfig, type CohereEmbedderConfig, type ResolvedCohereConfig } from "./cohere-config.js";

/** Cohere's limit for one embed request (API reference, `texts`). */
const MAX_TEXTS_PER_REQUEST = 96;

const PROVIDER = "cohere";

type CohereModule = typeof CohereSdk;

/** Cohere embeds what is stored and what is searched for differently; the pair must match. */
type InputType = "search_document" | "search_query";

/**
 * Cohere embeddings through the official SDK's v2 client. Documents and queries are embedded
 * with their own `input_type`, as Cohere's retrieval models expect; texts over the model's
 * token limit are cut by Cohere itself (`truncate: "END"`). The SDK does not retry: dualstore's
 * one retry policy does, from the ProviderErrors this class throws.
 */
export class CohereEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatchSize = MAX_TEXTS_PER_REQUEST;
  private readonly client: CohereSdk.CohereClientV2;

  constructor(
    private readonly sdk: CohereModule,
    private readonly config: ResolvedCohereConfig,
  ) {
    // Its client and settings hold the API key: inspect shows what it is, not how it connects.
    showAs(this, "CohereEmbedder", () => ({ id: this.id, dimension: this.dimension }));
    this.dimension = config.dimension;
    this.id = `${PROVIDER}:${config.model}:${config.dimension}`;
    this.client = new sdk.CohereClientV2({
      token: config.apiKey,
      ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
      maxRetries: 0,
      timeoutInSeconds: config.timeoutMs / 1000,
    });
  }

  async embedDocuments(texts: readonly string[], options: EmbedCallOptions = {}): Promise<number[][]> {
    return this.request(texts, "search_document", options.signal);
  }

  async embedQuery(text: string, options: EmbedCallOptions = {}): Promise<number[]> {
    const [vector] = await this.request([text], "search_query", options.signal);
    return vector!;
  }

  private async request(texts: readonly string[], inputType: InputType, signal: AbortSignal | undefined): Promise<number[][]> {
    // The API rejects "" and whitespace has nothing to embed; an Embedder owes one meaningful
    // vector per text, so this is the caller's error, raised before any request.
    const blank = texts.flatMap((text, index) => (text.trim() === "" ? [{ path: `texts.${index}`, message: "is empty or whitespace only" }] : []));
    if (blank.length > 0) throw new ValidationError("embedding input", blank);
    const { model, outputDimension } = this.config;
    const response = await this.client
      .embed(
        {
          model,
          texts: [...texts],
          inputType,
          embeddingTypes: ["float"],
          truncate: "END",
          ...(outputDimension === undefined ? {} : { outputDimension }),
        },
        { abortSignal: signal },
      )
      .catch((error: unknown) => {
        throw cohereFailure(this.sdk, error, { signal, timeoutMs: this.config.timeoutMs });
      });
    const vectors = response.embeddings.float;
    if (!vectors) throw new ProviderError(PROVIDER, "the response carried no float embeddings", { retryable: false, requestId: response.id });
    return vectors;
  }
}

/** Builds the Cohere embedder from `embedder: { provider: "cohere", ... }`; loads the SDK only now. */
export async function createCohereEmbedder(config: CohereEmbedderConfig, context: EmbedderContext): Promise<CohereEmbedder> {
  const resolved = resolveCohereConfig(config, context.env);
  registerSecret(resolved.apiKey);
  const sdk = await importOptional("cohere-ai", () => import("cohere-ai"), "embedder");
  return new CohereEmbedder(sdk, resolved);
}




