import type * as Cl100kBase from "gpt-tokenizer/encoding/cl100k_base";
import { showAs } from "../../core/inspect.js";
import { nodeHttpFetch, type NodeHttpFetch } from "../../core/node-http-fetch.js";
import type * as OpenAISdk from "openai";
import type { TokenCounter } from "../../chunking/chunker.js";
import { silentLogger, type Logger } from "../../core/logger.js";
import { chainMessage, isTransientStatus, retryAfterMs, sanitizedError } from "../../core/provider-errors.js";
import { redact, registerSecret } from "../../core/redact.js";
import { AbortedError, ProviderError, ValidationError, type DualstoreError } from "../../errors.js";
import { batches } from "../../internal/batch.js";
import { importOptional } from "../../internal/optional-import.js";
import type { EmbedderContext } from "../create-embedder.js";
import type { EmbedCallOptions, Embedder } from "../embedder.js";
import { resolveOpenAIConfig, type OpenAIEmbedderConfig, type ResolvedOpenAIConfig } from "./openai-config.js";

/** OpenAI's limits for one embeddings request (API reference, `input`). */
const MAX_INPUTS_PER_REQUEST = 2048;
const MAX_TOKENS_PER_INPUT = 8192;
const MAX_TOKENS_PER_REQUEST = 300_000;
/**
 * Estimated tokens packed into one request. On this project's bench corpus (READMEs, Markdown,
 * Debian docs) cl100k counts 0.86x the estimate over all chunks, 1.3x at the 99th percentile of
 * single chunks: a request packed to this budget holds well under the limit, and one that does
 * not is refused by the API, counted exactly and split (see send()).
 */
const ESTIMATED_TOKENS_PER_REQUEST = 250_000;
/** The API's error code for a request over MAX_TOKENS_PER_REQUEST. */
const OVER_REQUEST_LIMIT = "max_tokens_per_request";

/** Special-token text such as "<|endoftext|>" is embedded (and counted) as plain text, not refused. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const PROVIDER = "openai";

type OpenAIModule = typeof OpenAISdk;
type Tokenizer = typeof Cl100kBase;

/** One input as it will be sent, with its size in the model's tokens: counted, or estimated. */
interface PreparedInput {
  readonly text: string;
  readonly tokens: number;
  readonly exact: boolean;
}

/**
 * OpenAI embeddings through the official SDK, within the API's limits: inputs over 8,192 tokens
 * are cut to fit, and a batch whose inputs add up to more than 300,000 tokens goes out as
 * several requests. Tokens are counted with the models' own tokenizer (cl100k_base) only where
 * a limit is near: an input long enough to possibly exceed 8,192, or a request the API refused
 * as too large. Everything else is sized by a cheap estimate, because counting every input
 * exactly costs more CPU than the rest of indexing it. The SDK does not retry: dualstore's one
 * retry policy does, from the ProviderErrors this class throws.
 */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatchSize = MAX_INPUTS_PER_REQUEST;
  private readonly client: OpenAISdk.OpenAI;
  private readonly http: NodeHttpFetch = nodeHttpFetch();
  private counter: Promise<TokenCounter> | undefined;

  /** `loadTokenizer` is called the first time a count is needed (its tables take tens of megabytes). */
  constructor(
    private readonly sdk: OpenAIModule,
    private readonly loadTokenizer: () => Promise<Tokenizer>,
    private readonly config: ResolvedOpenAIConfig,
    private readonly logger: Logger = silentLogger,
  ) {
    // Its client and settings hold the API key: inspect shows what it is, not how it connects.
    showAs(this, "OpenAIEmbedder", () => ({ id: this.id, dimension: this.dimension }));
    this.dimension = config.dimension;
    this.id = `${PROVIDER}:${config.model}:${config.dimension}`;
    const forward = (level: "warn" | "error") => (message: string, ...details: unknown[]) =>
      logger[level](`${PROVIDER}: ${message}`, details.length > 0 ? { details } : undefined);
    this.client = new sdk.OpenAI({
      apiKey: config.apiKey,
      // null rather than undefined: the SDK would otherwise read these from process.env,
      // behind the environment dualstore was given; an admin key or webhook secret is never needed.
      baseURL: config.baseURL ?? null,
      organization: config.organization ?? null,
      project: config.project ?? null,
      adminAPIKey: null,
      webhookSecret: null,
      maxRetries: 0,
      timeout: config.timeoutMs,
      // node:http instead of the global fetch: a search's query embedding is a small request,
      // for which undici's Request, Headers and web streams cost more than the rest of it.
      fetch: this.http.fetch,
      // The SDK's own warnings reach the caller's logger instead of the console.
      logLevel: "warn",
      logger: { error: forward("error"), warn: forward("warn"), info: () => {}, debug: () => {} },
    });
  }

  async close(): Promise<void> {
    this.http.close();
  }

  /** Counts tokens as the model does, loading the tokenizer on first use. */
  private countTokens(): Promise<TokenCounter> {
    this.counter ??= this.loadTokenizer().then(
      (tokenizer) => (text: string) => tokenizer.countTokens(text, PLAIN_TEXT),
      (error: unknown) => {
        this.counter = undefined;
        throw error;
      },
    );
    return this.counter;
  }

  async embedDocuments(texts: readonly string[], options: EmbedCallOptions = {}): Promise<number[][]> {
    const inputs = await this.prepare(texts);
    const vectors: number[][] = [];
    // Sequential on purpose: dualstore already runs batches concurrently, up to its own bound.
    for (const group of batches(inputs, { maxCount: this.maxBatchSize, maxBytes: ESTIMATED_TOKENS_PER_REQUEST, size: (input) => input.tokens })) {
      vectors.push(...(await this.send(group, options.signal)));
    }
    return vectors;
  }

  /** One request; if the API finds more tokens in it than the estimates said, counts them exactly and sends it in parts. */
  private async send(group: PreparedInput[], signal: AbortSignal | undefined): Promise<number[][]> {
    const vectors = await this.request(group.map((input) => input.text), signal);
    if (vectors) return vectors;
    const count = await this.countTokens();
    const counted = group.map((input) => (input.exact ? input : { text: input.text, tokens: count(input.text), exact: true }));
    const parts: number[][] = [];
    for (const part of batches(counted, { maxCount: this.maxBatchSize, maxBytes: MAX_TOKENS_PER_REQUEST, size: (input) => input.tokens })) {
      const partVectors = await this.request(part.map((input) => input.text), signal);
      if (!partVectors) {
        throw new ProviderError(PROVIDER, `the API refused ${part.length} inputs as over ${MAX_TOKENS_PER_REQUEST} tokens, which cl100k counts within it`, {
          status: 400,
          retryable: false,
        });
      }
      parts.push(...partVectors);
    }
    return parts;
  }

  async embedQuery(text: string, options: EmbedCallOptions = {}): Promise<number[]> {
    const [vector] = await this.embedDocuments([text], options);
    return vector!;
  }

  /**
   * Refuses blank texts (the API rejects "" and whitespace has nothing to embed; an Embedder
   * owes one meaningful vector per text, so this is the caller's error, raised before any
   * request) and cuts texts over the per-input limit rather than let the API refuse the batch.
   */
  private async prepare(texts: readonly string[]): Promise<PreparedInput[]> {
    const blank = texts.flatMap((text, index) => (text.trim() === "" ? [{ path: `texts.${index}`, message: "is empty or whitespace only" }] : []));
    if (blank.length > 0) throw new ValidationError("embedding input", blank);
    const count = texts.some((text) => !surelyFits(text)) ? await this.countTokens() : undefined;
    const inputs = texts.map((text) => (surelyFits(text) ? { text, tokens: estimateTokens(text), exact: false } : fit(text, count!)));
    const truncated = inputs.filter((input, index) => input.text.length < texts[index]!.length).length;
    if (truncated > 0) {
      this.logger.warn(`${PROVIDER}: embedding only the first ${MAX_TOKENS_PER_INPUT} tokens of ${truncated} longer text(s)`, { embedder: this.id });
    }
    return inputs;
  }

  /** The vectors, in input order; undefined when the API refused the request as over MAX_TOKENS_PER_REQUEST. */
  private async request(input: string[], signal: AbortSignal | undefined): Promise<number[][] | undefined> {
    const { model, dimensions } = this.config;
    // base64 (a quarter of the JSON size), decoded here rather than by the SDK: it makes a
    // Buffer (memory outside the V8 heap, freed only by a later GC) and an iterator per vector.
    const response = await this.client.embeddings
      .create({ model, input, encoding_format: "base64", ...(dimensions === undefined ? {} : { dimensions }) }, { signal })
      .catch((error: unknown) => {
        if (error instanceof this.sdk.APIError && error.status === 400 && error.code === OVER_REQUEST_LIMIT) return undefined;
        throw this.failure(error, signal);
      });
    if (!response) return undefined;
    // Each vector carries its input's index; order by it rather than trust the array order.
    return response.data.toSorted((a, b) => a.index - b.index).map((item) => decodeEmbedding(item.embedding));
  }

  private failure(error: unknown, signal: AbortSignal | undefined): DualstoreError {
    if (signal?.aborted) return new AbortedError({ cause: signal.reason });
    const { APIError, APIConnectionError, APIConnectionTimeoutError } = this.sdk;
    const cause = sanitizedError(error);
    if (error instanceof APIConnectionTimeoutError) {
      return new ProviderError(PROVIDER, `no response within ${this.config.timeoutMs} ms`, { retryable: true, cause });
    }
    if (error instanceof APIConnectionError) {
      return new ProviderError(PROVIDER, `connection failed: ${chainMessage(error)}`, { retryable: true, cause });
    }
    if (error instanceof APIError && error.status !== undefined) {
      return new ProviderError(PROVIDER, redact(error.message), {
        status: error.status,
        requestId: error.requestID ?? undefined,
        retryable: isTransientStatus(error.status),
        retryAfterMs: retryAfterMs(error.headers),
        cause,
      });
    }
    return new ProviderError(PROVIDER, chainMessage(error), { retryable: false, cause });
  }
}

/**
 * Builds the OpenAI embedder from `embedder: { provider: "openai", ... }`; loads the SDK only
 * now, and the tokenizer only when a text is long enough to need counting.
 */
export async function createOpenAIEmbedder(config: OpenAIEmbedderConfig, context: EmbedderContext): Promise<OpenAIEmbedder> {
  const resolved = resolveOpenAIConfig(config, context.env);
  registerSecret(resolved.apiKey);
  const sdk = await importOptional("openai", () => import("openai"), "embedder");
  const loadTokenizer = () => importOptional("gpt-tokenizer", () => import("gpt-tokenizer/encoding/cl100k_base"), "embedder");
  return new OpenAIEmbedder(sdk, loadTokenizer, resolved, context.logger);
}

/** Where base64 embeddings are decoded, reused by every vector (grows to the longest). */
let decodeScratch = Buffer.allocUnsafe(0);
let decodeFloats = new Float32Array(0);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * A vector as the API sent it: base64 of little-endian float32s (a server may still answer
 * with numbers). Decoded into one reused buffer, then copied out as numbers.
 */
function decodeEmbedding(embedding: string | number[]): number[] {
  if (typeof embedding !== "string") return embedding;
  const bound = Math.ceil(embedding.length / 4) * 3;
  if (decodeScratch.length < bound) {
    // Past the Buffer pool's size, so at offset 0 of its own memory: a float view lines up.
    decodeScratch = Buffer.allocUnsafe(Math.max(bound + 4, 8192));
    decodeFloats = new Float32Array(decodeScratch.buffer, decodeScratch.byteOffset, Math.floor(decodeScratch.length / 4));
  }
  const bytes = decodeScratch.write(embedding, 0, "base64");
  if (bytes % 4 !== 0) throw new ProviderError(PROVIDER, `an embedding of ${bytes} bytes is not a whole number of float32s`, { retryable: false });
  const vector = new Array<number>(bytes / 4);
  if (LITTLE_ENDIAN) for (let i = 0; i < vector.length; i++) vector[i] = decodeFloats[i]!;
  else for (let i = 0; i < vector.length; i++) vector[i] = decodeScratch.readFloatLE(i * 4);
  return vector;
}

/**
 * Tokens in `text` as cl100k will roughly count them, from its length alone: a token per three
 * ASCII characters (English prose runs about four, Markdown and code about three) and one per
 * other UTF-16 unit (CJK text runs about one per character).
 */
function estimateTokens(text: string): number {
  let ascii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x80) ascii++;
  return Math.ceil(ascii / 3) + (text.length - ascii);
}

/**
 * Whether `text` is within the per-input limit without counting: a token holds at least one
 * UTF-8 byte (cl100k is a byte-level BPE), so no more bytes than the limit means no more tokens.
 * A UTF-16 unit is at most three bytes, so short texts need no byte count. (A chunk of 512
 * approximate tokens of prose runs past 2,730 characters but well within 8,192 bytes: indexing
 * such text never loads the tokenizer.)
 */
function surelyFits(text: string): boolean {
  return text.length * 3 <= MAX_TOKENS_PER_INPUT || (text.length <= MAX_TOKENS_PER_INPUT && Buffer.byteLength(text, "utf8") <= MAX_TOKENS_PER_INPUT);
}

/**
 * `text` counted exactly if it is within the per-input limit, else its longest prefix that is,
 * cut between characters. The cut is found by counting prefixes, not by decoding the first
 * 8,192 tokens: the 8,192nd may end inside a character, and gpt-tokenizer's decode() then
 * keeps the leftover bytes in a decoder that every later decode() shares.
 */
function fit(text: string, count: TokenCounter): PreparedInput {
  // Lone surrogates carry no text, and the API would see them as U+FFFD anyway.
  const whole = text.toWellFormed();
  const prefix = (length: number): PreparedInput => {
    const head = whole.slice(0, characterBoundary(whole, length));
    return { text: head, tokens: count(head), exact: true };
  };
  let fits: PreparedInput = { text: "", tokens: 0, exact: true }; // the longest prefix known to fit
  let over = Number.POSITIVE_INFINITY; // the length of the shortest prefix known not to
  // Double the prefix until it no longer fits, so that the tokenizer never sees much more
  // than what is kept: its cost grows with the square of an unbroken run's length (CJK text
  // has no spaces), and a text may be megabytes long.
  for (let length = MAX_TOKENS_PER_INPUT; over === Number.POSITIVE_INFINITY; length *= 2) {
    const candidate = prefix(Math.min(length, whole.length));
    if (candidate.tokens > MAX_TOKENS_PER_INPUT) over = candidate.text.length;
    else if (candidate.text.length === whole.length) return candidate;
    else fits = candidate;
  }
  // Then halve the gap between the two.
  for (;;) {
    const candidate = prefix(Math.floor((fits.text.length + over) / 2));
    if (candidate.text.length <= fits.text.length) return fits;
    if (candidate.tokens > MAX_TOKENS_PER_INPUT) over = candidate.text.length;
    else fits = candidate;
  }
}

/** `length`, moved back one unit if cutting there would split a surrogate pair. */
function characterBoundary(text: string, length: number): number {
  const code = text.charCodeAt(length);
  return code >= 0xdc00 && code <= 0xdfff ? length - 1 : length;
}




