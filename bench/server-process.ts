/**
 * The bench's remote services, in a process of their own (so their work is never counted as, or
 * slowed by, a library's or the parent's): the project's Pinecone protocol server
 * (tests/servers/pinecone-server.ts, the one the test suite runs the real SDK against; it
 * enforces Pinecone's documented limits, 2 MB per request included) and the bench's OpenAI
 * embeddings server (embedding-server.ts). Driven by servers.ts over IPC.
 *
 * Both keep a request log; this process folds them into counters (so upsert bodies are not
 * kept), and hands them out, with its own CPU time, when the parent asks after every step.
 */
import { startPineconeServer } from "../tests/servers/pinecone-server.js";
import { startEmbeddingServer } from "./embedding-server.js";
import { EMBEDDING_DIMENSION } from "./embedding-server.js";
import type { ServerCommand, ServerCounts, VectorRequestCounts } from "./servers.js";
import { serveCommands } from "./server-ipc.js";

const pinecone = await startPineconeServer({ apiKey: "pc-bench" });
const openai = await startEmbeddingServer();

function emptyVectorCounts(): VectorRequestCounts {
  return { total: 0, upsert: 0, query: 0, delete: 0, list: 0, fetch: 0, other: 0, rejected: 0, upserted: 0, bytes: 0 };
}
const embedder = { requests: 0, texts: 0, bytes: 0 };
const vectorStore = emptyVectorCounts();
let cpu = process.cpuUsage();

/** Moves answered requests from the logs into the counters. */
function drain(): void {
  const pending = pinecone.requests.filter((request) => request.status === undefined);
  for (const request of pinecone.requests) {
    if (request.status === undefined) continue;
    const endpoint = /\/data\/[^/]+(\/.*)$/.exec(request.path)?.[1] ?? request.path;
    vectorStore.total++;
    vectorStore.bytes += request.bodyBytes;
    if (typeof request.status !== "number" || request.status >= 400) vectorStore.rejected++;
    if (endpoint === "/vectors/upsert") {
      vectorStore.upsert++;
      const vectors = (request.body as { vectors?: unknown[] } | undefined)?.vectors;
      if (request.status === 200) vectorStore.upserted += Array.isArray(vectors) ? vectors.length : 0;
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
}
// The Pinecone log holds parsed upsert bodies: empty it often, not only at the end of a step.
setInterval(drain, 250).unref();

async function control(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${pinecone.url}${path}`, {
    method,
    headers: { "Api-Key": pinecone.apiKey, "Content-Type": "application/json", "X-Pinecone-API-Version": "2025-10" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`Pinecone control plane ${method} ${path}: ${response.status} ${await response.text()}`);
}

async function handle(command: ServerCommand): Promise<unknown> {
  switch (command.type) {
    case "createIndex":
      await control("POST", "/indexes", {
        name: command.name,
        schema: { fields: { _values: { type: "dense_vector", dimension: EMBEDDING_DIMENSION, metric: "cosine" } } },
      });
      return pinecone.indexHost(command.name);
    case "deleteIndex":
      await control("DELETE", `/indexes/${encodeURIComponent(command.name)}`);
      return undefined;
    case "storedVectors":
      return pinecone.storedVectors(command.name).length;
    case "takeCounts": {
      drain();
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      const counts: ServerCounts = { embedder: { ...embedder }, vectorStore: { ...vectorStore }, cpuMs: (used.user + used.system) / 1000 };
      Object.assign(embedder, { requests: 0, texts: 0, bytes: 0 });
      Object.assign(vectorStore, emptyVectorCounts());
      return counts;
    }
    case "close":
      await Promise.all([pinecone.close(), openai.close()]);
      setImmediate(() => process.disconnect());
      return undefined;
  }
}

serveCommands(handle, { pinecone: { url: pinecone.url, apiKey: pinecone.apiKey }, openai: { url: openai.url, apiKey: openai.apiKey } });
