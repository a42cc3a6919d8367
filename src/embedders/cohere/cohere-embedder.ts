import type * as CohereSdk from "cohere-ai";
import { redact, registerSecret } from "../../core/redact.js";
import { AbortedError, ProviderError, ValidationError, type DualstoreError } from "../../errors.js";
import { importOptional } from "../../internal/optional-import.js";
import type { EmbedderContext } from "../create-embedder.js";
import type { EmbedCallOptions, Embedder } from "../embedder.js";
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
        throw this.failure(error, signal);
      });
    const vectors = response.embeddings.float;
    if (!vectors) throw new ProviderError(PROVIDER, "the response carried no float embeddings", { retryable: false, requestId: response.id });
    return vectors;
  }

  private failure(error: unknown, signal: AbortSignal | undefined): DualstoreError {
    if (signal?.aborted) return new AbortedError({ cause: signal.reason });
    const { CohereError, CohereTimeoutError } = this.sdk;
    const cause = scrubbed(error);
    // Node's fetch rejects with the abort reason itself, a string, so the SDK reports its own
    // timeout as a plain CohereError caused by "timeout" rather than a CohereTimeoutError.
    if (error instanceof CohereTimeoutError || (error instanceof CohereError && error.cause === "timeout")) {
      return new ProviderError(PROVIDER, `no response within ${this.config.timeoutMs} ms`, { retryable: true, cause });
    }
    if (error instanceof CohereError && error.statusCode !== undefined) {
      const status = error.statusCode;
      // Cohere's error body is { id, message }; the id identifies the request to Cohere support.
      const body: Record<string, unknown> = typeof error.body === "object" && error.body !== null ? { ...error.body } : {};
      return new ProviderError(PROVIDER, redact(typeof body.message === "string" ? `${status} ${body.message}` : error.message), {
        status,
        requestId: typeof body.id === "string" ? body.id : undefined,
        retryable: isTransient(status),
        retryAfterMs: retryAfterMs(error.rawResponse?.headers),
        cause,
      });
    }
    // Without a status the request never got an answer: the connection failed.
    if (error instanceof CohereError) {
      return new ProviderError(PROVIDER, `connection failed: ${messages(error)}`, { retryable: true, cause });
    }
    return new ProviderError(PROVIDER, messages(error), { retryable: false, cause });
  }
}

/** Builds the Cohere embedder from `embedder: { provider: "cohere", ... }`; loads the SDK only now. */
export async function createCohereEmbedder(config: CohereEmbedderConfig, context: EmbedderContext): Promise<CohereEmbedder> {
  const resolved = resolveCohereConfig(config, context.env);
  registerSecret(resolved.apiKey);
  const sdk = await importOptional("cohere-ai", () => import("cohere-ai"), "embedder");
  return new CohereEmbedder(sdk, resolved);
}

/** Timeouts, conflicts, rate limits and server errors may pass; other statuses will not. */
function isTransient(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait the server asked for: `retry-after-ms`, else `Retry-After` in seconds or as a date. */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const milliseconds = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The error's message and its causes', secrets masked: "fetch failed <- other side closed". */
function messages(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 4; depth++) {
    const part = current instanceof Error ? current.message : String(current);
    // Wrappers often repeat their cause's message ("fetch failed" around "fetch failed").
    if (part !== parts.at(-1)) parts.push(part);
    current = current instanceof Error ? current.cause : undefined;
  }
  return redact(parts.join(" <- "));
}

/** Masks known secrets in the message and stack of `error` and its causes, so it can be kept as a cause. */
function scrubbed(error: unknown): unknown {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    for (const key of ["message", "stack"] as const) {
      const text = current[key];
      // Only rewrite what changes: some errors (DOMException) define these as getters.
      if (typeof text === "string" && redact(text) !== text) Object.defineProperty(current, key, { value: redact(text), configurable: true });
    }
  }
  return error;
}
