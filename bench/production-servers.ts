/**
 * The parent's handle on the production scenario's services (production-server-process.ts, a
 * process of its own): OpenAI with the provider's rate limits, Pinecone, both with random faults.
 */
import { forkServerProcess } from "./server-ipc.js";

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
  const servers = await forkServerProcess<ProductionServerCommand, { openai: Endpoint; pinecone: Endpoint }>(SCRIPT, {
    name: "production servers",
    heapMb: 8192,
    env: { ...process.env, BENCH_PRODUCTION_SERVERS: JSON.stringify(settings) },
  });
  return {
    ...servers.ready,
    createIndex: (name, dimension) => servers.ask<string>({ type: "createIndex", name, dimension }),
    faults: (on) => servers.ask<void>({ type: "faults", on }),
    counts: () => servers.ask<ProductionServerCounts>({ type: "counts" }),
    close: () => servers.close(),
  };
}
