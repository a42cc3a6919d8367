import type { Logger } from "../core/logger.js";
import { qualifiedName } from "../db/driver.js";
import type { PrismaClient } from "../db/prisma.js";

export interface EmbeddingCacheOptions {
  /** Most vectors kept; the least recently used beyond it are evicted; 0 turns the cache off. Default 10,000 (60 MB of 1,536-dimension vectors). */
  maxEntries?: number;
}

/** A text to embed and its sha256 (DocumentChunk.hash). */
export interface CacheableText {
  readonly text: string;
  readonly hash: string;
}

/** Inserted entries between two evictions. */
const EVICT_EVERY = 500;

/**
 * Vectors by (embedder id, text hash), in PostgreSQL next to the chunks: a text the same model
 * embedded before, in any document (deleted since, or being re-embedded by a resumed run), is
 * served from here instead of being sent to the provider again. Vectors are kept as float32,
 * the precision every store keeps them at. A failure to read or write the cache only costs the
 * provider calls it would have saved.
 */
export class EmbeddingCache {
  private readonly table: string;
  private insertedSinceEviction = EVICT_EVERY;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
    private readonly maxEntries: number,
    private readonly logger: Logger,
  ) {
    this.table = qualifiedName(schema, "EmbeddingCacheEntry");
  }

  /** Vectors for `items`, in order: from the cache, or from `send` (given the others, in order). `cached` holds the indexes the cache served. */
  async embed<T extends CacheableText>(embedder: string, items: readonly T[], send: (missing: T[]) => Promise<number[][]>): Promise<{ vectors: number[][]; cached: Set<number> }> {
    if (items.length === 0) return { vectors: [], cached: new Set() };
    if (this.maxEntries === 0) return { vectors: await send([...items]), cached: new Set() };
    const found = await this.lookup(embedder, [...new Set(items.map((item) => item.hash))]);
    const cached = new Set<number>();
    const missing: number[] = [];
    items.forEach((item, i) => (found.has(item.hash) ? cached.add(i) : missing.push(i)));
    const fresh = missing.length === 0 ? [] : await send(missing.map((i) => items[i]!));
    const vectors = items.map((item) => found.get(item.hash)!);
    missing.forEach((i, k) => (vectors[i] = fresh[k]!));
    await this.store(embedder, missing.map((i, k) => ({ hash: items[i]!.hash, vector: fresh[k]! })));
    return { vectors, cached };
  }

  private async lookup(embedder: string, hashes: string[]): Promise<Map<string, number[]>> {
    try {
      const rows = await this.prisma.embeddingCacheEntry.findMany({ where: { embedder, textHash: { in: hashes } }, select: { textHash: true, vector: true } });
      if (rows.length > 0) {
        await this.prisma.embeddingCacheEntry.updateMany({ where: { embedder, textHash: { in: rows.map((row) => row.textHash) } }, data: { usedAt: new Date() } });
      }
      return new Map(rows.map((row) => [row.textHash, fromBytes(row.vector)]));
    } catch (error) {
      this.logger.warn("embedding cache unavailable: embedding every text", { error });
      return new Map();
    }
  }

  private async store(embedder: string, entries: Array<{ hash: string; vector: number[] }>): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.prisma.embeddingCacheEntry.createMany({
        data: entries.map((entry) => ({ embedder, textHash: entry.hash, vector: toBytes(entry.vector) })),
        skipDuplicates: true,
      });
      this.insertedSinceEviction += entries.length;
      if (this.insertedSinceEviction >= EVICT_EVERY) {
        this.insertedSinceEviction = 0;
        await this.prisma.$executeRawUnsafe(
          `DELETE FROM ${this.table} WHERE ("embedder", "textHash") IN (SELECT "embedder", "textHash" FROM ${this.table} ORDER BY "usedAt" DESC OFFSET $1)`,
          this.maxEntries,
        );
      }
    } catch (error) {
      this.logger.warn("could not write the embedding cache", { error });
    }
  }
}

function toBytes(vector: readonly number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Float32Array.from(vector).buffer);
}

function fromBytes(bytes: Uint8Array): number[] {
  // Copy: the driver's buffer may be a view into a larger one, not aligned for Float32Array.
  return Array.from(new Float32Array(bytes.slice().buffer));
}
