/**
 * The production scenario's remote services, in a process of their own: the project's OpenAI and
 * Pinecone protocol servers (tests/servers), with the provider's rate limits (requests and tokens
 * per minute) on OpenAI and a seeded random fault rate on both. Driven by production-servers.ts
 * over IPC; its settings come as JSON in BENCH_PRODUCTION_SERVERS.
 *
 * The request logs hold parsed bodies (upserts with their vectors): they are folded into counters
 * every 250 ms and emptied.
 */
import { startOpenAIServer } from "../tests/servers/openai-server.js";
import { startPineconeServer } from "../tests/servers/pinecone-server.js";
import type { RecordedRequest } from "../tests/servers/fault-server.js";
import type { ProductionServerCommand, ProductionServerCounts, ProductionServerSettings } from "./production-servers.js";
import { serveCommands } from "./server-ipc.js";

const settings = JSON.parse(process.env.BENCH_PRODUCTION_SERVERS ?? "{}") as ProductionServerSettings;
const openai = await startOpenAIServer({ apiKey: "sk-bench", rateLimit: { requestsPerMinute: settings.requestsPerMinute, tokensPerMinute: settings.tokensPerMinute } });
const pinecone = await startPineconeServer({ apiKey: "pc-bench" });

function faultsOn(): void {
  // 429 (with Retry-After), 500 and dropped connections on both; Pinecone's batch endpoints also
  // answer "partial" (half the upsert applied, then a 500).
  openai.faults.setRandomFailureRate(settings.faultRate, 16, ["429", "500", "drop"]);
  pinecone.faults.setRandomFailureRate(settings.faultRate, 17, ["429", "500", "drop", "partial"], { match: "/data/" });
}
faultsOn();

function emptyCounts(): ProductionServerCounts {
  return {
    embeddings: { requests: 0, ok: 0, rateLimited: 0, injected: 0, texts: 0 },
    vectors: { requests: 0, ok: 0, injected: 0, upsert: 0, query: 0, delete: 0, list: 0, fetch: 0, other: 0 },
    cpuMs: 0,
  };
}
const counts = emptyCounts();
const startedCpu = process.cpuUsage();

/** Moves answered requests from a log into the counters, keeping the pending ones. */
function fold(log: RecordedRequest[], add: (request: RecordedRequest) => void): void {
  const pending = log.filter((request) => request.status === undefined);
  for (const request of log) if (request.status !== undefined) add(request);
  log.splice(0, log.length, ...pending);
}

function drain(): void {
  fold(openai.requests, (request) => {
    const e = counts.embeddings;
    e.requests++;
    if (request.fault !== undefined) e.injected++;
    else if (request.status === 429) e.rateLimited++;
    else if (request.status === 200) {
      e.ok++;
      const input = (request.body as { input?: unknown } | undefined)?.input;
      e.texts += Array.isArray(input) ? input.length : 1;
    }
  });
  fold(pinecone.requests, (request) => {
    const v = counts.vectors;
    if (!request.path.startsWith("/data/")) return;
    v.requests++;
    if (request.fault !== undefined) v.injected++;
    else if (request.status === 200) v.ok++;
    const endpoint = /\/data\/[^/]+(\/.*)$/.exec(request.path)?.[1] ?? request.path;
    if (endpoint === "/vectors/upsert") v.upsert++;
    else if (endpoint === "/query") v.query++;
    else if (endpoint === "/vectors/delete") v.delete++;
    else if (endpoint === "/vectors/list") v.list++;
    else if (endpoint === "/vectors/fetch") v.fetch++;
    else v.other++;
  });
}
setInterval(drain, 250).unref();

async function handle(command: ProductionServerCommand): Promise<unknown> {
  switch (command.type) {
    case "createIndex": {
      const response = await fetch(`${pinecone.url}/indexes`, {
        method: "POST",
        headers: { "Api-Key": pinecone.apiKey, "Content-Type": "application/json", "X-Pinecone-API-Version": "2025-10" },
        body: JSON.stringify({ name: command.name, schema: { fields: { _values: { type: "dense_vector", dimension: command.dimension, metric: "cosine" } } } }),
      });
      if (!response.ok) throw new Error(`Pinecone createIndex: ${response.status} ${await response.text()}`);
      return pinecone.indexHost(command.name);
    }
    case "faults":
      if (command.on) faultsOn();
      else {
        openai.faults.clear();
        pinecone.faults.clear();
      }
      return undefined;
    case "counts": {
      drain();
      const used = process.cpuUsage(startedCpu);
      return { ...structuredClone(counts), cpuMs: (used.user + used.system) / 1000 } satisfies ProductionServerCounts;
    }
    case "close":
      await Promise.all([openai.close(), pinecone.close()]);
      setImmediate(() => process.disconnect());
      return undefined;
  }
}

serveCommands(handle, { openai: { url: `${openai.url}/v1`, apiKey: openai.apiKey }, pinecone: { url: pinecone.url, apiKey: pinecone.apiKey } });
