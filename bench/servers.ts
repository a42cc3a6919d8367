/**
 * The two remote services both libraries talk to during the benchmark, on 127.0.0.1:
 *
 * - Pinecone: the project's own protocol server (tests/servers/pinecone-server.ts), the one the
 *   test suite runs the real SDK against. Each run gets fresh indexes through its control plane.
 * - OpenAI embeddings: a bench-local server that answers at once. The test suite's OpenAI server
 *   counts every input's tokens with cl100k and hashes word trigrams, which costs about as much
 *   per text as the libraries themselves; here the figures should be the libraries' own cost,
 *   so this one hashes words into the vector and nothing more (vectors still rank sensibly).
 *
 * Both keep a request log that the runner reads and empties after every measured step, and a
 * clock of the wall time during which at least one request was in flight at either server
 * (from Node's own http.server diagnostics channels), so a step's time can be split into time
 * spent waiting on the services and time spent in the library (and PostgreSQL).
 */
import { subscribe } from "node:diagnostics_channel";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { PineconeServer } from "../tests/servers/pinecone-server.js";

export const OPENAI_KEY = "sk-bench";
export const EMBEDDING_MODEL = "text-embedding-3-small";
export const EMBEDDING_DIMENSION = 1536;

/** One embeddings request, as the log keeps it (no bodies: they would dominate the parent's memory). */
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

/** Counts of the Pinecone data-plane requests, by endpoint, plus their request bytes. */
export interface VectorRequestCounts {
  total: number;
  upsert: number;
  query: number;
  delete: number;
  list: number;
  fetch: number;
  other: number;
  /** Records sent in upserts. */
  upserted: number;
  /** Request bodies, in bytes. */
  bytes: number;
}

export interface ServerCounts {
  embedder: { requests: number; texts: number; bytes: number };
  vectorStore: VectorRequestCounts;
  /** Wall time with at least one request in flight at either server, ms. */
  busyMs: number;
}

/** Wall time during which at least one HTTP request was being served in this process. */
class BusyClock {
  private active = 0;
  private since = 0;
  private total = 0;

  constructor() {
    subscribe("http.server.request.start", (message) => {
      const { response } = message as { response: ServerResponse };
      if (this.active++ === 0) this.since = performance.now();
      // "close" follows "finish", and also ends requests that were never answered.
      response.once("close", () => {
        if (--this.active === 0) this.total += performance.now() - this.since;
      });
    });
  }

  take(): number {
    const now = performance.now();
    let total = this.total;
    if (this.active > 0) {
      total += now - this.since;
      this.since = now;
    }
    this.total = 0;
    return Math.round(total * 10) / 10;
  }
}

export interface BenchServers {
  readonly pinecone: PineconeServer;
  readonly openai: EmbeddingServer;
  /** Creates an empty index (cosine) and returns its data-plane host. */
  createIndex(name: string): Promise<string>;
  deleteIndex(name: string): Promise<void>;
  /** What was asked of the servers since the last call, and an empty log for the next step. */
  takeCounts(): ServerCounts;
  close(): Promise<void>;
}

export async function startBenchServers(): Promise<BenchServers> {
  const { startPineconeServer } = await import("../tests/servers/pinecone-server.js");
  const clock = new BusyClock();
  const pinecone = await startPineconeServer({ apiKey: "pc-bench" });
  const openai = await startEmbeddingServer();
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${pinecone.url}${path}`, {
      method,
      headers: { "Api-Key": pinecone.apiKey, "Content-Type": "application/json", "X-Pinecone-API-Version": "2025-10" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`Pinecone control plane ${method} ${path}: ${response.status} ${await response.text()}`);
  };
  const embedder = { requests: 0, texts: 0, bytes: 0 };
  const vectorStore = emptyVectorCounts();
  /**
   * Moves answered requests from the logs into the counters. The Pinecone log keeps parsed
   * bodies (an upsert's vectors), so it is emptied often, not only at the end of a step.
   */
  const drain = () => {
    const pending = pinecone.requests.filter((request) => request.status === undefined);
    for (const request of pinecone.requests) {
      if (request.status === undefined) continue;
      const endpoint = /\/data\/[^/]+(\/.*)$/.exec(request.path)?.[1] ?? request.path;
      vectorStore.total++;
      vectorStore.bytes += request.bodyBytes;
      if (endpoint === "/vectors/upsert") {
        vectorStore.upsert++;
        const vectors = (request.body as { vectors?: unknown[] } | undefined)?.vectors;
        vectorStore.upserted += Array.isArray(vectors) ? vectors.length : 0;
      } else if (endpoint === "/query") vectorStore.query++;
      else if (endpoint === "/vectors/delete") vectorStore.delete++;
      else if (endpoint === "/vectors/list") vectorStore.list++;
      else if (endpoint === "/vectors/fetch") vectorStore.fetch++;
      else vectorStore.other++;
    }
    pinecone.requests.splice(0, pinecone.requests.length, ...pending);
    for (const request of openai.requests) {
      embedder.requests++;
      embedder.texts += request.inputs;
      embedder.bytes += request.bytes;
    }
    openai.requests.length = 0;
  };
  const drainer = setInterval(drain, 250);
  drainer.unref();
  return {
    pinecone,
    openai,
    async createIndex(name) {
      await control("POST", "/indexes", {
        name,
        schema: { fields: { _values: { type: "dense_vector", dimension: EMBEDDING_DIMENSION, metric: "cosine" } } },
      });
      pinecone.requests.length = 0;
      Object.assign(vectorStore, emptyVectorCounts());
      return pinecone.indexHost(name);
    },
    async deleteIndex(name) {
      await control("DELETE", `/indexes/${encodeURIComponent(name)}`);
      pinecone.requests.length = 0;
      Object.assign(vectorStore, emptyVectorCounts());
    },
    takeCounts() {
      drain();
      const counts = { embedder: { ...embedder }, vectorStore: { ...vectorStore }, busyMs: clock.take() };
      Object.assign(embedder, { requests: 0, texts: 0, bytes: 0 });
      Object.assign(vectorStore, emptyVectorCounts());
      return counts;
    },
    async close() {
      clearInterval(drainer);
      await Promise.all([pinecone.close(), openai.close()]);
    },
  };
}

function emptyVectorCounts(): VectorRequestCounts {
  return { total: 0, upsert: 0, query: 0, delete: 0, list: 0, fetch: 0, other: 0, upserted: 0, bytes: 0 };
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

/** A bag of hashed lower-case words, L2-normalised: cheap, deterministic, and similar texts score high. */
function embed(text: string, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text]) {
    const hash = fnv1a(word);
    vector[hash % dimension]! += hash & 0x80000000 ? -1 : 1;
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimension; i++) vector[i]! /= norm;
  return vector;
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

/** `POST /v1/embeddings` as OpenAI speaks it (float or base64 encoding, optional `dimensions`). */
async function startEmbeddingServer(): Promise<EmbeddingServer> {
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
        const vector = embed(text, dimension);
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
