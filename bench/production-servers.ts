/**
 * The parent's handle on the production scenario's services (production-server-process.ts, a
 * process of its own): OpenAI with the provider's rate limits, Pinecone, both with random faults.
 */
import { fork } from "node:child_process";

const HOOKS = new URL("./hooks.ts", import.meta.url).href;
const SCRIPT = new URL("./production-server-process.ts", import.meta.url);

export interface ProductionServerSettings {
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** Share of requests (0..1) that fail at random, on both services. */
  faultRate: number;
}

export interface ProductionServerCounts {
  embeddings: {
    requests: number;
    ok: number;
    /** 429s from the provider's rate limit (not the injected ones). */
    rateLimited: number;
    /** Requests that met an injected fault (429, 500 or a dropped connection). */
    injected: number;
    /** Texts embedded by successful requests. */
    texts: number;
  };
  vectors: { requests: number; ok: number; injected: number; upsert: number; query: number; delete: number; list: number; fetch: number; other: number };
  /** CPU time (user + system) of the servers' process since it started, ms. */
  cpuMs: number;
}

export type ProductionServerCommand =
  | { id: number; type: "createIndex"; name: string; dimension: number }
  | { id: number; type: "faults"; on: boolean }
  | { id: number; type: "counts" }
  | { id: number; type: "close" };

export type ProductionServerReply = { id: number; result: unknown } | { id: number; error: string };

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export interface Endpoint {
  readonly url: string;
  readonly apiKey: string;
}

export interface ProductionServers {
  /** OpenAI's base URL (ending in /v1) and key. */
  readonly openai: Endpoint;
  readonly pinecone: Endpoint;
  /** Creates an empty cosine index and returns its data-plane host. */
  createIndex(name: string, dimension: number): Promise<string>;
  /** Switches the random faults on or off. */
  faults(on: boolean): Promise<void>;
  counts(): Promise<ProductionServerCounts>;
  close(): Promise<void>;
}

export async function startProductionServers(settings: ProductionServerSettings): Promise<ProductionServers> {
  const child = fork(SCRIPT, [], {
    execArgv: ["--import", HOOKS, "--max-old-space-size=8192"],
    env: { ...process.env, BENCH_PRODUCTION_SERVERS: JSON.stringify(settings) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let exited: Error | undefined;
  child.on("message", (reply: ProductionServerReply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if ("error" in reply) pending?.reject(new Error(`production servers: ${reply.error}`));
    else pending?.resolve(reply.result);
  });
  child.on("exit", (code, signal) => {
    exited = new Error(`production servers exited (${signal ?? code})`);
    for (const pending of waiting.values()) pending.reject(exited);
    waiting.clear();
  });
  let nextId = 1;
  const ask = <T>(request: WithoutId<ProductionServerCommand>): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  };
  const endpoints = await new Promise<{ openai: Endpoint; pinecone: Endpoint }>((resolve, reject) => waiting.set(0, { resolve: resolve as (value: unknown) => void, reject }));
  return {
    ...endpoints,
    createIndex: (name, dimension) => ask<string>({ type: "createIndex", name, dimension }),
    faults: (on) => ask<void>({ type: "faults", on }),
    counts: () => ask<ProductionServerCounts>({ type: "counts" }),
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
