import { AsyncLocalStorage } from "node:async_hooks";
import { showAs } from "../../core/inspect.js";
import { nodeHttpFetch, type NodeHttpFetch } from "../../core/node-http-fetch.js";
import type { Index, IndexModel, Pinecone } from "@pinecone-database/pinecone";
import type { Logger } from "../../core/logger.js";
import { retryAfterMs, sanitizedError } from "../../core/provider-errors.js";
import { redact, redactAndClip, registerSecret } from "../../core/redact.js";
import { sleep } from "../../core/retry.js";
import { AbortedError, ConfigurationError, DimensionMismatchError, DualstoreError, ProviderError } from "../../errors.js";
import { importOptional } from "../../internal/optional-import.js";
import type { VectorFilter } from "../filter.js";
import type { QueryRequest, VectorMatch, VectorMetadata, VectorRecord, VectorStore, VectorStoreCallOptions, VectorStoreInfo, VectorStoreLimits } from "../vector-store.js";
import { parsePineconeConfig, type PineconeSettings, type PineconeVectorStoreConfig } from "./pinecone-config.js";
import { upsertBody, upsertRecordBytes } from "./upsert-body.js";

/** Ids per list page: Pinecone documents 100 as the default and no maximum, so dualstore asks for no more. */
const LIST_PAGE_MAX = 100;
/** How long init waits for a new (or still initialising) index to become ready, and how often it looks. */
const INDEX_READY_TIMEOUT_MS = 5 * 60_000;
const INDEX_READY_POLL_MS = 2_000;
/** Pinecone's name for the namespace that requests without one go to. */
const DEFAULT_NAMESPACE = "__default__";
/**
 * The data-plane API version of the SDK's own requests (@pinecone-database/pinecone 9), sent
 * with the upserts and deletes dualstore sends itself; a test checks that the two still agree.
 */
const DATA_PLANE_API_VERSION = "2026-07";

/**
 * Pinecone serverless through the official SDK. Namespaces are Pinecone namespaces (with the
 * configured prefix); scores are the index's cosine similarity. The SDK's own retries are off:
 * dualstore's one retry policy decides, from the status, request id and Retry-After that this
 * adapter records for every call. Upserts and deletes bypass the SDK (same endpoints, headers
 * and errors): upsert bodies are written as bytes with float32 values (upsert-body.ts), two
 * thirds the size of the SDK's JSON, which prints every digit of each double, and cheaper to
 * write; a delete is one small request, which the SDK's pipeline made dearer than it is.
 */
export class PineconeVectorStore implements VectorStore {
  readonly name = "pinecone";
  readonly consistency = "eventual" as const;
  readonly limits: VectorStoreLimits = {
    maxUpsertRecords: 1_000,
    // Pinecone allows 2 MiB per request; the margin covers the request envelope around the records.
    maxUpsertBytes: 2_000_000,
    // Pinecone allows 40 KiB of metadata per vector.
    maxMetadataBytes: 40_000,
    maxIdsPerRequest: 1_000,
    // Fetch sends its ids in the URL: 100 dualstore ids (~45 characters each) keep it near 5 KB.
    maxFetchIds: 100,
    maxIdLength: 512,
  };
  private dimension = 0;
  private dataPlane: Index | undefined;
  /** The data plane's URL, for the upserts sent without the SDK. */
  private dataPlaneUrl: string | undefined;

  constructor(
    private readonly client: Pinecone,
    private readonly settings: PineconeSettings,
    private readonly logger: Logger,
    private readonly http: NodeHttpFetch,
    /** The fetch the SDK uses too (timeouts, abort, recording each exchange for errors). */
    private readonly httpFetch: RecordingFetch,
  ) {
    // Its client and settings hold the API key: inspect shows what it is, not how it connects.
    showAs(this, "PineconeVectorStore", () => ({ index: this.settings.index, host: this.settings.host, namespacePrefix: this.settings.namespacePrefix }));
    if (settings.host !== undefined) this.useDataPlane(settings.host);
  }

  async close(): Promise<void> {
    this.http.close();
  }

  async init({ dimension }: { dimension: number }): Promise<void> {
    this.dimension = dimension;
    const { index: indexName, host } = this.settings;
    if (indexName === undefined) {
      // Only a host: the data plane's stats are all there is to check against.
      const stats = await this.send("describe index stats", () => this.data().describeIndexStats());
      if (stats.dimension !== undefined && stats.dimension !== dimension) {
        throw new DimensionMismatchError(`Pinecone index at ${host}`, stats.dimension, dimension);
      }
      return;
    }
    const model = await this.readyIndex(indexName, dimension);
    checkIndexModel(model, indexName, dimension);
    if (!this.dataPlane) this.useDataPlane(model.host);
  }

  private useDataPlane(host: string): void {
    this.dataPlane = this.client.index({ host });
    // As the SDK reads a host: https unless it says otherwise.
    this.dataPlaneUrl = /^https?:\/\//.test(host) ? host.replace(/\/+$/, "") : `https://${host}`;
  }

  async upsert(records: readonly VectorRecord[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    if (records.length === 0) return;
    for (const record of records) this.checkDimension(`vector ${record.id}`, record.values);
    this.data();
    const body = upsertBody(records, this.pineconeNamespace(namespace));
    await this.sendDirect("upsert", (exchange) => this.post("/vectors/upsert", body, exchange), options);
  }

  /** Upserts are written by upsertBody: values as float32, so a record takes about two thirds of its JSON size. */
  upsertRecordBytes(record: VectorRecord): number {
    return upsertRecordBytes(record);
  }

  async delete(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    if (ids.length === 0) return;
    this.data();
    const body = JSON.stringify({ ids, namespace: this.pineconeNamespace(namespace) });
    try {
      await this.sendDirect("delete", (exchange) => this.post("/vectors/delete", body, exchange), options);
    } catch (error) {
      // Serverless Pinecone answers 404 for a namespace that does not exist: nothing to delete.
      if (error instanceof ProviderError && error.status === 404) return;
      throw error;
    }
  }

  async query({ vector, topK, filter, namespace, includeMetadata = true }: QueryRequest, options?: VectorStoreCallOptions): Promise<VectorMatch[]> {
    this.checkDimension("query vector", vector);
    this.data();
    // Sent without the SDK, as upserts are: a query is search's hot path, where the SDK's request pipeline cost more than the request.
    const body = JSON.stringify({
      vector,
      topK,
      namespace: this.pineconeNamespace(namespace),
      includeMetadata,
      includeValues: false,
      ...(filter ? { filter: toPineconeFilter(filter) } : {}),
    });
    const response = await this.sendDirect("query", async (exchange) => (await this.post("/query", body, exchange)).json() as Promise<QueryResponse>, options);
    return (response.matches ?? []).map((match) => ({ id: match.id, score: match.score ?? 0, metadata: match.metadata ?? {} }));
  }

  async fetch(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<VectorRecord[]> {
    const response = await this.send("fetch", () => this.data().fetch({ ids: [...ids], namespace: this.pineconeNamespace(namespace) }), options);
    return ids.flatMap((id) => {
      const record = response.records[id];
      return record ? [{ id, values: record.values ?? [], metadata: record.metadata ?? {} }] : [];
    });
  }

  /** Pinecone lists ids in bitwise ("C" collation) order, which is dualstore's id order. */
  async listIds({ prefix, namespace, limit, cursor }: Parameters<VectorStore["listIds"]>[0], options?: VectorStoreCallOptions) {
    const page = await this.send(
      "list",
      () =>
        this.data().listPaginated({
          namespace: this.pineconeNamespace(namespace),
          prefix: prefix || undefined,
          limit: Math.max(1, Math.min(limit, LIST_PAGE_MAX)),
          paginationToken: cursor,
        }),
      options,
    );
    const ids = (page.vectors ?? []).flatMap((item) => (item.id === undefined ? [] : [item.id]));
    return { ids, next: page.pagination?.next || undefined };
  }

  async listNamespaces(options?: VectorStoreCallOptions): Promise<string[]> {
    return (await this.ownNamespaces(options)).map(([name]) => name);
  }

  /** The count covers this store's namespaces: the whole index when there is no namespace prefix. */
  async describe(options?: VectorStoreCallOptions): Promise<VectorStoreInfo> {
    const namespaces = await this.ownNamespaces(options);
    return { dimension: this.dimension, count: namespaces.reduce((sum, [, count]) => sum + count, 0) };
  }

  /** The non-empty namespaces under this store's prefix, as dualstore names them, with their counts. */
  private async ownNamespaces(options: VectorStoreCallOptions | undefined): Promise<Array<[string, number]>> {
    const stats = await this.send("describe index stats", () => this.data().describeIndexStats(), options);
    const prefix = this.settings.namespacePrefix;
    return Object.entries(stats.namespaces ?? {})
      .filter(([name, summary]) => summary.recordCount > 0 && name.startsWith(prefix))
      .map(([name, summary]) => [prefix === "" && name === DEFAULT_NAMESPACE ? "" : name.slice(prefix.length), summary.recordCount]);
  }

  /** Describes the index, creating it first when allowed, and waits until it is ready. */
  private async readyIndex(indexName: string, dimension: number): Promise<IndexModel> {
    let model = (await this.describeIndex(indexName)) ?? (await this.createIndex(indexName, dimension));
    const deadline = Date.now() + INDEX_READY_TIMEOUT_MS;
    while (!model.status.ready) {
      if (Date.now() >= deadline) {
        throw new ProviderError("pinecone", `index "${indexName}" was not ready after ${INDEX_READY_TIMEOUT_MS / 1_000} s`, { retryable: false });
      }
      await sleep(INDEX_READY_POLL_MS);
      model = (await this.describeIndex(indexName)) ?? missingIndex(indexName, dimension);
    }
    return model;
  }

  private async describeIndex(indexName: string): Promise<IndexModel | undefined> {
    try {
      return await this.send("describe index", () => this.client.describeIndex(indexName));
    } catch (error) {
      if (error instanceof ProviderError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async createIndex(indexName: string, dimension: number): Promise<IndexModel> {
    const create = this.settings.createIfMissing;
    if (!create) return missingIndex(indexName, dimension);
    this.logger.info("creating Pinecone index", { index: indexName, dimension, cloud: create.cloud, region: create.region });
    const created = await this.send("create index", () =>
      this.client.createIndex({
        name: indexName,
        dimension,
        metric: "cosine",
        spec: { serverless: { cloud: create.cloud, region: create.region } },
        suppressConflicts: true,
      }),
    );
    // No model means a conflict: another process created it meanwhile, so use that one.
    return created ?? (await this.describeIndex(indexName)) ?? missingIndex(indexName, dimension);
  }

  private checkDimension(what: string, values: readonly number[]): void {
    if (values.length !== this.dimension) throw new DimensionMismatchError(what, this.dimension, values.length);
  }

  private pineconeNamespace(namespace: string): string {
    return this.settings.namespacePrefix + namespace;
  }

  /**
   * A data-plane POST without the SDK, as it would send it (upserts, deletes, queries: a
   * document's delete is one such request, and the SDK's request pipeline cost more than the
   * rest of it). A failure throws; the exchange recorded the status and the server's message,
   * from which sendDirect() builds the ProviderError, as for the SDK's own requests.
   */
  private async post(path: string, body: string | Uint8Array, exchange: Exchange): Promise<Response> {
    const response = await this.httpFetch(
      `${this.dataPlaneUrl}${path}`,
      {
        method: "POST",
        headers: { "Api-Key": this.settings.apiKey, "Content-Type": "application/json", "X-Pinecone-Api-Version": DATA_PLANE_API_VERSION },
        body,
      },
      exchange,
    );
    if (!response.ok) throw new Error(`${path} answered HTTP ${response.status}`);
    return response;
  }

  private data(): Index {
    if (!this.dataPlane) throw new ConfigurationError("Pinecone vector store: init() must run before any other call");
    return this.dataPlane;
  }

  /**
   * Runs one SDK call, recording its HTTP exchange so a failure maps to a ProviderError; `signal`
   * aborts its requests. The SDK's fetch learns which call it serves from an AsyncLocalStorage,
   * which is switched off whenever no SDK call is in flight: while on, Node runs a hook for
   * every promise the process makes, the hot paths' included.
   */
  private async send<T>(operation: string, call: () => Promise<T>, options?: VectorStoreCallOptions): Promise<T> {
    return this.sendDirect(
      operation,
      async (exchange) => {
        sdkCalls++;
        try {
          return await exchanges.run(exchange, call);
        } finally {
          if (--sdkCalls === 0) exchanges.disable();
        }
      },
      options,
    );
  }

  /** Runs one call that hands `exchange` to the fetch itself (post()), mapping a failure to a ProviderError. */
  private async sendDirect<T>(operation: string, call: (exchange: Exchange) => Promise<T>, options?: VectorStoreCallOptions): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
    const exchange: Exchange = { signal };
    try {
      return await call(exchange);
    } catch (error) {
      if (error instanceof DualstoreError) throw error;
      if (signal?.aborted) throw new AbortedError({ cause: signal.reason });
      throw toProviderError(operation, error, exchange.last, this.settings.requestTimeoutMs);
    }
  }
}

/** Builds the Pinecone store from its configuration, loading the SDK (an optional peer dependency) only now. */
export async function createPineconeVectorStore(
  config: PineconeVectorStoreConfig,
  context: { env: NodeJS.ProcessEnv; logger: Logger },
): Promise<PineconeVectorStore> {
  const settings = parsePineconeConfig(config, context.env);
  registerSecret(settings.apiKey);
  const { Pinecone } = await importOptional("@pinecone-database/pinecone", () => import("@pinecone-database/pinecone"), 'vectorStore: { provider: "pinecone" }');
  const http = nodeHttpFetch();
  const fetchApi = recordingFetch(settings.requestTimeoutMs, http.fetch);
  const client = new Pinecone({
    apiKey: settings.apiKey,
    // One retry policy for every provider: dualstore's, around each store call.
    maxRetries: 0,
    fetchApi,
    ...(settings.controllerHostUrl === undefined ? {} : { controllerHostUrl: settings.controllerHostUrl }),
  });
  return new PineconeVectorStore(client, settings, context.logger, http, fetchApi);
}

/** Translates dualstore's filter to Pinecone's metadata filter language; values stay JSON data. */
function toPineconeFilter(filter: VectorFilter): Record<string, unknown> {
  if ("and" in filter) return { $and: filter.and.map(toPineconeFilter) };
  if ("eq" in filter) return { [filter.field]: { $eq: filter.eq } };
  // Pinecone's $in takes strings and numbers only; a set holding a boolean becomes an $or of $eq.
  if (filter.in.some((value) => typeof value === "boolean")) {
    return { $or: filter.in.map((value) => ({ [filter.field]: { $eq: value } })) };
  }
  return { [filter.field]: { $in: [...filter.in] } };
}

function checkIndexModel(model: IndexModel, indexName: string, dimension: number): void {
  const field = denseField(model);
  if (field?.dimension === undefined) {
    throw new ConfigurationError(`vectorStore.index: Pinecone index "${indexName}" is not a dense vector index; dualstore needs one (cosine metric)`);
  }
  if (field.dimension !== dimension) throw new DimensionMismatchError(`Pinecone index "${indexName}"`, field.dimension, dimension);
  if (field.metric !== "cosine") {
    throw new ConfigurationError(
      `vectorStore.index: Pinecone index "${indexName}" uses the ${field.metric} metric; dualstore's scores are cosine similarity, ` +
        `so it needs an index created with metric "cosine"`,
    );
  }
}

/** The index's vector dimension and metric; undefined for indexes the SDK cannot describe that way (e.g. integrated embedding). */
function denseField(model: IndexModel): { dimension: number | undefined; metric: string } | undefined {
  try {
    return { dimension: model.dimension, metric: model.metric };
  } catch {
    return undefined;
  }
}

function missingIndex(indexName: string, dimension: number): never {
  throw new ConfigurationError(
    `vectorStore.index: Pinecone index "${indexName}" does not exist. Create it as a serverless index with dimension ${dimension} ` +
      `and metric "cosine" (Pinecone console or SDK), or pass createIfMissing: { cloud: "aws", region: "us-east-1" } ` +
      "to let dualstore create it.",
  );
}

/** What a query answers (the fields dualstore reads). */
interface QueryResponse {
  matches?: Array<{ id: string; score?: number; metadata?: VectorMetadata }>;
}

/** What one HTTP exchange showed: the SDK's errors drop the status of a 5xx and every header. */
interface HttpOutcome {
  /** Set when the request ran out of time. */
  timedOut: boolean;
  /** Set when fetch failed without a response. */
  unanswered?: boolean;
  status?: number;
  requestId?: string;
  retryAfterMs?: number;
  /** The server's error message (for a 5xx the SDK reports only that its retries ran out). */
  message?: string;
}

/** One SDK call's record; `last` is its latest HTTP exchange (a call may make several). */
interface Exchange {
  /** The caller's signal: the SDK takes none, so the fetch below applies it to every request. */
  readonly signal?: AbortSignal | undefined;
  last?: HttpOutcome;
}

/** Carries each SDK call's Exchange to the fetch the SDK makes, concurrent calls apart. */
const exchanges = new AsyncLocalStorage<Exchange>();
/** SDK calls in flight, in every store of the process (exchanges is off when there are none). */
let sdkCalls = 0;

/** A fetch that records its exchange: the SDK's calls find theirs in `exchanges`, dualstore's own requests pass it. */
type RecordingFetch = (input: string | URL | Request, init?: RequestInit, exchange?: Exchange) => Promise<Response>;

/**
 * The fetch the SDK uses: `send` bounded by `timeoutMs` (the SDK has no timeout of its own),
 * recording status, request id, Retry-After and the error message of the current call.
 * `send` reads the whole response before it resolves, so the deadline covers the body too.
 */
function recordingFetch(timeoutMs: number, send: typeof fetch): RecordingFetch {
  return async (input, init, exchange = exchanges.getStore()) => {
    const outcome: HttpOutcome = { timedOut: false };
    if (exchange) exchange.last = outcome;
    // One controller for the deadline and the callers' signals: AbortSignal.timeout and
    // AbortSignal.any for every request cost more than the small requests themselves.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      controller.abort(new DOMException("The operation timed out.", "TimeoutError"));
    }, timeoutMs);
    const callers = [init?.signal, exchange?.signal].filter((signal): signal is AbortSignal => signal !== undefined && signal !== null);
    const forward = (event: Event) => controller.abort((event.target as AbortSignal).reason);
    for (const signal of callers) {
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener("abort", forward, { once: true });
    }
    let response: Response;
    try {
      response = await send(input, { ...init, signal: controller.signal });
    } catch (error) {
      outcome.unanswered = true;
      throw error;
    } finally {
      clearTimeout(timer);
      for (const signal of callers) signal.removeEventListener("abort", forward);
    }
    outcome.status = response.status;
    outcome.requestId = response.headers.get("x-pinecone-request-id") ?? undefined;
    outcome.retryAfterMs = retryAfterMs(response.headers);
    if (response.ok) return response;
    // Read the error body here, where the message is still available, and hand the SDK a copy.
    const body = await response.text();
    outcome.message = serverMessage(body);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function toProviderError(operation: string, error: unknown, outcome: HttpOutcome | undefined, timeoutMs: number): ProviderError {
  const cause = sanitizedError(error);
  const requestId = outcome?.requestId;
  if (outcome?.timedOut) {
    return new ProviderError("pinecone", `${operation}: timed out after ${timeoutMs} ms`, { retryable: true, cause });
  }
  if (outcome?.unanswered) {
    return new ProviderError("pinecone", `${operation}: could not reach Pinecone (${rootMessage(cause)})`, { retryable: true, cause });
  }
  const status = outcome?.status;
  if (status !== undefined && status >= 400) {
    const detail = outcome?.message ? `: ${redact(outcome.message)}` : "";
    return new ProviderError("pinecone", `${operation} failed with HTTP ${status}${detail}`, {
      status,
      requestId,
      retryable: status === 429 || status >= 500,
      retryAfterMs: outcome?.retryAfterMs,
      cause,
    });
  }
  // The SDK refused the call before sending it, or could not read a successful answer.
  return new ProviderError("pinecone", `${operation}: ${cause.message}`, { requestId, retryable: false, cause });
}


/** The innermost message of an error chain (fetch's own message is only "fetch failed"). */
function rootMessage(error: Error): string {
  let current = error;
  while (current.cause instanceof Error) current = current.cause;
  const code = (current as { code?: unknown }).code;
  return current.message || (typeof code === "string" ? code : current.name);
}

function serverMessage(body: string): string {
  let message = body;
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json === "object" && json !== null) {
      const { error, message: topLevel } = json as { error?: { message?: unknown }; message?: unknown };
      const found = error?.message ?? topLevel;
      if (typeof found === "string") message = found;
    }
  } catch {
    // Not JSON (a 401 is plain text): the body is the message.
  }
  return redactAndClip(message.trim(), 500);
}

