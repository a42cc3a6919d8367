import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { denseEmbedding, EMBEDDING_DIMENSION, startEmbeddingServer, type EmbeddingServer } from "../../bench/embedding-server.js";

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
};

describe("the bench's embedding server", () => {
  let server: EmbeddingServer;
  beforeAll(async () => {
    server = await startEmbeddingServer();
  });
  afterAll(() => server.close());

  it("returns dense unit vectors, every component non-zero, through the OpenAI SDK", async () => {
    const client = new OpenAI({ apiKey: server.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const response = await client.embeddings.create({ model: "text-embedding-3-small", input: ["streaming replication ships WAL", "a"] });
    for (const { embedding } of response.data) {
      expect(embedding).toHaveLength(EMBEDDING_DIMENSION);
      expect(embedding.filter((value) => value === 0)).toHaveLength(0);
      expect(Math.abs(cosine(embedding, embedding) - 1)).toBeLessThan(1e-5);
      // About ±1/√1536 like a real model's: JSON-serialized, a vector takes tens of kilobytes.
      expect(JSON.stringify(embedding).length).toBeGreaterThan(EMBEDDING_DIMENSION * 15);
    }
    expect(server.requests).toEqual([expect.objectContaining({ inputs: 2 })]);
  });

  it("gives the same vector for the same text and ranks texts sharing words above unrelated ones", () => {
    const query = denseEmbedding("how do standbys stay current with the primary", EMBEDDING_DIMENSION);
    const related = denseEmbedding("standbys stay current by replaying the primary's WAL", EMBEDDING_DIMENSION);
    const unrelated = denseEmbedding("bake the bread at two hundred degrees for forty minutes", EMBEDDING_DIMENSION);
    expect(denseEmbedding("how do standbys stay current with the primary", EMBEDDING_DIMENSION)).toEqual(query);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.1);
  });
});
