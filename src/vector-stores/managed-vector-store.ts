import { abortable, type CallContext } from "../core/call-context.js";
import type { Logger } from "../core/logger.js";
import { throwIfAborted, withRetry, type RetryPolicy } from "../core/retry.js";
import { inSpan, metric } from "../core/telemetry.js";
import { AbortedError, ProviderError, ValidationError } from "../errors.js";
import { batches } from "../internal/batch.js";
import { jsonNumberArrayBytes } from "../internal/json-size.js";
import { mapConcurrent } from "../internal/concurrency.js";
import { checkFilter } from "./filter.js";
import type { QueryRequest, VectorMatch, VectorRecord, VectorStore, VectorStoreCallOptions } from "./vector-store.js";

export interface ManagedVectorStoreOptions {
  readonly retry: RetryPolicy;
  /** Store requests in flight at once for one batch operation. */
  readonly concurrency: number;
  readonly logger: Logger;
}

type Operation = "upsert" | "delete" | "query" | "fetch" | "list" | "describe" | "init";

/**
 * One wrapper around every vector store: initialises it once (a failed init is retried on next
 * use), splits writes and reads into requests within the store's limits (records AND bytes per
 * upsert, ids per fetch or delete), runs them with bounded concurrency under the shared retry
 * policy and the caller's CallContext (abort, deadline, progress), and counts requests per
 * operation.
 */
export class ManagedVectorStore {
  readonly stats: Record<Operation, number> = { upsert: 0, delete: 0, query: 0, fetch: 0, list: 0, describe: 0, init: 0 };
  private initialized: Promise<void> | undefined;

  constructor(
    readonly inner: VectorStore,
    private readonly dimension: number,
    private readonly options: ManagedVectorStoreOptions,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get limits() {
    return this.inner.limits;
  }

  /** Creates what the store needs, once. */
  ready(): Promise<void> {
    this.initialized ??= this.call("init", () => this.inner.init({ dimension: this.dimension })).catch((error: unknown) => {
      this.initialized = undefined;
      throw error;
    });
    return this.initialized;
  }

  async upsert(records: readonly VectorRecord[], namespace: string, call: CallContext = {}): Promise<void> {
    if (records.length === 0) return;
    await this.ready();
    const { maxUpsertRecords, maxUpsertBytes } = this.inner.limits;
    const size = this.inner.upsertRecordBytes?.bind(this.inner) ?? recordBytes;
    const groups = batches(records, { maxCount: maxUpsertRecords, maxBytes: maxUpsertBytes, size, overhead: 64 });
    await mapConcurrent(groups, this.options.concurrency, (group) => this.call("upsert", (options) => this.inner.upsert(group, namespace, options), call));
  }

  async delete(ids: readonly string[], namespace: string, call: CallContext = {}): Promise<void> {
    if (ids.length === 0) return;
    await this.ready();
    const groups = batches(ids, { maxCount: this.inner.limits.maxIdsPerRequest });
    await mapConcurrent(groups, this.options.concurrency, (group) => this.call("delete", (options) => this.inner.delete(group, namespace, options), call));
  }

  /** Deletes every vector whose id starts with `prefix`: natively when the store can, else page by page. */
  async deletePrefix(prefix: string, namespace: string, call: CallContext = {}): Promise<void> {
    await this.ready();
    if (this.inner.deletePrefix) {
      await this.call("delete", (options) => this.inner.deletePrefix!(prefix, namespace, options), call);
      return;
    }
    // List every page first, then delete: deleting while paging would move the pages under the cursor.
    const ids: string[] = [];
    for await (const page of this.allIds(prefix, namespace, this.inner.limits.maxIdsPerRequest, call)) ids.push(...page);
    await this.delete(ids, namespace, call);
  }

  async query(request: QueryRequest, call: CallContext = {}): Promise<VectorMatch[]> {
    if (request.filter) checkFilter(request.filter);
    if (!Number.isInteger(request.topK) || request.topK < 1 || request.topK > 10_000) {
      throw new ValidationError("query", [{ path: "topK", message: "must be an integer from 1 to 10000" }]);
    }
    await this.ready();
    return this.call("query", (options) => this.inner.query(request, options), call);
  }

  async fetch(ids: readonly string[], namespace: string, call: CallContext = {}): Promise<VectorRecord[]> {
    if (ids.length === 0) return [];
    await this.ready();
    const { maxFetchIds, maxIdsPerRequest } = this.inner.limits;
    const groups = batches(ids, { maxCount: maxFetchIds ?? maxIdsPerRequest });
    const pages = await mapConcurrent(groups, this.options.concurrency, (group) =>
      this.call("fetch", (options) => this.inner.fetch(group, namespace, options), call),
    );
    return pages.flat();
  }

  async listIds(prefix: string, namespace: string, page: { limit: number; cursor?: string | undefined }, call: CallContext = {}) {
    await this.ready();
    return this.call("list", (options) => this.inner.listIds({ prefix, namespace, limit: page.limit, cursor: page.cursor }, options), call);
  }

  /** Every id under `prefix`, page by page, without holding them all in memory. */
  async *allIds(prefix: string, namespace: string, pageSize = 1_000, call: CallContext = {}): AsyncGenerator<string[]> {
    let cursor: string | undefined;
    do {
      const page = await this.listIds(prefix, namespace, { limit: pageSize, cursor }, call);
      if (page.ids.length > 0) yield page.ids;
      cursor = page.next;
    } while (cursor);
  }

  async listNamespaces(call: CallContext = {}): Promise<string[]> {
    await this.ready();
    return this.call("list", (options) => this.inner.listNamespaces(options), call);
  }

  async describe(call: CallContext = {}) {
    await this.ready();
    return this.call("describe", (options) => this.inner.describe(options), call);
  }

  /** Runs the store's upkeep, if it has any. */
  async maintain(): Promise<void> {
    if (!this.inner.maintain) return;
    await this.ready();
    await this.inner.maintain();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private call<T>(operation: Operation, send: (options: VectorStoreCallOptions) => Promise<T>, call: CallContext = {}): Promise<T> {
    throwIfAborted(call.signal);
    const started = performance.now();
    return inSpan(`dualstore.vector_store.${operation}`, { "dualstore.vector_store": this.name }, async () => {
      try {
        const result = await this.send(operation, send, call);
        metric.duration("dualstore.vector_store.duration", performance.now() - started, { store: this.name, operation, outcome: "ok" });
        return result;
      } catch (error) {
        metric.duration("dualstore.vector_store.duration", performance.now() - started, { store: this.name, operation, outcome: "error" });
        throw error;
      }
    });
  }

  private send<T>(operation: Operation, send: (options: VectorStoreCallOptions) => Promise<T>, call: CallContext): Promise<T> {
    const { signal } = call;
    return withRetry(
      async () => {
        this.stats[operation]++;
        try {
          // Stores that cannot cancel a request in flight still return at once on abort.
          const result = await abortable(send({ signal }), signal);
          call.onProgress?.();
          return result;
        } catch (error) {
          if (operation === "upsert" && outcomeUnknown(error)) call.onUncertainWrite?.();
          throw error;
        }
      },
      {
        ...this.options.retry,
        signal,
        deadline: call.deadline,
        onRetry: ({ error, attempt, delayMs }) =>
          this.options.logger.warn("vector store request failed; retrying", { store: this.name, operation, attempt, delayMs, error }),
      },
    );
  }
}

/** Whether a failed request may still have been applied: it was abandoned, or no answer came back. */
function outcomeUnknown(error: unknown): boolean {
  return error instanceof AbortedError || (error instanceof ProviderError && error.retryable && error.status === undefined);
}

/**
 * A record's size in a JSON upsert body (`{"id":…,"values":[…],"metadata":{…}}` and a separator),
 * at most. The values are bounded without printing them: with dense vectors that is most of the
 * body, and printing it here would double the cost of sending it.
 */
function recordBytes(record: VectorRecord): number {
  return 32 + Buffer.byteLength(JSON.stringify(record.id), "utf8") + jsonNumberArrayBytes(record.values) + Buffer.byteLength(JSON.stringify(record.metadata), "utf8");
}
