/**
 * The remote services both libraries talk to during the benchmark, on 127.0.0.1, run by
 * server-process.ts in a child process of their own; this is the parent's handle on them.
 */
import { fork, type ChildProcess } from "node:child_process";

export { EMBEDDING_DIMENSION, EMBEDDING_MODEL } from "./embedding-server.js";

const HOOKS = new URL("./hooks.ts", import.meta.url).href;
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

export type ServerReply = { id: number; result: unknown } | { id: number; error: string };

/** A command before it is given its id (Omit over each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Request = WithoutId<ServerCommand>;

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
  const child: ChildProcess = fork(SCRIPT, [], {
    execArgv: ["--import", HOOKS, `--max-old-space-size=${SERVER_HEAP_MB}`],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let exited: Error | undefined;
  child.on("message", (reply: ServerReply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if ("error" in reply) pending?.reject(new Error(`bench servers: ${reply.error}`));
    else pending?.resolve(reply.result);
  });
  child.on("exit", (code, signal) => {
    exited = new Error(`bench servers exited (${signal ?? code})`);
    for (const pending of waiting.values()) pending.reject(exited);
    waiting.clear();
  });
  let nextId = 1;
  const ask = <T>(request: Request): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  };
  const ready = new Promise<{ pinecone: Endpoint; openai: Endpoint }>((resolve, reject) => waiting.set(0, { resolve: resolve as (value: unknown) => void, reject }));
  const endpoints = await ready;
  return {
    ...endpoints,
    createIndex: (name) => ask<string>({ type: "createIndex", name }),
    deleteIndex: (name) => ask<void>({ type: "deleteIndex", name }),
    storedVectors: (name) => ask<number>({ type: "storedVectors", name }),
    takeCounts: () => ask<ServerCounts>({ type: "takeCounts" }),
    async close() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      await ask<void>({ type: "close" }).catch(() => undefined);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
