/**
 * In-memory state of the Pinecone server: indexes, their namespaces and records, with an
 * optional visibility delay that models Pinecone's eventual consistency (writes are
 * acknowledged at once but become readable only later, in the order they were made).
 */

export type Metric = "cosine" | "euclidean" | "dotproduct";
export const METRICS: readonly Metric[] = ["cosine", "euclidean", "dotproduct"];

export type MetadataValue = string | number | boolean | string[];
export type Metadata = Record<string, MetadataValue>;

export interface StoredVector {
  id: string;
  values: number[];
  metadata: Metadata | undefined;
}

export type Records = Map<string, StoredVector>;
/**
 * A write, replayed against the namespace's records when it becomes visible. It must replace
 * records rather than mutate a stored vector in place, since projections share them.
 */
export type Mutation = (records: Records) => void;

export const DEFAULT_NAMESPACE = "__default__";

export interface IndexConfig {
  name: string;
  dimension: number;
  metric: Metric;
  cloud: string;
  region: string;
  deletionProtection: "enabled" | "disabled";
  tags: Record<string, string> | undefined;
}

interface PendingWrite {
  visibleAt: number;
  mutate: Mutation;
}

class NamespaceState {
  readonly records: Records = new Map();
  readonly pending: PendingWrite[] = [];

  flush(now: number): void {
    // FIFO and stop at the first invisible write, so order holds even if the delay changed.
    while (this.pending.length > 0 && (this.pending[0]?.visibleAt ?? Infinity) <= now) {
      this.pending.shift()?.mutate(this.records);
    }
  }
}

export class IndexState {
  readonly #namespaces = new Map<string, NamespaceState>();

  constructor(
    public config: IndexConfig,
    private readonly visibilityDelayMs: () => number,
  ) {}

  /** Acknowledges a write now; it becomes visible after the visibility delay. */
  write(namespace: string, mutate: Mutation): void {
    let state = this.#namespaces.get(namespace);
    if (!state) {
      state = new NamespaceState();
      this.#namespaces.set(namespace, state);
    }
    const now = Date.now();
    state.pending.push({ visibleAt: now + this.visibilityDelayMs(), mutate });
    state.flush(now);
  }

  /** The records of a namespace that reads can see now (empty when it does not exist). */
  visible(namespace: string): ReadonlyMap<string, StoredVector> {
    const state = this.#namespaces.get(namespace);
    if (!state) return new Map();
    state.flush(Date.now());
    return state.records;
  }

  /** Visible, non-empty namespaces (Pinecone does not report empty ones). */
  visibleNamespaces(): Array<[string, ReadonlyMap<string, StoredVector>]> {
    const result: Array<[string, ReadonlyMap<string, StoredVector>]> = [];
    for (const name of [...this.#namespaces.keys()].sort()) {
      const records = this.visible(name);
      if (records.size > 0) result.push([name, records]);
    }
    return result;
  }

  /** Whether a namespace holds records or has writes on the way (namespaces exist while non-empty). */
  exists(namespace: string): boolean {
    const state = this.#namespaces.get(namespace);
    if (!state) return false;
    state.flush(Date.now());
    return state.records.size > 0 || state.pending.length > 0;
  }

  /** What a namespace will hold once every acknowledged write is visible. */
  eventual(namespace: string): ReadonlyMap<string, StoredVector> {
    const state = this.#namespaces.get(namespace);
    if (!state) return new Map();
    state.flush(Date.now());
    const projected: Records = new Map(state.records);
    for (const write of state.pending) write.mutate(projected);
    return projected;
  }

  /** Makes every acknowledged write visible now. */
  settle(): void {
    for (const state of this.#namespaces.values()) state.flush(Infinity);
  }
}

/** Bitwise "C" collation, the order Pinecone lists ids in (UTF-8 bytes, not UTF-16 units). */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
