/**
 * Validation of `/v1/embeddings` requests with the real API's limits: at most 2048 inputs,
 * no empty input, at most 8192 tokens per input and 300,000 tokens per request, counted
 * with cl100k_base as OpenAI does for its embedding models.
 */
import { decode, encode, vocabularySize } from "gpt-tokenizer/encoding/cl100k_base";
import { ReplyError, type ServiceReply } from "./fault-server.js";

export const OPENAI_LIMITS = {
  inputsPerRequest: 2048,
  tokensPerInput: 8192,
  tokensPerRequest: 300_000,
} as const;

export const OPENAI_MODELS: Record<string, { dimension: number; acceptsDimensions: boolean }> = {
  "text-embedding-3-small": { dimension: 1536, acceptsDimensions: true },
  "text-embedding-3-large": { dimension: 3072, acceptsDimensions: true },
  "text-embedding-ada-002": { dimension: 1536, acceptsDimensions: false },
};

export interface OpenAIError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export function openaiErrorReply(status: number, error: Partial<OpenAIError> & { message: string }): ServiceReply {
  return {
    status,
    body: { error: { type: "invalid_request_error", param: null, code: null, ...error } },
  };
}

export function invalid(error: Partial<OpenAIError> & { message: string }, status = 400): never {
  throw new ReplyError(openaiErrorReply(status, error));
}

const INVALID_INPUT = {
  message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
};

/** One input, as text (what gets embedded) and as tokens (what gets counted). */
export interface EmbeddingInput {
  text: string;
  tokenCount: number;
}

// Special-token text such as "<|endoftext|>" is embedded as plain text, not rejected.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function fromText(text: string): EmbeddingInput {
  if (text.length === 0) invalid(INVALID_INPUT);
  return { text, tokenCount: encode(text, PLAIN_TEXT).length };
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((token) => typeof token === "number");
}

function fromTokens(tokens: number[]): EmbeddingInput {
  if (tokens.length === 0) invalid(INVALID_INPUT);
  for (const token of tokens) {
    if (!Number.isInteger(token) || token < 0 || token >= vocabularySize) {
      invalid({ message: `Invalid token id ${token} in '$.input'.`, param: "input" });
    }
  }
  return { text: decode(tokens), tokenCount: tokens.length };
}

/** Parses `input` (string, string[], number[] or number[][]) and enforces the limits. */
export function parseInputs(input: unknown): EmbeddingInput[] {
  let inputs: EmbeddingInput[];
  if (input === undefined || input === null) {
    invalid({ message: "you must provide an input parameter", param: "input" });
  } else if (typeof input === "string") {
    inputs = [fromText(input)];
  } else if (!Array.isArray(input) || input.length === 0) {
    invalid(INVALID_INPUT);
  } else if (input.length > OPENAI_LIMITS.inputsPerRequest) {
    invalid({
      message: `'$.input' is invalid: an array of at most ${OPENAI_LIMITS.inputsPerRequest} inputs is allowed; got ${input.length}. Please check the API reference: https://platform.openai.com/docs/api-reference.`,
    });
  } else if (isTokenArray(input)) {
    inputs = [fromTokens(input)];
  } else if (input.every((item) => typeof item === "string")) {
    inputs = input.map(fromText);
  } else if (input.every(isTokenArray)) {
    inputs = input.map(fromTokens);
  } else {
    invalid(INVALID_INPUT);
  }

  let total = 0;
  for (const item of inputs) {
    if (item.tokenCount > OPENAI_LIMITS.tokensPerInput) {
      invalid({
        message: `This model's maximum context length is ${OPENAI_LIMITS.tokensPerInput} tokens, however you requested ${item.tokenCount} tokens (${item.tokenCount} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
      });
    }
    total += item.tokenCount;
  }
  if (total > OPENAI_LIMITS.tokensPerRequest) {
    invalid({
      message: `Requested ${total} tokens, max ${OPENAI_LIMITS.tokensPerRequest} tokens per request`,
      type: "max_tokens_per_request",
      code: "max_tokens_per_request",
    });
  }
  return inputs;
}

/** Resolves the output dimension from `model` and `dimensions`. */
export function parseDimensions(model: string, dimensions: unknown): number {
  const spec = OPENAI_MODELS[model];
  if (!spec) {
    invalid(
      { message: `The model \`${model}\` does not exist or you do not have access to it.`, code: "model_not_found" },
      404,
    );
  }
  if (dimensions === undefined || dimensions === null) return spec.dimension;
  if (!spec.acceptsDimensions) invalid({ message: "This model does not support specifying dimensions.", param: "dimensions" });
  if (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > spec.dimension) {
    invalid({
      message: `Invalid value for 'dimensions' = ${String(dimensions)}. Must be an integer between 1 and ${spec.dimension}.`,
      param: "dimensions",
    });
  }
  return dimensions;
}
