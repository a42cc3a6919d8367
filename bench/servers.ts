/**
 * The remote services both libraries talk to during the benchmark, on 127.0.0.1, run by
 * server-process.ts in a child process of their own; this is the parent's handle on them.
 */
import { forkServerProcess } from "./server-ipc.js";

export { EMBEDDING_DIMENSION, EMBEDDING_MODEL } from "./embedding-server.js";

const SCRIPT = new URL("./server-process.ts", import.meta.url);
/**
 * The Pinecone server keeps every index in memory as plain number arrays (~12 KB a vector at
 * 1,536 dimensions): at 5,000 documents that is more than Node's default heap limit.
 */
const SERVER_HEAP_MB = 12_288;

/** Counts of the Pinecone data-plane requests, by endpoint, plus their request bytes. */
export interface VectorRequestCounts {
  total: number;
  upsert: number;
  query: number;
  delete: number;
  list: number;
  fetch: number;
  other: number;
  /** Requests answered with an error (e.g. a body over Pinecone's 2 MB limit). */
  rejected: number;
  /** Records sent in successful upserts. */
  upserted: number;
  /** Request bodies, in bytes. */
  bytes: number;
}

export interface ServerCounts {
  embedder: { requests: number; texts: number; bytes: number };
  vectorStore: VectorRequestCounts;
  /** CPU time (user + system) of the servers' process, ms. */
  cpuMs: number;
}

export type ServerCommand =
  | { id: number; type: "createIndex"; name: string }
  | { id: number; type: "deleteIndex"; name: string }
  | { id: number; type: "storedVectors"; name: string }
  | { id: number; type: "takeCounts" }
  | { id: number; type: "close" };

export interface Endpoint {
  readonly url: string;
  readonly apiKey: string;
}

export interface BenchServers {
  readonly pinecone: Endpoint;
  readonly openai: Endpoint;
  /** Creates an empty index (cosine) and returns its data-plane host. */
  createIndex(name: string): Promise<string>;
  deleteIndex(name: string): Promise<void>;
  /** How many vectors an index holds. */
  storedVectors(name: string): Promise<number>;
  /** What was asked of the servers since the last call (and their CPU time); the counters start again. */
  takeCounts(): Promise<ServerCounts>;
  close(): Promise<void>;
}

export async function startBenchServers(): Promise<BenchServers> {
  const servers = await forkServerProcess<ServerCommand, { pinecone: Endpoint; openai: Endpoint }>(SCRIPT, { name: "bench servers", heapMb: SERVER_HEAP_MB });
  return {
    ...servers.ready,
    createIndex: (name) => servers.ask<string>({ type: "createIndex", name }),
    deleteIndex: (name) => servers.ask<void>({ type: "deleteIndex", name }),
    storedVectors: (name) => servers.ask<number>({ type: "storedVectors", name }),
    takeCounts: () => servers.ask<ServerCounts>({ type: "takeCounts" }),
    close: () => servers.close(),
  };
}
