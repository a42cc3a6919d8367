import { encode } from "gpt-tokenizer/encoding/cl100k_base";
import OpenAI, { type APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "./hashed-embedding.js";
import { startOpenAIServer, type OpenAIServer } from "./openai-server.js";
import { rejection } from "./test-helpers.js";

let server: OpenAIServer;
let openai: OpenAI;

beforeAll(async () => {
  server = await startOpenAIServer();
  openai = new OpenAI({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
});

async function embed(input: string | string[], model = "text-embedding-3-small"): Promise<number[][]> {
  const response = await openai.embeddings.create({ model, input });
  return response.data.map((item) => item.embedding);
}

function lastBody(): Record<string, unknown> {
  return server.requests.at(-1)?.body as Record<string, unknown>;
}

async function expectBadRequest(call: Promise<unknown>, message: string | RegExp): Promise<APIError> {
  const error = await rejection(call);
  expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  const apiError = error as APIError;
  expect(apiError.status).toBe(400);
  expect(apiError.message).toMatch(message);
  return apiError;
}

describe("OpenAI embeddings round trip", () => {
  it("returns float arrays of the model's dimension when the SDK asks for base64 by default", async () => {
    const response = await openai.embeddings.create({ model: "text-embedding-3-small", input: ["first text", "second text"] });
    expect(lastBody().encoding_format).toBe("base64");
    expect(response.object).toBe("list");
    expect(response.model).toBe("text-embedding-3-small");
    expect(response.data.map((item) => item.index)).toEqual([0, 1]);
    for (const item of response.data) {
      expect(item.embedding).toHaveLength(1536);
      expect(item.embedding.every((value) => typeof value === "number")).toBe(true);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 5);
    }
  });

  it("gives identical vectors through the float and base64 encodings", async () => {
    const decoded = await openai.embeddings.create({ model: "text-embedding-3-large", input: "same text" });
    const floats = await openai.embeddings.create({ model: "text-embedding-3-large", input: "same text", encoding_format: "float" });
    expect(lastBody().encoding_format).toBe("float");
    expect(decoded.data[0]?.embedding).toHaveLength(3072);
    expect(decoded.data[0]?.embedding).toEqual(floats.data[0]?.embedding);
  });

  it("is deterministic and ranks texts that share words as more similar", async () => {
    const [query, close, far, again] = await embed([
      "how do cats sleep during the day",
      "cats sleep most of the day",
      "quarterly revenue grew by ten percent",
      "how do cats sleep during the day",
    ]);
    expect(again).toEqual(query);
    const near = cosineSimilarity(query ?? [], close ?? []);
    const distant = cosineSimilarity(query ?? [], far ?? []);
    expect(near).toBeGreaterThan(0.5);
    expect(near).toBeGreaterThan(distant + 0.3);
  });

  it("honours dimensions for text-embedding-3 models and refuses it for ada-002", async () => {
    const response = await openai.embeddings.create({ model: "text-embedding-3-small", input: "short", dimensions: 256 });
    expect(response.data[0]?.embedding).toHaveLength(256);
    await expectBadRequest(
      openai.embeddings.create({ model: "text-embedding-ada-002", input: "short", dimensions: 256 }),
      /does not support specifying dimensions/,
    );
    await expectBadRequest(
      openai.embeddings.create({ model: "text-embedding-3-small", input: "short", dimensions: 1537 }),
      /dimensions/,
    );
  });

  it("embeds token arrays like the text they encode and reports token usage", async () => {
    const text = "token arrays are accepted";
    const tokens = encode(text);
    const fromTokens = await openai.embeddings.create({ model: "text-embedding-3-small", input: [tokens] });
    const fromText = await openai.embeddings.create({ model: "text-embedding-3-small", input: text });
    expect(fromTokens.data[0]?.embedding).toEqual(fromText.data[0]?.embedding);
    expect(fromText.usage).toEqual({ prompt_tokens: tokens.length, total_tokens: tokens.length });
  });

  it("sends an x-request-id header the SDK exposes", async () => {
    const { request_id: requestId } = await openai.embeddings.create({ model: "text-embedding-3-small", input: "id" }).withResponse();
    expect(requestId).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("answers 404 for an unknown model and 401 for a wrong key", async () => {
    const missing = await rejection(openai.embeddings.create({ model: "text-embedding-4", input: "x" }));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    const intruder = new OpenAI({ apiKey: "sk-wrong", baseURL: `${server.url}/v1`, maxRetries: 0 });
    const unauthorized = await rejection(intruder.embeddings.create({ model: "text-embedding-3-small", input: "x" }));
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((unauthorized as APIError).code).toBe("invalid_api_key");
  });
});

describe("OpenAI embeddings validation", () => {
  it("rejects 2049 inputs and accepts 2048", async () => {
    await expectBadRequest(embed(Array.from({ length: 2049 }, (_, i) => `text ${i}`)), /input/);
    expect(await embed(Array.from({ length: 2048 }, (_, i) => `text ${i}`))).toHaveLength(2048);
  });

  it("rejects an empty string", async () => {
    await expectBadRequest(embed(["fine", ""]), "'$.input' is invalid");
  });

  it("rejects an input over 8192 tokens", async () => {
    const text = " word".repeat(8193);
    expect(encode(text)).toHaveLength(8193);
    await expectBadRequest(embed(text), "maximum context length is 8192 tokens, however you requested 8193 tokens");
  });

  it("rejects a request over 300,000 tokens in total", async () => {
    const inputs = Array.from({ length: 38 }, () => " word".repeat(8000));
    const error = await expectBadRequest(embed(inputs), "Requested 304000 tokens, max 300000 tokens per request");
    expect(error.code).toBe("max_tokens_per_request");
  });
});

describe("OpenAI tokens-per-minute limit", () => {
  it("answers 429 with the wait for the tokens once a second's worth of input tokens is spent, then admits again", async () => {
    // 60,000 tokens a minute: 1,000 a second wait unused.
    const limited = await startOpenAIServer({ rateLimit: { tokensPerMinute: 60_000 } });
    try {
      const client = new OpenAI({ apiKey: limited.apiKey, baseURL: `${limited.url}/v1`, maxRetries: 0 });
      const text = " word".repeat(600);
      expect(encode(text)).toHaveLength(600);
      await client.embeddings.create({ model: "text-embedding-3-small", input: text });
      const error = (await rejection(client.embeddings.create({ model: "text-embedding-3-small", input: text }))) as APIError;
      expect(error.status).toBe(429);
      // 200 tokens are short at 1 token a millisecond.
      expect(Number(error.headers?.get("retry-after-ms"))).toBeGreaterThan(100);
      expect(Number(error.headers?.get("retry-after-ms"))).toBeLessThanOrEqual(200);
      // A refused request takes nothing: after the wait, the same request passes.
      await new Promise((resolve) => setTimeout(resolve, Number(error.headers?.get("retry-after-ms")) + 20));
      await client.embeddings.create({ model: "text-embedding-3-small", input: text });
      expect(limited.requests.map((request) => request.status)).toEqual([200, 429, 200]);
    } finally {
      await limited.close();
    }
  });
});
