import type { Logger } from "../core/logger.js";
import { withRetry, type RetryPolicy } from "../core/retry.js";
import { ValidationError } from "../errors.js";
import { batches } from "../internal/batch.js";
import { jsonNumberArrayBytes } from "../internal/json-size.js";
import { mapConcurrent } from "../internal/concurrency.js";
import { checkFilter } from "./filter.js";
import type { QueryRequest, VectorMatch, VectorRecord, VectorStore } from "./vector-store.js";

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
 * policy, and counts requests per operation.
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

  async upsert(records: readonly VectorRecord[], namespace: string, signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    await this.ready();
    const { maxUpsertRecords, maxUpsertBytes } = this.inner.limits;
    const groups = batches(records, { maxCount: maxUpsertRecords, maxBytes: maxUpsertBytes, size: recordBytes, overhead: 64 });
    await mapConcurrent(groups, this.options.concurrency, (group) => this.call("upsert", () => this.inner.upsert(group, namespace), signal));
  }

  async delete(ids: readonly string[], namespace: string, signal?: AbortSignal): Promise<void> {
    if (ids.length === 0) return;
    await this.ready();
    const groups = batches(ids, { maxCount: this.inner.limits.maxIdsPerRequest });
    await mapConcurrent(groups, this.options.concurrency, (group) => this.call("delete", () => this.inner.delete(group, namespace), signal));
  }

  /** Deletes every vector whose id starts with `prefix`: natively when the store can, else page by page. */
  async deletePrefix(prefix: string, namespace: string, signal?: AbortSignal): Promise<void> {
    await this.ready();
    if (this.inner.deletePrefix) {
      await this.call("delete", () => this.inner.deletePrefix!(prefix, namespace), signal);
      return;
    }
    // List every page first, then delete: deleting while paging would move the pages under the cursor.
    const ids: string[] = [];
    for await (const page of this.allIds(prefix, namespace, this.inner.limits.maxIdsPerRequest, signal)) ids.push(...page);
    await this.delete(ids, namespace, signal);
  }

  async query(request: QueryRequest, signal?: AbortSignal): Promise<VectorMatch[]> {
    if (request.filter) checkFilter(request.filter);
    if (!Number.isInteger(request.topK) || request.topK < 1 || request.topK > 10_000) {
      throw new ValidationError("query", [{ path: "topK", message: "must be an integer from 1 to 10000" }]);
    }
    await this.ready();
    return this.call("query", () => this.inner.query(request), signal);
  }

  async fetch(ids: readonly string[], namespace: string, signal?: AbortSignal): Promise<VectorRecord[]> {
    if (ids.length === 0) return [];
    await this.ready();
    const { maxFetchIds, maxIdsPerRequest } = this.inner.limits;
    const groups = batches(ids, { maxCount: maxFetchIds ?? maxIdsPerRequest });
    const pages = await mapConcurrent(groups, this.options.concurrency, (group) => this.call("fetch", () => this.inner.fetch(group, namespace), signal));
    return pages.flat();
  }

  async listIds(prefix: string, namespace: string, page: { limit: number; cursor?: string | undefined }, signal?: AbortSignal) {
    await this.ready();
    return this.call("list", () => this.inner.listIds({ prefix, namespace, limit: page.limit, cursor: page.cursor }), signal);
  }

  /** Every id under `prefix`, page by page, without holding them all in memory. */
  async *allIds(prefix: string, namespace: string, pageSize = 1_000, signal?: AbortSignal): AsyncGenerator<string[]> {
    let cursor: string | undefined;
    do {
      const page = await this.listIds(prefix, namespace, { limit: pageSize, cursor }, signal);
      if (page.ids.length > 0) yield page.ids;
      cursor = page.next;
    } while (cursor);
  }

  async listNamespaces(signal?: AbortSignal): Promise<string[]> {
    await this.ready();
    return this.call("list", () => this.inner.listNamespaces(), signal);
  }

  async describe(signal?: AbortSignal) {
    await this.ready();
    return this.call("describe", () => this.inner.describe(), signal);
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

  private call<T>(operation: Operation, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(
      async () => {
        this.stats[operation]++;
        return send();
      },
      {
        ...this.options.retry,
        signal,
        onRetry: ({ error, attempt, delayMs }) =>
          this.options.logger.warn("vector store request failed; retrying", { store: this.name, operation, attempt, delayMs, error }),
      },
    );
  }
}

/**
 * A record's size in a JSON upsert body (`{"id":…,"values":[…],"metadata":{…}}` and a separator),
 * at most. The values are bounded without printing them: with dense vectors that is most of the
 * body, and printing it here would double the cost of sending it.
 */
function recordBytes(record: VectorRecord): number {
  return 32 + Buffer.byteLength(JSON.stringify(record.id), "utf8") + jsonNumberArrayBytes(record.values) + Buffer.byteLength(JSON.stringify(record.metadata), "utf8");
}
