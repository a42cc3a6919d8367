/**
 * The bench's OpenAI embeddings server (`POST /v1/embeddings`, float or base64 encoding,
 * optional `dimensions`). It answers at once: the test suite's OpenAI server counts every
 * input's tokens with cl100k and hashes word trigrams, which is work the libraries' figures
 * should not wait on.
 *
 * Its vectors look like a real model's where the libraries can tell: dense (every component
 * non-zero, about ±1/√dimension, as text-embedding-3's are), so a vector serialized to JSON for
 * an upsert is as large as a real one (a sparse vector of mostly zeros makes bodies about five
 * times smaller, and batches that break Pinecone's 2 MB limit in production pass here). They
 * still rank sensibly: a hashed bag of the text's words carries most of the similarity, and
 * seeded noise (the same for the same text) fills every component.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const OPENAI_KEY = "sk-bench";
export const EMBEDDING_MODEL = "text-embedding-3-small";
export const EMBEDDING_DIMENSION = 1536;

/** Share of a vector's length carried by the bag of words; the rest is noise. */
const SIGNAL = 0.6;
const NOISE = Math.sqrt(1 - SIGNAL * SIGNAL);

/** One embeddings request, as the log keeps it (no bodies). */
export interface EmbeddingRequest {
  readonly inputs: number;
  readonly bytes: number;
}

export interface EmbeddingServer {
  readonly url: string;
  readonly apiKey: string;
  readonly requests: EmbeddingRequest[];
  close(): Promise<void>;
}

/** FNV-1a, 32 bits. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** xorshift32 in (-1, 1): a fast seeded stream for the noise. */
function noiseStream(seed: number): () => number {
  let state = seed || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2147483648 - 1;
  };
}

/** A dense unit vector: a hashed bag of lower-case words (weight SIGNAL) plus noise seeded by the text (weight NOISE). */
export function denseEmbedding(text: string, dimension: number): Float32Array {
  const signal = new Float64Array(dimension);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text]) {
    const hash = fnv1a(word);
    signal[hash % dimension]! += hash & 0x80000000 ? -1 : 1;
  }
  const noise = new Float64Array(dimension);
  const next = noiseStream(fnv1a(text));
  // The sum of three uniforms is close enough to a normal distribution, and never exactly 0 in practice.
  for (let i = 0; i < dimension; i++) noise[i] = next() + next() + next();
  const norm = (values: Float64Array) => Math.sqrt(values.reduce((sum, value) => sum + value * value, 0)) || 1;
  const signalScale = SIGNAL / norm(signal);
  const noiseScale = NOISE / norm(noise);
  const mixed = signal.map((value, i) => value * signalScale + noise[i]! * noiseScale);
  const scale = 1 / norm(mixed);
  return Float32Array.from(mixed, (value) => value * scale);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "x-request-id": "req_bench" });
  response.end(payload);
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export async function startEmbeddingServer(): Promise<EmbeddingServer> {
  const requests: EmbeddingRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request);
      if (request.method !== "POST" || request.url !== "/v1/embeddings") return reply(response, 404, { error: { message: "not found", type: "invalid_request_error" } });
      if (request.headers.authorization !== `Bearer ${OPENAI_KEY}`) return reply(response, 401, { error: { message: "bad key", type: "invalid_request_error" } });
      const body = JSON.parse(raw.toString("utf8")) as { input: string | string[]; model: string; dimensions?: number; encoding_format?: string };
      const inputs = typeof body.input === "string" ? [body.input] : body.input;
      requests.push({ inputs: inputs.length, bytes: raw.length });
      const dimension = body.dimensions ?? EMBEDDING_DIMENSION;
      let tokens = 0;
      const data = inputs.map((text, index) => {
        tokens += Math.ceil(text.length / 4);
        const vector = denseEmbedding(text, dimension);
        const embedding = body.encoding_format === "base64" ? Buffer.from(vector.buffer).toString("base64") : Array.from(vector);
        return { object: "embedding", index, embedding };
      });
      reply(response, 200, { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    })().catch((error: unknown) => {
      console.error("embedding server failed:", error);
      response.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: OPENAI_KEY,
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
