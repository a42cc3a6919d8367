/**
 * A local Cohere v2 API: embed (`POST /v2/embed`) with deterministic hashed embeddings, and
 * rerank (`POST /v2/rerank`, see cohere-rerank.ts) with a deterministic word-overlap relevance.
 * The real SDK works against it unchanged:
 *
 *   const cohere = new CohereClientV2({ token: server.apiKey, environment: server.url, maxRetries: 0 });
 *
 * `search_query` and `search_document` embeddings of the same text differ slightly but stay
 * well correlated, so a test can tell which `input_type` a client sent (it is also in
 * `requests[i].body.input_type`). The "partial" fault has no batch meaning here: it is a 500.
 */
import { randomUUID } from "node:crypto";
import { decode, encode } from "gpt-tokenizer/encoding/cl100k_base";
import {
  bearerToken,
  isRecord,
  ReplyError,
  startFaultServer,
  type FaultServerOptions,
  type ServiceDefinition,
  type ServiceReply,
  type ServiceRequest,
  type StartedServer,
} from "./fault-server.js";
import { encodeEmbedding, EMBEDDING_TYPES, isEmbeddingType, type EmbeddingType } from "./cohere-embedding-types.js";
import { rerank } from "./cohere-rerank.js";
import { hashedEmbeddingVariant } from "./hashed-embedding.js";

export interface CohereServerOptions extends FaultServerOptions {
  /** The only accepted bearer token. Default "cohere-test-key". */
  apiKey?: string;
}

export interface CohereServer extends StartedServer {
  apiKey: string;
}

interface CohereModel {
  dimension: number;
  /** Tokens per text before truncation applies. */
  maxTokens: number;
  /** Allowed `output_dimension` values; absent when the model has a fixed dimension. */
  outputDimensions?: readonly number[];
}

export const COHERE_MODELS: Record<string, CohereModel> = {
  "embed-english-v3.0": { dimension: 1024, maxTokens: 512 },
  "embed-multilingual-v3.0": { dimension: 1024, maxTokens: 512 },
  "embed-english-light-v3.0": { dimension: 384, maxTokens: 512 },
  "embed-multilingual-light-v3.0": { dimension: 384, maxTokens: 512 },
  "embed-v4.0": { dimension: 1536, maxTokens: 128_000, outputDimensions: [256, 512, 1024, 1536] },
};

export const COHERE_LIMITS = { textsPerRequest: 96 } as const;

const INPUT_TYPES = ["search_document", "search_query", "classification", "clustering", "image"] as const;
const TRUNCATE_MODES = ["NONE", "START", "END"] as const;
// How far an input_type pulls a vector away from the plain text embedding (cosine ~0.92).
const INPUT_TYPE_WEIGHT = 0.3;

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function cohereError(status: number, message: string): ServiceReply {
  return { status, body: { id: randomUUID(), message } };
}

function invalid(message: string, status = 400): never {
  throw new ReplyError(cohereError(status, `invalid request: ${message}`));
}

const FAULT_MESSAGES: Record<number, string> = {
  413: "request entity too large",
  429: "You are past the rate limit for this API key. Please slow down.",
  500: "internal server error, this has been reported to our developers",
  503: "service unavailable, please try again later",
};

function parseModel(value: unknown): [string, CohereModel] {
  if (typeof value !== "string" || value.length === 0) invalid("model must be specified");
  const model = COHERE_MODELS[value];
  if (!model) {
    throw new ReplyError(
      cohereError(404, `model '${value}' not found, make sure the correct model ID was used and that you have access to the model.`),
    );
  }
  return [value, model];
}

function parseTexts(body: Record<string, unknown>): string[] {
  if (body.images !== undefined || body.inputs !== undefined) {
    invalid("images and inputs are not supported by the local Cohere test server; send texts");
  }
  const { texts } = body;
  if (!Array.isArray(texts) || texts.length === 0) invalid("texts must be a non-empty array of strings");
  if (texts.length > COHERE_LIMITS.textsPerRequest) {
    invalid(`total number of texts must be at most ${COHERE_LIMITS.textsPerRequest} - received ${texts.length}`);
  }
  texts.forEach((text, index) => {
    if (typeof text !== "string") invalid(`texts[${index}] must be a string`);
    if (text.length === 0) invalid(`texts[${index}] must not be empty`);
  });
  return texts as string[];
}

function parseEmbeddingTypes(value: unknown): EmbeddingType[] {
  // Required on v2 (Cohere's v2 release notes), unlike v1 where it defaulted to float.
  if (value === undefined || value === null) invalid("embedding_types is required");
  if (!Array.isArray(value) || value.length === 0 || !value.every(isEmbeddingType)) {
    invalid(`embedding_types must be a non-empty list of ${EMBEDDING_TYPES.join(", ")}`);
  }
  return [...new Set(value)];
}

function parseDimension(modelName: string, model: CohereModel, value: unknown): number {
  if (value === undefined || value === null) return model.dimension;
  if (!model.outputDimensions) invalid(`output_dimension is not supported for model ${modelName}`);
  if (!model.outputDimensions.includes(value as number)) {
    invalid(`output_dimension must be one of ${model.outputDimensions.join(", ")}`);
  }
  return value as number;
}

/** Applies `truncate` to one text; returns the text that gets embedded and its token count. */
function truncateText(text: string, index: number, mode: string, maxTokens: number): { text: string; tokens: number } {
  const tokens = encode(text, PLAIN_TEXT);
  if (tokens.length <= maxTokens) return { text, tokens: tokens.length };
  if (mode === "NONE") {
    invalid(`text at index ${index} has ${tokens.length} tokens, which exceeds the model's limit of ${maxTokens}; use truncate START or END`);
  }
  const kept = mode === "START" ? tokens.slice(tokens.length - maxTokens) : tokens.slice(0, maxTokens);
  return { text: decode(kept), tokens: kept.length };
}

function route(request: ServiceRequest): ServiceReply {
  if (request.method === "POST" && request.path === "/v2/embed") return embed(request);
  if (request.method === "POST" && request.path === "/v2/rerank") return rerank(request);
  return cohereError(404, `no route for ${request.method} ${request.path}`);
}

function embed(request: ServiceRequest): ServiceReply {
  if (request.bodyParseError !== undefined) invalid(`could not parse the JSON body: ${request.bodyParseError}`);
  const body = request.body;
  if (!isRecord(body)) invalid("the body must be a JSON object");
  const [modelName, model] = parseModel(body.model);
  const inputType = body.input_type;
  if (inputType === undefined || inputType === null) invalid("valid input_type must be provided with the provided model");
  if (!INPUT_TYPES.includes(inputType as (typeof INPUT_TYPES)[number])) {
    invalid(`input_type must be one of ${INPUT_TYPES.join(", ")}`);
  }
  if (inputType === "image") invalid("input_type image requires images, which the local Cohere test server does not support");
  const texts = parseTexts(body);
  const types = parseEmbeddingTypes(body.embedding_types);
  const dimension = parseDimension(modelName, model, body.output_dimension);
  const truncate = body.truncate ?? "END";
  if (!TRUNCATE_MODES.includes(truncate as (typeof TRUNCATE_MODES)[number])) {
    invalid(`truncate must be one of ${TRUNCATE_MODES.join(", ")}`);
  }

  const prepared = texts.map((text, index) => truncateText(text, index, String(truncate), model.maxTokens));
  const vectors = prepared.map(({ text }) =>
    hashedEmbeddingVariant(text, dimension, modelName, String(inputType), INPUT_TYPE_WEIGHT),
  );
  const embeddings: Partial<Record<EmbeddingType, Array<number[] | string>>> = {};
  for (const type of types) embeddings[type] = vectors.map((vector) => encodeEmbedding(vector, type));
  return {
    status: 200,
    body: {
      id: randomUUID(),
      embeddings,
      texts,
      meta: {
        api_version: { version: "2" },
        billed_units: { input_tokens: prepared.reduce((sum, { tokens }) => sum + tokens, 0) },
      },
      response_type: "embeddings_by_type",
    },
  };
}

export async function startCohereServer(options: CohereServerOptions = {}): Promise<CohereServer> {
  const apiKey = options.apiKey ?? "cohere-test-key";
  const service: ServiceDefinition = {
    authenticate(request) {
      const token = bearerToken(request.headers);
      if (token === apiKey) return undefined;
      return cohereError(401, token === undefined ? "no api key supplied" : "invalid api token");
    },
    handle: route,
    error(status) {
      return cohereError(status, FAULT_MESSAGES[status] ?? "error");
    },
  };
  const server = await startFaultServer(service, options);
  return { ...server, apiKey };
}
