// Test doubles that wrap REAL implementations (LocalEmbedder, MemoryVectorStore or any store)
// to count calls and inject failures; the behaviour under test is always the real one's.
import { setTimeout } from "node:timers/promises";
import {
  LocalEmbedder,
  MemoryVectorStore,
  ProviderError,
  type EmbedCallOptions,
  type Embedder,
  type VectorStore,
  type VectorStoreLimits,
} from "../../src/index.js";

type Failure = () => Error;

export const transient = (message = "temporarily unavailable"): Failure => () =>
  new ProviderError("test", message, { status: 503, retryable: true });
export const permanent = (message = "invalid input"): Failure => () => new ProviderError("test", message, { status: 400, retryable: false });

/** An embedder that counts requests and texts, and fails the next N requests on demand. */
export class CountingEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatchSize: number;
  requests = 0;
  texts = 0;
  queries = 0;
  private failures: Failure[] = [];

  constructor(
    private readonly inner: Embedder = new LocalEmbedder(),
    options: { id?: string; maxBatchSize?: number } = {},
  ) {
    this.id = options.id ?? inner.id;
    this.dimension = inner.dimension;
    this.maxBatchSize = options.maxBatchSize ?? inner.maxBatchSize;
  }

  failNext(count: number, failure: Failure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  failAlways(failure: Failure | undefined): void {
    this.always = failure;
  }

  /** Makes every request take `ms` (as a slow provider would; an abort still ends the wait). */
  slowDown(ms: number): void {
    this.delayMs = ms;
  }

  private always: Failure | undefined;
  private delayMs = 0;

  reset(): void {
    this.requests = 0;
    this.texts = 0;
    this.queries = 0;
  }

  async embedDocuments(texts: readonly string[], options?: EmbedCallOptions): Promise<number[][]> {
    this.requests++;
    if (this.delayMs > 0) await setTimeout(this.delayMs, undefined, { signal: options?.signal });
    const failure = this.failures.shift() ?? this.always;
    if (failure) throw failure();
    this.texts += texts.length;
    return this.inner.embedDocuments(texts, options);
  }

  async embedQuery(text: string, options?: EmbedCallOptions): Promise<number[]> {
    this.queries++;
    return this.inner.embedQuery(text, options);
  }
}

type StoreOperation = "upsert" | "delete" | "deletePrefix" | "query" | "fetch" | "listIds" | "maintain";

/** A vector store that counts calls per operation and fails them on demand. */
export class FaultyStore implements VectorStore {
  readonly name: string;
  readonly consistency: VectorStore["consistency"];
  readonly limits: VectorStoreLimits;
  readonly calls: Record<StoreOperation, number> = { upsert: 0, delete: 0, deletePrefix: 0, query: 0, fetch: 0, listIds: 0, maintain: 0 };
  private readonly failures = new Map<StoreOperation, Failure[]>();
  private readonly always = new Map<StoreOperation, Failure>();

  constructor(
    readonly inner: VectorStore = new MemoryVectorStore(),
    limits: Partial<VectorStoreLimits> = {},
  ) {
    this.name = inner.name;
    this.consistency = inner.consistency;
    this.limits = { ...inner.limits, ...limits };
  }

  failNext(operation: StoreOperation, count: number, failure: Failure): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), ...Array.from({ length: count }, () => failure)]);
  }

  failAlways(operation: StoreOperation, failure: Failure | undefined): void {
    if (failure) this.always.set(operation, failure);
    else this.always.delete(operation);
  }

  resetCalls(): void {
    for (const key of Object.keys(this.calls) as StoreOperation[]) this.calls[key] = 0;
  }

  private enter(operation: StoreOperation): void {
    this.calls[operation]++;
    const failure = this.failures.get(operation)?.shift() ?? this.always.get(operation);
    if (failure) throw failure();
  }

  init(options: { dimension: number }) {
    return this.inner.init(options);
  }
  async upsert(...args: Parameters<VectorStore["upsert"]>) {
    this.enter("upsert");
    return this.inner.upsert(...args);
  }
  async delete(...args: Parameters<VectorStore["delete"]>) {
    this.enter("delete");
    return this.inner.delete(...args);
  }
  async deletePrefix(...args: Parameters<NonNullable<VectorStore["deletePrefix"]>>) {
    this.enter("deletePrefix");
    const [prefix, namespace, options] = args;
    if (this.inner.deletePrefix) return this.inner.deletePrefix(prefix, namespace, options);
    const page = await this.inner.listIds({ prefix, namespace, limit: 100_000 }, options);
    return this.inner.delete(page.ids, namespace, options);
  }
  async query(...args: Parameters<VectorStore["query"]>) {
    this.enter("query");
    return this.inner.query(...args);
  }
  async fetch(...args: Parameters<VectorStore["fetch"]>) {
    this.enter("fetch");
    return this.inner.fetch(...args);
  }
  async listIds(...args: Parameters<VectorStore["listIds"]>) {
    this.enter("listIds");
    return this.inner.listIds(...args);
  }
  async maintain() {
    this.enter("maintain");
    await this.inner.maintain?.();
  }
  listNamespaces(...args: Parameters<VectorStore["listNamespaces"]>) {
    return this.inner.listNamespaces(...args);
  }
  describe(...args: Parameters<VectorStore["describe"]>) {
    return this.inner.describe(...args);
  }
}

/** Every id the store holds under a prefix (one page is enough for tests). */
export async function storedIds(store: VectorStore, prefix: string, namespace = ""): Promise<string[]> {
  return (await store.listIds({ prefix, namespace, limit: 100_000 })).ids;
}

/**
 * A crash at a chosen point of a sync run, simulated in process: the wrapped call does its
 * part (or part of it) and then never returns, so the run it belongs to makes no further
 * progress, exactly as if its process had died there. `reached` resolves when it happens.
 */
export class CrashingStore extends FaultyStore {
  private armed: "after-upsert" | "mid-upsert" | "before-upsert" | "after-delete" | undefined;
  private signal!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.signal = resolve));

  crashAt(point: "before-upsert" | "mid-upsert" | "after-upsert" | "after-delete"): void {
    this.armed = point;
  }

  private hang(): Promise<never> {
    this.armed = undefined;
    this.signal();
    return new Promise<never>(() => {});
  }

  override async upsert(...args: Parameters<VectorStore["upsert"]>) {
    const [records, namespace] = args;
    if (this.armed === "before-upsert") return this.hang();
    if (this.armed === "mid-upsert") {
      await this.inner.upsert(records.slice(0, Math.ceil(records.length / 2)), namespace);
      return this.hang();
    }
    if (this.armed === "after-upsert") {
      await this.inner.upsert(records, namespace);
      return this.hang();
    }
    return super.upsert(...args);
  }

  override async delete(...args: Parameters<VectorStore["delete"]>) {
    if (this.armed === "after-delete") {
      await super.delete(...args);
      return this.hang();
    }
    return super.delete(...args);
  }

  override async deletePrefix(...args: Parameters<NonNullable<VectorStore["deletePrefix"]>>) {
    if (this.armed === "after-delete") {
      await super.deletePrefix(...args);
      return this.hang();
    }
    return super.deletePrefix(...args);
  }
}

/** A write held back by LateStore: `reached` when the call arrives, `land()` applies it. */
export interface HeldWrite {
  readonly reached: Promise<void>;
  /** Applies the held write to the store now (whether or not its caller gave up) and waits for it. */
  land(): Promise<void>;
}

/**
 * A store whose next upsert or delete can be held back and applied later, after its caller
 * gave up on it (aborted, timed out, or its process died): a request already at the store
 * that lands late, as a real service may let it.
 */
export class LateStore extends FaultyStore {
  private readonly holds = new Map<"upsert" | "delete", { arrived: () => void; released: Promise<void>; applied: () => void }>();

  holdNext(operation: "upsert" | "delete"): HeldWrite {
    let arrived!: () => void;
    let release!: () => void;
    let applied!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const done = new Promise<void>((resolve) => (applied = resolve));
    this.holds.set(operation, { arrived, released, applied });
    return {
      reached,
      land: async () => {
        release();
        await done;
      },
    };
  }

  override async upsert(...args: Parameters<VectorStore["upsert"]>) {
    return this.late("upsert", () => this.inner.upsert(args[0], args[1])) ?? super.upsert(...args);
  }

  override async delete(...args: Parameters<VectorStore["delete"]>) {
    return this.late("delete", () => this.inner.delete(args[0], args[1])) ?? super.delete(...args);
  }

  /** When the next `operation` is held: waits for land(), then applies it whatever its caller's signal says. */
  private late(operation: "upsert" | "delete", apply: () => Promise<void>): Promise<void> | undefined {
    const hold = this.holds.get(operation);
    if (!hold) return undefined;
    this.holds.delete(operation);
    hold.arrived();
    return hold.released.then(apply).finally(hold.applied);
  }
}
