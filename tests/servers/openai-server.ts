/**
 * A local OpenAI embeddings API (`POST /v1/embeddings`) with deterministic hashed embeddings.
 * The real SDK works against it unchanged:
 *
 *   const openai = new OpenAI({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
 *
 * The SDK asks for `encoding_format: "base64"` unless told otherwise and decodes the
 * little-endian float32 bytes itself; both encodings carry the same float32 values.
 * The "partial" fault has no batch meaning here: embeddings are all-or-nothing, so it is a 500.
 */
import { randomBytes } from "node:crypto";
import {
  bearerToken,
  isRecord,
  startFaultServer,
  type FaultServerOptions,
  type ServiceDefinition,
  type ServiceReply,
  type ServiceRequest,
  type StartedServer,
} from "./fault-server.js";
import { hashedEmbedding } from "./hashed-embedding.js";
import { invalid, openaiErrorReply, parseDimensions, parseInputs, type EmbeddingInput } from "./openai-input.js";

export interface OpenAIServerOptions extends FaultServerOptions {
  /** The only accepted bearer token. Default "sk-test-openai". */
  apiKey?: string;
}

export interface OpenAIServer extends StartedServer {
  apiKey: string;
}

const FAULT_ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  413: { message: "Request body too large.", type: "invalid_request_error", code: null },
  429: {
    message: "Rate limit reached for requests. Please try again in 1s.",
    type: "requests",
    code: "rate_limit_exceeded",
  },
  500: {
    message: "The server had an error while processing your request. Sorry about that!",
    type: "server_error",
    code: null,
  },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
};

function encodeBase64(values: readonly number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer.toString("base64");
}

/** Inputs already parsed (and their tokens counted) for the tokens-per-minute limit, so they are counted once. */
const parsedInputs = new WeakMap<ServiceRequest, EmbeddingInput[]>();

function inputsOf(request: ServiceRequest): EmbeddingInput[] {
  const parsed = parsedInputs.get(request) ?? parseInputs(isRecord(request.body) ? request.body.input : undefined);
  parsedInputs.set(request, parsed);
  return parsed;
}

/** A request's input tokens (cl100k), what OpenAI's tokens-per-minute limit counts; 0 for a request the handler will reject. */
function inputTokens(request: ServiceRequest): number {
  try {
    return inputsOf(request).reduce((sum, input) => sum + input.tokenCount, 0);
  } catch {
    return 0;
  }
}

function embeddings(request: ServiceRequest): ServiceReply {
  if (request.method !== "POST" || request.path !== "/v1/embeddings") {
    return openaiErrorReply(404, { message: `Invalid URL (${request.method} ${request.path})` });
  }
  if (request.bodyParseError !== undefined) {
    invalid({ message: `We could not parse the JSON body of your request. (${request.bodyParseError})` });
  }
  const body = request.body;
  if (!isRecord(body)) invalid({ message: "The request body must be a JSON object." });
  if (typeof body.model !== "string") invalid({ message: "you must provide a model parameter", param: "model" });
  const model = body.model;
  const dimension = parseDimensions(model, body.dimensions);
  const inputs = inputsOf(request);
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    invalid({
      message: `Invalid value for 'encoding_format': expected 'float' or 'base64', got ${JSON.stringify(format)}.`,
      param: "encoding_format",
    });
  }

  const tokens = inputs.reduce((sum, input) => sum + input.tokenCount, 0);
  return {
    status: 200,
    body: {
      object: "list",
      data: inputs.map((input, index) => {
        const vector = hashedEmbedding(input.text, dimension, model);
        return { object: "embedding", index, embedding: format === "base64" ? encodeBase64(vector) : vector };
      }),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
    headers: { "openai-model": model, "openai-processing-ms": "1" },
  };
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const apiKey = options.apiKey ?? "sk-test-openai";
  const service: ServiceDefinition = {
    authenticate(request) {
      const token = bearerToken(request.headers);
      if (token === apiKey) return undefined;
      if (token === undefined) {
        return openaiErrorReply(401, {
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        });
      }
      return openaiErrorReply(401, {
        message: `Incorrect API key provided: ${token.slice(0, 3)}***${token.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        code: "invalid_api_key",
      });
    },
    handle: embeddings,
    tokens: inputTokens,
    error(status) {
      const error = FAULT_ERRORS[status] ?? { message: "Error", type: "server_error", code: null };
      return openaiErrorReply(status, error);
    },
    replyHeaders() {
      return { "x-request-id": `req_${randomBytes(16).toString("hex")}` };
    },
  };
  const server = await startFaultServer(service, options);
  return { ...server, apiKey };
}
