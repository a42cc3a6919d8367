import { throwIfAborted } from "../../core/retry.js";
import { DimensionMismatchError } from "../../errors.js";
import { compareBytes } from "../../internal/compare.js";
import { matchesFilter } from "../filter.js";
import type { QueryRequest, VectorMatch, VectorRecord, VectorStore, VectorStoreCallOptions, VectorStoreInfo, VectorStoreLimits } from "../vector-store.js";

type StoredRecord = VectorRecord & { norm: number };

/**
 * Vectors in this process's memory, searched exactly (cosine over every record). For tests and
 * small apps: nothing survives the process, and a query costs time linear in the record count.
 */
export class MemoryVectorStore implements VectorStore {
  readonly name = "memory";
  readonly consistency = "strong" as const;
  readonly limits: VectorStoreLimits = { maxUpsertRecords: 10_000, maxIdsPerRequest: 10_000, maxIdLength: 1_024 };
  private readonly namespaces = new Map<string, Map<string, StoredRecord>>();
  private dimension: number | undefined;

  async init({ dimension }: { dimension: number }): Promise<void> {
    if (this.dimension !== undefined && this.dimension !== dimension) {
      throw new DimensionMismatchError("memory vector store", this.dimension, dimension);
    }
    this.dimension = dimension;
  }

  async upsert(records: readonly VectorRecord[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    const space = this.space(namespace, true)!;
    for (const record of records) {
      if (record.values.length !== this.dimension) {
        throw new DimensionMismatchError(`vector ${record.id}`, this.dimension ?? record.values.length, record.values.length);
      }
      space.set(record.id, { id: record.id, values: [...record.values], metadata: structuredClone(record.metadata), norm: norm(record.values) });
    }
  }

  async delete(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    const space = this.space(namespace);
    for (const id of ids) space?.delete(id);
  }

  async deletePrefix(prefix: string, namespace: string, options?: VectorStoreCallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    const space = this.space(namespace);
    for (const id of space?.keys() ?? []) if (id.startsWith(prefix)) space!.delete(id);
  }

  async query({ vector, topK, filter, namespace, includeMetadata = true }: QueryRequest, options?: VectorStoreCallOptions): Promise<VectorMatch[]> {
    throwIfAborted(options?.signal);
    if (vector.length !== this.dimension) throw new DimensionMismatchError("query vector", this.dimension ?? vector.length, vector.length);
    const queryNorm = norm(vector);
    const scored: Array<{ record: StoredRecord; score: number }> = [];
    for (const record of this.space(namespace)?.values() ?? []) {
      if (filter && !matchesFilter(record.metadata, filter)) continue;
      let dot = 0;
      for (let i = 0; i < vector.length; i++) dot += vector[i]! * record.values[i]!;
      scored.push({ record, score: dot / (queryNorm * record.norm || 1) });
    }
    // Copies of the metadata for the hits only, not for every record scored.
    return scored
      .sort((a, b) => b.score - a.score || (a.record.id < b.record.id ? -1 : 1))
      .slice(0, topK)
      .map(({ record, score }) => ({ id: record.id, score, metadata: includeMetadata ? structuredClone(record.metadata) : {} }));
  }

  async fetch(ids: readonly string[], namespace: string, options?: VectorStoreCallOptions): Promise<VectorRecord[]> {
    throwIfAborted(options?.signal);
    const space = this.space(namespace);
    return ids.flatMap((id) => {
      const record = space?.get(id);
      return record ? [{ id: record.id, values: [...record.values], metadata: structuredClone(record.metadata) }] : [];
    });
  }

  async listIds({ prefix, namespace, limit, cursor }: Parameters<VectorStore["listIds"]>[0], options?: VectorStoreCallOptions) {
    throwIfAborted(options?.signal);
    const ids = [...(this.space(namespace)?.keys() ?? [])]
      .filter((id) => id.startsWith(prefix) && (cursor === undefined || compareBytes(id, cursor) > 0))
      .sort(compareBytes);
    const page = ids.slice(0, limit);
    return { ids: page, next: ids.length > limit ? page.at(-1) : undefined };
  }

  async listNamespaces(options?: VectorStoreCallOptions): Promise<string[]> {
    throwIfAborted(options?.signal);
    return [...this.namespaces].filter(([, space]) => space.size > 0).map(([name]) => name);
  }

  async describe(options?: VectorStoreCallOptions): Promise<VectorStoreInfo> {
    throwIfAborted(options?.signal);
    let count = 0;
    for (const space of this.namespaces.values()) count += space.size;
    return { dimension: this.dimension ?? 0, count };
  }

  private space(namespace: string, create = false) {
    let space = this.namespaces.get(namespace);
    if (!space && create) this.namespaces.set(namespace, (space = new Map()));
    return space;
  }
}

function norm(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value * value;
  return Math.sqrt(sum);
}
