/**
 * A local Pinecone: the control plane at the server root and, for every index, the vector
 * data plane under `/data/<index>`, which is the `host` the control plane reports. The real
 * SDK works against it unchanged:
 *
 *   const pc = new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 });
 *   const index = pc.index({ host: server.indexHost("docs") });   // or pc.index({ name: "docs" })
 */
import {
  startFaultServer,
  type FaultServerOptions,
  type ServiceDefinition,
  type ServiceRequest,
  type StartedServer,
} from "./fault-server.js";
import { handleControlPlane, validateDenseField, validateIndexName } from "./pinecone-control-plane.js";
import { handleDataPlane, supportsPartial } from "./pinecone-data-plane.js";
import { FAULT_MESSAGES, pineconeErrorReply, type Plane } from "./pinecone-errors.js";
import {
  compareIds,
  DEFAULT_NAMESPACE,
  IndexState,
  type IndexConfig,
  type Metric,
  type StoredVector,
} from "./pinecone-store.js";

export interface PineconeIndexSeed {
  name: string;
  dimension: number;
  /** Default "cosine". */
  metric?: Metric;
}

export interface PineconeServerOptions extends FaultServerOptions {
  /** The only accepted `Api-Key`. Default "pinecone-test-key". */
  apiKey?: string;
  /**
   * Milliseconds before an acknowledged write (upsert, update, delete) is visible to query,
   * fetch, list and stats, modelling Pinecone's eventual consistency. Default 0.
   */
  visibilityDelayMs?: number;
  /** Indexes that exist from the start (serverless, aws/us-east-1). */
  indexes?: PineconeIndexSeed[];
}

export interface PineconeServer extends StartedServer {
  apiKey: string;
  /** The data-plane host of an index, exactly as `describeIndex` reports it. */
  indexHost(name: string): string;
  /** Changes the visibility delay for subsequent writes. */
  setVisibilityDelayMs(ms: number): void;
  /** Makes every acknowledged write visible now. */
  settle(): void;
  /** The records a namespace will hold once all writes are visible, sorted by id. */
  storedVectors(indexName: string, namespace?: string): StoredVector[];
}

const DATA_PREFIX = "/data/";

function planeOf(request: ServiceRequest): Plane {
  return request.path.startsWith(DATA_PREFIX) ? "data" : "control";
}

/** Splits `/data/<index>/<rest>` into the index name and the path the SDK appended. */
function dataTarget(path: string): { name: string; rest: string } | undefined {
  const match = /^\/data\/([^/]+)(\/.*)?$/.exec(path);
  if (!match?.[1]) return undefined;
  return { name: decodeURIComponent(match[1]), rest: match[2] ?? "/" };
}

export async function startPineconeServer(options: PineconeServerOptions = {}): Promise<PineconeServer> {
  const apiKey = options.apiKey ?? "pinecone-test-key";
  let visibilityDelayMs = options.visibilityDelayMs ?? 0;
  let baseUrl = "";
  const indexes = new Map<string, IndexState>();
  const hostFor = (name: string): string => `${baseUrl}${DATA_PREFIX}${encodeURIComponent(name)}`;
  const createIndex = (config: IndexConfig): IndexState => {
    const index = new IndexState(config, () => visibilityDelayMs);
    indexes.set(config.name, index);
    return index;
  };

  for (const seed of options.indexes ?? []) {
    const { dimension, metric } = validateDenseField(seed.dimension, seed.metric ?? "cosine");
    createIndex({
      name: validateIndexName(seed.name),
      dimension,
      metric,
      cloud: "aws",
      region: "us-east-1",
      deletionProtection: "disabled",
      tags: undefined,
    });
  }

  function resolveData(request: ServiceRequest): { index: IndexState; rest: string } | undefined {
    const target = dataTarget(request.path);
    const index = target && indexes.get(target.name);
    return target && index ? { index, rest: target.rest } : undefined;
  }

  const service: ServiceDefinition = {
    authenticate(request) {
      const key = request.headers["api-key"];
      if (key === apiKey) return undefined;
      const message = key === undefined ? "API key is missing" : "Invalid API Key";
      return pineconeErrorReply(planeOf(request), 401, message);
    },
    handle(request) {
      if (planeOf(request) === "control") {
        return handleControlPlane({ indexes, hostFor, createIndex }, request);
      }
      const resolved = resolveData(request);
      // A deleted or unknown index has no host; the nearest HTTP answer is 404.
      if (!resolved) return pineconeErrorReply("data", 404, `Index ${dataTarget(request.path)?.name ?? ""} not found`);
      return handleDataPlane(resolved.index, request, resolved.rest);
    },
    handlePartial(request) {
      const resolved = planeOf(request) === "data" ? resolveData(request) : undefined;
      if (!resolved || !supportsPartial(request.method, resolved.rest)) return undefined;
      return handleDataPlane(resolved.index, request, resolved.rest, true);
    },
    error(status, request) {
      return pineconeErrorReply(planeOf(request), status, FAULT_MESSAGES[status] ?? "Error");
    },
  };

  const server = await startFaultServer(service, options);
  baseUrl = server.url;

  function requireIndex(name: string): IndexState {
    const index = indexes.get(name);
    if (!index) throw new Error(`no index named ${name} on this Pinecone test server`);
    return index;
  }

  return {
    ...server,
    apiKey,
    indexHost: hostFor,
    setVisibilityDelayMs(ms) {
      visibilityDelayMs = ms;
    },
    settle() {
      for (const index of indexes.values()) index.settle();
    },
    storedVectors(indexName, namespace = DEFAULT_NAMESPACE) {
      return [...requireIndex(indexName).eventual(namespace).values()].sort((a, b) => compareIds(a.id, b.id));
    },
  };
}
