import { Cohere, CohereClientV2, CohereError } from "cohere-ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCohereServer, type CohereServer } from "./cohere-server.js";
import { cosineSimilarity } from "./hashed-embedding.js";
import { rejection } from "./test-helpers.js";

let server: CohereServer;
let cohere: CohereClientV2;

beforeAll(async () => {
  server = await startCohereServer();
  cohere = new CohereClientV2({ token: server.apiKey, environment: server.url, maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
});

async function embed(
  texts: string[],
  inputType: Cohere.EmbedInputType,
  model = "embed-english-v3.0",
): Promise<number[][]> {
  const response = await cohere.embed({ model, texts, inputType, embeddingTypes: ["float"] });
  return response.embeddings.float ?? [];
}

async function expectStatus(call: Promise<unknown>, status: number, message?: RegExp): Promise<CohereError> {
  const error = await rejection(call);
  expect(error).toBeInstanceOf(CohereError);
  const cohereError = error as CohereError;
  expect(cohereError.statusCode).toBe(status);
  if (message) expect(JSON.stringify(cohereError.body)).toMatch(message);
  return cohereError;
}

describe("Cohere embed v2 round trip", () => {
  it("returns float embeddings of the model's dimension with texts and billed tokens", async () => {
    const response = await cohere.embed({
      model: "embed-english-light-v3.0",
      texts: ["hello world", "goodbye moon"],
      inputType: "search_document",
      embeddingTypes: ["float"],
    });
    expect(response.responseType).toBe("embeddings_by_type");
    expect(response.id).toBeTypeOf("string");
    expect(response.texts).toEqual(["hello world", "goodbye moon"]);
    expect(response.embeddings.float).toHaveLength(2);
    expect(response.embeddings.float?.[0]).toHaveLength(384);
    expect(response.meta?.billedUnits?.inputTokens).toBeGreaterThan(0);
    expect(response.meta?.apiVersion?.version).toBe("2");
  });

  it("sends input_type on the wire and makes query and document vectors differ but correlate", async () => {
    const [asDocument] = await embed(["the index is kept in sync"], "search_document");
    expect((server.requests.at(-1)?.body as Record<string, unknown>).input_type).toBe("search_document");
    const [asQuery] = await embed(["the index is kept in sync"], "search_query");
    expect((server.requests.at(-1)?.body as Record<string, unknown>).input_type).toBe("search_query");
    const similarity = cosineSimilarity(asDocument ?? [], asQuery ?? []);
    expect(similarity).toBeLessThan(0.99);
    expect(similarity).toBeGreaterThan(0.8);
  });

  it("ranks the document that shares words with the query first", async () => {
    const [query] = await embed(["how do cats sleep"], "search_query");
    const [cats, finance] = await embed(["cats sleep all day long", "the bond market rallied"], "search_document");
    expect(cosineSimilarity(query ?? [], cats ?? [])).toBeGreaterThan(cosineSimilarity(query ?? [], finance ?? []) + 0.3);
  });

  it("honours output_dimension on embed-v4.0 and returns every requested embedding type", async () => {
    const response = await cohere.embed({
      model: "embed-v4.0",
      texts: ["dimensions"],
      inputType: "classification",
      outputDimension: 512,
      embeddingTypes: ["float", "int8", "ubinary"],
    });
    expect(response.embeddings.float?.[0]).toHaveLength(512);
    expect(response.embeddings.int8?.[0]).toHaveLength(512);
    expect(response.embeddings.ubinary?.[0]).toHaveLength(64);
    const defaults = await cohere.embed({
      model: "embed-v4.0",
      texts: ["dimensions"],
      inputType: "classification",
      embeddingTypes: ["float"],
    });
    expect(defaults.embeddings.float?.[0]).toHaveLength(1536);
  });
});

describe("Cohere embed v2 validation", () => {
  it("rejects 97 texts and accepts 96", async () => {
    const texts = (count: number) => Array.from({ length: count }, (_, i) => `text ${i}`);
    await expectStatus(embed(texts(97), "search_document"), 400, /total number of texts must be at most 96 - received 97/);
    expect(await embed(texts(96), "search_document")).toHaveLength(96);
  });

  it("rejects an output_dimension the model does not offer", async () => {
    const error = await expectStatus(
      cohere.embed({ model: "embed-v4.0", texts: ["x"], inputType: "search_query", outputDimension: 300, embeddingTypes: ["float"] }),
      400,
      /output_dimension/,
    );
    expect(error).toBeInstanceOf(Cohere.BadRequestError);
    await expectStatus(
      cohere.embed({ model: "embed-english-v3.0", texts: ["x"], inputType: "search_query", outputDimension: 512, embeddingTypes: ["float"] }),
      400,
    );
  });

  it("requires embedding_types, as v2 does", async () => {
    await expectStatus(
      cohere.embed({ model: "embed-english-v3.0", texts: ["x"], inputType: "search_query" }),
      400,
      /embedding_types is required/,
    );
  });

  it("rejects an empty text", async () => {
    await expectStatus(embed(["fine", ""], "search_document"), 400, /must not be empty/);
  });

  it("answers 404 for an unknown model and 401 for a wrong token", async () => {
    const missing = await expectStatus(embed(["x"], "search_query", "embed-english-v9.0"), 404);
    expect(missing).toBeInstanceOf(Cohere.NotFoundError);
    const intruder = new CohereClientV2({ token: "wrong", environment: server.url, maxRetries: 0 });
    const unauthorized = await expectStatus(
      intruder.embed({ model: "embed-english-v3.0", texts: ["x"], inputType: "search_query", embeddingTypes: ["float"] }),
      401,
      /invalid api token/,
    );
    expect(unauthorized).toBeInstanceOf(Cohere.UnauthorizedError);
  });
});

describe("Cohere rerank v2", () => {
  const documents = [
    "Sourdough bread needs a lively starter.",
    "PostgreSQL streaming replication ships WAL to a standby.",
    "WAL archiving in PostgreSQL.",
  ];

  it("orders the documents by the share of the query's words they hold, with top_n and billed search units", async () => {
    const response = await cohere.rerank({ model: "rerank-v3.5", query: "postgresql wal standby", documents });
    expect(response.results.map((result) => result.index)).toEqual([1, 2, 0]);
    expect(response.results.map((result) => result.relevanceScore)).toEqual([1, 2 / 3, 0]);
    expect(response.meta?.billedUnits?.searchUnits).toBe(1);
    const top = await cohere.rerank({ model: "rerank-v3.5", query: "postgresql wal standby", documents, topN: 1 });
    expect(top.results).toEqual([{ index: 1, relevanceScore: 1 }]);
  });

  it("rejects an unknown model with 404 and missing documents or a blank query with 400", async () => {
    await expectStatus(cohere.rerank({ model: "rerank-v0", query: "q", documents }), 404, /not found/);
    await expectStatus(cohere.rerank({ model: "rerank-v3.5", query: "q", documents: [] }), 400, /documents/);
    await expectStatus(cohere.rerank({ model: "rerank-v3.5", query: " ", documents }), 400, /query/);
    await expectStatus(cohere.rerank({ model: "rerank-v3.5", query: "q", documents, topN: 0 }), 400, /top_n/);
  });

  it("answers a malformed-body fault with 200 and a body that is not a rerank response", async () => {
    server.faults.next("malformed");
    const response = await cohere.rerank({ model: "rerank-v3.5", query: "wal", documents });
    // The SDK does not validate answers: the missing results reach the caller as undefined.
    expect(response.results).toBeUndefined();
    expect(server.requests.at(-1)).toMatchObject({ status: 200, fault: "malformed" });
  });
});
