// OpenAI and Cohere embedders through their real SDKs against the local protocol servers, used
// the way dualstore uses them: through the ManagedEmbedder and its one retry policy.
import { inspect } from "node:util";
import { encode } from "gpt-tokenizer/encoding/cl100k_base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import type { RetryPolicy } from "../../src/core/retry.js";
import { createCohereEmbedder } from "../../src/embedders/cohere/cohere-embedder.js";
import type { Embedder } from "../../src/embedders/embedder.js";
import { ManagedEmbedder } from "../../src/embedders/managed-embedder.js";
import { resolveOpenAIConfig } from "../../src/embedders/openai/openai-config.js";
import { createOpenAIEmbedder, OpenAIEmbedder } from "../../src/embedders/openai/openai-embedder.js";
import { AbortedError, ConfigurationError, ProviderError, ValidationError } from "../../src/errors.js";
import { rejectsWith } from "../helpers/errors.js";
import { startCohereServer, type CohereServer } from "../servers/cohere-server.js";
import type { StartedServer } from "../servers/fault-server.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";

const context = { env: {}, logger: silentLogger };
/** dualstore's policy, with delays short enough for tests. */
const fastRetry: RetryPolicy = { maxRetries: 3, minDelayMs: 10 };
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
const tokens = (text: string): number => encode(text, PLAIN_TEXT).length;

function managed(embedder: Embedder, retry: RetryPolicy = fastRetry): ManagedEmbedder {
  return new ManagedEmbedder(embedder, { retry, concurrency: 2, logger: silentLogger });
}

function body(request: StartedServer["requests"][number]): Record<string, unknown> {
  return request.body as Record<string, unknown>;
}

function inputsOf(server: StartedServer): string[][] {
  return server.requests.map((request) => body(request).input as string[]);
}

describe("OpenAI embedder against the protocol server", () => {
  let server: OpenAIServer;
  const create = (config: Parameters<typeof createOpenAIEmbedder>[0] = {}) =>
    createOpenAIEmbedder({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, model: "text-embedding-3-small", dimensions: 256, ...config }, context);

  beforeAll(async () => {
    server = await startOpenAIServer();
  });
  afterAll(async () => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.faults.clear();
  });

  it("sends no request larger than 2,048 inputs and returns the vectors in input order", async () => {
    const embedder = await create();
    const texts = Array.from({ length: 2_049 }, (_, i) => `short text number ${i}`);
    const vectors = await managed(embedder).embedDocuments(texts);
    expect(inputsOf(server).map((input) => input.length).sort((a, b) => a - b)).toEqual([1, 2_048]);
    expect(vectors).toHaveLength(2_049);
    for (const i of [0, 1_234, 2_048]) expect(vectors[i]).toEqual(await embedder.embedQuery(texts[i]!));
  });

  it("splits a batch whose inputs add up to more than 300,000 tokens into requests within it", async () => {
    const embedder = await create();
    const filler = " vector index store database query".repeat(80);
    const texts = Array.from({ length: 2_048 }, (_, i) => `document ${i}:${filler}`);
    const total = texts.reduce((sum, text) => sum + tokens(text), 0);
    expect(total).toBeGreaterThan(2 * 300_000);
    const vectors = await managed(embedder).embedDocuments(texts);
    const requests = inputsOf(server);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const input of requests) {
      expect(input.length).toBeLessThanOrEqual(2_048);
      expect(input.reduce((sum, text) => sum + tokens(text), 0)).toBeLessThanOrEqual(300_000);
    }
    expect(requests.flat()).toEqual(texts);
    for (const i of [0, 900, 2_047]) expect(vectors[i]).toEqual(await embedder.embedQuery(texts[i]!));
  });

  it("sends a request the API refuses as over 300,000 tokens again, split by exact counts", async () => {
    const embedder = await create();
    // " 7" is one cl100k token per two characters, denser than the estimate's three: packed by
    // the estimate, the first request holds about 1.5x what the API accepts.
    const texts = Array.from({ length: 400 }, (_, i) => `${i}${" 7".repeat(1_300)}`);
    const vectors = await managed(embedder).embedDocuments(texts);
    const refused = server.requests.filter((request) => request.status === 400);
    expect(refused).toHaveLength(1);
    expect((body(refused[0]!).input as string[]).reduce((sum, text) => sum + tokens(text), 0)).toBeGreaterThan(300_000);
    const accepted = server.requests.filter((request) => request.status === 200).map((request) => body(request).input as string[]);
    for (const input of accepted) expect(input.reduce((sum, text) => sum + tokens(text), 0)).toBeLessThanOrEqual(300_000);
    expect(accepted.flat()).toEqual(texts);
    for (const i of [0, 250, 399]) expect(vectors[i]).toEqual(await embedder.embedQuery(texts[i]!));
  });

  it("counts no token exactly, nor loads the tokenizer, for inputs and requests far from the API's limits", async () => {
    const [sdk, tokenizer] = await Promise.all([import("openai"), import("gpt-tokenizer/encoding/cl100k_base")]);
    let loads = 0;
    let counted = 0;
    const countingTokenizer = { ...tokenizer, countTokens: (...args: Parameters<typeof tokenizer.countTokens>) => (counted++, tokenizer.countTokens(...args)) };
    const resolved = resolveOpenAIConfig({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, dimensions: 256 }, {});
    const embedder = new OpenAIEmbedder(sdk, async () => (loads++, countingTokenizer), resolved);
    await managed(embedder).embedDocuments(Array.from({ length: 300 }, (_, i) => `chunk ${i}: streaming replication ships WAL records to standbys. `.repeat(20)));
    expect(server.requests).toHaveLength(1);
    expect([loads, counted]).toEqual([0, 0]);
    // Up to 8,192 UTF-8 bytes there cannot be more tokens (each holds a byte at least): long prose chunks are not counted.
    await managed(embedder).embedDocuments(["long ".repeat(1_638), "é".repeat(4_096)]);
    expect([loads, counted]).toEqual([0, 0]);
    // A text long enough that it might pass 8,192 tokens is counted, with the tokenizer loaded once.
    await managed(embedder).embedDocuments(["é".repeat(4_097), "龘".repeat(2_731)]);
    expect(loads).toBe(1);
    expect(counted).toBe(2);
  });

  it("cuts an input over 8,192 tokens to its longest prefix within them, never inside a character, and embeds that", async () => {
    const embedder = await create();
    const long = "Rare: " + "龘".repeat(6_000);
    // "龘" is two tokens and the 8,192nd token of this text is its first: a plain cut there would break it.
    const [firstHalf] = encode("龘", PLAIN_TEXT);
    expect(encode("龘", PLAIN_TEXT)).toHaveLength(2);
    expect(encode(long, PLAIN_TEXT)[8_191]).toBe(firstHalf);
    const [vector, short] = await managed(embedder).embedDocuments([long, "a short text"]);
    const [sent, second] = inputsOf(server)[0]!;
    expect(tokens(sent!)).toBeLessThanOrEqual(8_192);
    expect(tokens(sent!)).toBeGreaterThan(8_180);
    expect(long.startsWith(sent!)).toBe(true);
    expect(sent).not.toContain("\uFFFD");
    expect(second).toBe("a short text");
    expect(vector).toEqual(await embedder.embedQuery(sent!));
    expect(short).toEqual(await embedder.embedQuery("a short text"));
  });

  it("sends dimensions for a text-embedding-3 model and leaves it out at the native length", async () => {
    await (await create({ model: "text-embedding-3-large", dimensions: 256 })).embedQuery("shortened");
    await (await create({ model: "text-embedding-3-small", dimensions: undefined })).embedQuery("native");
    await (await create({ model: "text-embedding-ada-002", dimensions: undefined })).embedQuery("fixed");
    expect(server.requests.map((request) => [body(request).model, body(request).dimensions])).toEqual([
      ["text-embedding-3-large", 256],
      ["text-embedding-3-small", undefined],
      ["text-embedding-ada-002", undefined],
    ]);
  });

  it("decodes base64 vectors to the same floats the API returns as JSON, several of them in one response", async () => {
    const vector = await (await create()).embedQuery("same text");
    expect(body(server.requests[0]!).encoding_format).toBe("base64");
    const response = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", dimensions: 256, input: "same text", encoding_format: "float" }),
    });
    const floats = ((await response.json()) as { data: Array<{ embedding: number[] }> }).data[0]!.embedding;
    expect(Array.isArray(vector)).toBe(true);
    expect(vector).toEqual(floats);
    // The decoder reuses one buffer: each vector of a batch is still its own.
    const [a, b] = await (await create()).embedDocuments(["same text", "other text"]);
    expect(a).toEqual(floats);
    expect(b).not.toEqual(floats);
  });

  it("refuses empty and whitespace-only texts before sending anything", async () => {
    const error = await rejectsWith(managed(await create()).embedDocuments(["fine", "", " \n\t"]), ValidationError);
    expect(error.fields).toEqual(["texts.1", "texts.2"]);
    expect(server.requests).toHaveLength(0);
  });

  it("counts special-token text as plain text, and embeds it whole", async () => {
    const text = `<|endoftext|> and 数据库 ${"plain words ".repeat(500)}`;
    expect(tokens(text)).toBeLessThan(8_192);
    await managed(await create()).embedDocuments([text]);
    expect(inputsOf(server)).toEqual([[text]]);
  });

  it("does not retry a 400, and reports its status and request id", async () => {
    // A combination createOpenAIEmbedder refuses, so the server's own check answers 400.
    const resolved = resolveOpenAIConfig({ apiKey: server.apiKey, baseURL: `${server.url}/v1` }, {});
    const [sdk, tokenizer] = await Promise.all([import("openai"), import("gpt-tokenizer/encoding/cl100k_base")]);
    const embedder = new OpenAIEmbedder(sdk, async () => tokenizer, { ...resolved, model: "text-embedding-ada-002", dimensions: 256, dimension: 256 });
    const error = await rejectsWith(managed(embedder).embedQuery("anything"), ProviderError);
    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({ provider: "openai", status: 400, retryable: false });
    expect(error.requestId).toMatch(/^req_[0-9a-f]{32}$/);
    expect(error.message).toContain("does not support specifying dimensions");
  });

  it("builds from OPENAI_API_KEY and OPENAI_BASE_URL when the options leave them out", async () => {
    const embedder = await createOpenAIEmbedder({}, { env: { OPENAI_API_KEY: server.apiKey, OPENAI_BASE_URL: `${server.url}/v1` }, logger: silentLogger });
    expect(embedder.id).toBe("openai:text-embedding-3-small:1536");
    expect(await embedder.embedQuery("from the environment")).toHaveLength(1536);
  });
});

describe("Cohere embedder against the protocol server", () => {
  let server: CohereServer;
  const create = (config: Parameters<typeof createCohereEmbedder>[0] = {}) =>
    createCohereEmbedder({ apiKey: server.apiKey, baseUrl: server.url, ...config }, context);

  beforeAll(async () => {
    server = await startCohereServer();
  });
  afterAll(async () => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.faults.clear();
  });

  it("sends at most 96 texts per request, as search_document, asking for float vectors", async () => {
    const texts = Array.from({ length: 200 }, (_, i) => `text number ${i}`);
    const vectors = await managed(await create({ outputDimension: 1024 })).embedDocuments(texts);
    expect(vectors).toHaveLength(200);
    expect(server.requests.map((request) => (body(request).texts as string[]).length).sort((a, b) => a - b)).toEqual([8, 96, 96]);
    for (const request of server.requests) {
      expect(body(request)).toMatchObject({ model: "embed-v4.0", input_type: "search_document", embedding_types: ["float"], output_dimension: 1024 });
    }
  });

  it("embeds a query as search_query, differently from the same text as a document", async () => {
    const embedder = await create({ model: "embed-english-v3.0" });
    const [document] = await embedder.embedDocuments(["streaming replication"]);
    const query = await embedder.embedQuery("streaming replication");
    expect(server.requests.map((request) => body(request).input_type)).toEqual(["search_document", "search_query"]);
    expect(body(server.requests[0]!)).not.toHaveProperty("output_dimension");
    expect(query).toHaveLength(1024);
    expect(query).not.toEqual(document);
  });

  it("does not retry a 400, and reports its status and request id", async () => {
    const inner = await create();
    // An embedder claiming a larger batch than Cohere takes, so the server answers 400.
    const oversized: Embedder = {
      id: inner.id,
      dimension: inner.dimension,
      maxBatchSize: 200,
      embedDocuments: (texts, options) => inner.embedDocuments(texts, options),
      embedQuery: (text, options) => inner.embedQuery(text, options),
    };
    const texts = Array.from({ length: 97 }, (_, i) => `text ${i}`);
    const error = await rejectsWith(managed(oversized).embedDocuments(texts), ProviderError);
    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({ provider: "cohere", status: 400, retryable: false });
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain("at most 96");
  });

  it("refuses empty and whitespace-only texts before sending anything", async () => {
    const error = await rejectsWith(managed(await create()).embedDocuments(["", "fine"]), ValidationError);
    expect(error.fields).toEqual(["texts.0"]);
    expect(server.requests).toHaveLength(0);
  });
});

const OPENAI_KEY = "sk-proj-test-secret-0123456789abcdef";
const COHERE_KEY = "cohere-test-secret-0123456789abcdef";

interface ProviderCase {
  readonly name: string;
  readonly apiKey: string;
  start(): Promise<StartedServer>;
  create(server: StartedServer, options: { apiKey?: string; timeoutMs?: number }): Promise<Embedder>;
  readonly requestId: RegExp;
}

const providers: ProviderCase[] = [
  {
    name: "openai",
    apiKey: OPENAI_KEY,
    start: () => startOpenAIServer({ apiKey: OPENAI_KEY }),
    create: (server, options) => createOpenAIEmbedder({ apiKey: OPENAI_KEY, baseURL: `${server.url}/v1`, dimensions: 256, ...options }, context),
    requestId: /^req_[0-9a-f]{32}$/,
  },
  {
    name: "cohere",
    apiKey: COHERE_KEY,
    start: () => startCohereServer({ apiKey: COHERE_KEY }),
    create: (server, options) => createCohereEmbedder({ apiKey: COHERE_KEY, baseUrl: server.url, outputDimension: 256, ...options }, context),
    requestId: /^[0-9a-f-]{36}$/,
  },
];

describe.each(providers)("$name embedder failures", (provider) => {
  let server: StartedServer;

  beforeAll(async () => {
    server = await provider.start();
  });
  afterAll(async () => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.faults.clear();
  });

  it("retries a 429 no sooner than its Retry-After asks", async () => {
    server.faults.next("429", { retryAfterSeconds: 1 });
    await managed(await provider.create(server, {})).embedQuery("rate limited once");
    expect(server.requests.map((request) => request.status)).toEqual([429, 200]);
    expect(server.requests[1]!.timestamp - server.requests[0]!.timestamp).toBeGreaterThanOrEqual(1_000);
  });

  it.each(["500", "503", "drop"] as const)("retries after a %s and succeeds", async (fault) => {
    server.faults.next(fault);
    const vectors = await managed(await provider.create(server, {})).embedDocuments(["first", "second"]);
    expect(vectors).toHaveLength(2);
    expect(server.requests.map((request) => request.status)).toEqual([fault === "drop" ? "drop" : Number(fault), 200]);
  });

  it("retries a request that got no answer within timeoutMs and succeeds", async () => {
    server.faults.next("timeout");
    const vectors = await managed(await provider.create(server, { timeoutMs: 300 })).embedDocuments(["hung once"]);
    expect(vectors).toHaveLength(1);
    expect(server.requests.map((request) => request.status)).toEqual(["timeout", 200]);
  });

  it("reports a timeout as a retryable ProviderError", async () => {
    server.faults.next("timeout");
    const error = await rejectsWith(managed(await provider.create(server, { timeoutMs: 200 }), { maxRetries: 0 }).embedQuery("hung"), ProviderError);
    expect(error).toMatchObject({ provider: provider.name, retryable: true, status: undefined });
    expect(error.message).toContain("no response within 200 ms");
  });

  it("gives up after the policy's retries, with the status and request id of the last answer", async () => {
    server.faults.next("500", { times: Infinity });
    const error = await rejectsWith(managed(await provider.create(server, {}), { maxRetries: 2, minDelayMs: 5 }).embedQuery("always failing"), ProviderError);
    expect(server.requests).toHaveLength(3);
    expect(error).toMatchObject({ provider: provider.name, status: 500, retryable: true });
    expect(error.requestId).toMatch(provider.requestId);
  });

  it("carries a 429's Retry-After on the error once retries are spent", async () => {
    server.faults.next("429", { retryAfterSeconds: 3 });
    const error = await rejectsWith(managed(await provider.create(server, {}), { maxRetries: 0 }).embedQuery("rate limited"), ProviderError);
    expect(error).toMatchObject({ provider: provider.name, status: 429, retryable: true, retryAfterMs: 3_000 });
    expect(error.requestId).toMatch(provider.requestId);
  });

  it("ends a hung request with AbortedError when the caller aborts", async () => {
    server.faults.next("timeout");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(managed(await provider.create(server, {})).embedQuery("hung", { signal: controller.signal }), AbortedError);
    expect(server.requests).toHaveLength(1);
  });

  it("never lets the API key reach a thrown error, its text or its causes", async () => {
    const wrongKey = `${provider.apiKey}-revoked`;
    const noRetry: RetryPolicy = { maxRetries: 0 };
    const errors: unknown[] = [];
    const capture = (promise: Promise<unknown>) => promise.then(() => expect.unreachable("the call should fail"), (error: unknown) => errors.push(error));
    await capture(managed(await provider.create(server, { apiKey: wrongKey }), noRetry).embedQuery("wrong key"));
    for (const fault of ["500", "drop", "timeout"] as const) {
      server.faults.next(fault);
      await capture(managed(await provider.create(server, { timeoutMs: 200 }), noRetry).embedQuery(`fault ${fault}`));
    }
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatchObject({ status: 401, retryable: false });
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const views = [JSON.stringify(error), String(error), inspect(error, { depth: 10 })];
      for (let cause: unknown = error; cause !== undefined; cause = cause instanceof Error ? cause.cause : undefined) {
        views.push(String(cause), JSON.stringify(cause) ?? "", inspect(cause, { depth: 10, showHidden: true }));
        if (cause instanceof Error) views.push(cause.message, cause.stack ?? "");
      }
      for (const view of views) {
        expect(view).not.toContain(provider.apiKey);
        expect(view).not.toContain(wrongKey);
      }
    }
  });
});

describe("embedder configuration", () => {
  it("names OPENAI_API_KEY or COHERE_API_KEY when no key is given", async () => {
    await expect(createOpenAIEmbedder({}, { env: { OPENAI_API_KEY: "" }, logger: silentLogger })).rejects.toThrow(
      new ConfigurationError("embedder.apiKey: no OpenAI API key; pass apiKey or set OPENAI_API_KEY"),
    );
    await expect(createCohereEmbedder({}, context)).rejects.toThrow(/embedder\.apiKey: .*COHERE_API_KEY/);
  });

  it("names the option for a model and dimension that do not go together", async () => {
    const apiKey = "sk-config-test-0123456789";
    await expect(createOpenAIEmbedder({ apiKey, model: "text-embedding-ada-002", dimensions: 256 }, context)).rejects.toThrow(/^embedder\.dimensions: text-embedding-ada-002 has a fixed dimension/);
    await expect(createOpenAIEmbedder({ apiKey, dimensions: 2_000 }, context)).rejects.toThrow(/^embedder\.dimensions: expected 1 to 1536/);
    await expect(createOpenAIEmbedder({ apiKey, model: "gpt-4o" as never }, context)).rejects.toThrow(/^embedder\.model: /);
    await expect(createCohereEmbedder({ apiKey, model: "embed-english-v3.0", outputDimension: 512 }, context)).rejects.toThrow(/^embedder\.outputDimension: embed-english-v3.0 has a fixed dimension/);
    await expect(createCohereEmbedder({ apiKey, outputDimension: 300 as never }, context)).rejects.toThrow(/^embedder\.outputDimension: expected one of 256, 512, 1024, 1536/);
    await expect(createCohereEmbedder({ apiKey, timeoutMs: 0 }, context)).rejects.toThrow(/^embedder\.timeoutMs: /);
  });

  it("rejects a misspelt option and never echoes a key it could not use", async () => {
    await expect(createOpenAIEmbedder({ apiKey: "sk-config-test-0123456789", dimension: 256 } as never, context)).rejects.toThrow(/^embedder\.dimension: unknown option 'dimension' \(did you mean 'dimensions'\?\)/);
    const error = await rejectsWith(createCohereEmbedder({ apiKey: 12_345_678 as never }, context), ConfigurationError);
    expect(error.message).toMatch(/^embedder\.apiKey: /);
    expect(error.message).not.toContain("12345678");
  });
});
