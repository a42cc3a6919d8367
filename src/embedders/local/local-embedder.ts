import { throwIfAborted } from "../../core/retry.js";
import { ConfigurationError } from "../../errors.js";
import type { EmbedCallOptions, Embedder } from "../embedder.js";

export interface LocalEmbedderOptions {
  /** Vector length. Default 384. */
  dimension?: number;
}

/**
 * An embedder that needs no network, no key and no model download: deterministic feature
 * hashing of words, word pairs and character trigrams, weighted by log term frequency and
 * L2-normalised.
 *
 * It is LEXICAL, not semantic: texts sharing words (or word stems, or spelling fragments)
 * score high; synonyms and paraphrases without shared words score near zero. It ranks
 * keyword-relevant text above unrelated text, which makes it right for tests, offline demos
 * and CI, and wrong as a replacement for a neural embedding model in production.
 */
export class LocalEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxBatchSize = 512;

  constructor(options: LocalEmbedderOptions = {}) {
    this.dimension = options.dimension ?? 384;
    if (!Number.isInteger(this.dimension) || this.dimension < 8 || this.dimension > 16_384) {
      throw new ConfigurationError(`embedder.dimension: expected an integer from 8 to 16384, got ${String(options.dimension)}`);
    }
    this.id = `local:hashing-v1:${this.dimension}`;
  }

  async embedDocuments(texts: readonly string[], options: EmbedCallOptions = {}): Promise<number[][]> {
    throwIfAborted(options.signal);
    return texts.map((text) => this.embed(text));
  }

  async embedQuery(text: string, options: EmbedCallOptions = {}): Promise<number[]> {
    throwIfAborted(options.signal);
    return this.embed(text);
  }

  private embed(text: string): number[] {
    const vector = new Float64Array(this.dimension);
    const add = (feature: string, weight: number) => {
      const hash = murmur3(feature);
      // The hash's top bit picks the sign, so collisions cancel out instead of piling up.
      vector[hash % this.dimension]! += hash & 0x80000000 ? -weight : weight;
    };
    // Occurrences per feature; the first character names its kind: w(ord), b(igram), t(rigram), r(aw).
    const counts = new Map<string, number>();
    const words = terms(text);
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      bump(counts, `w${word}`);
      if (i > 0) bump(counts, `b${words[i - 1]}_${word}`);
      const padded = `<${word}>`;
      for (let j = 0; j + 3 <= padded.length; j++) bump(counts, `t${padded.slice(j, j + 3)}`);
    }
    // Text of stopwords or symbols only still gets a vector of its own, never the zero vector.
    if (counts.size === 0 && text.trim() !== "") bump(counts, `r${text.trim().toLowerCase()}`);
    for (const [feature, count] of counts) add(feature, KIND_WEIGHT[feature[0]!]! * (1 + Math.log(count)));
    let norm = 0;
    for (const value of vector) norm += value * value;
    norm = Math.sqrt(norm);
    return Array.from(vector, (value) => (norm === 0 ? 0 : value / norm));
  }
}

/** Whole words count most; word pairs add phrase sense; trigrams catch inflections and typos. */
const KIND_WEIGHT: Record<string, number> = { w: 1, b: 0.5, t: 0.25, r: 1 };

function bump(counts: Map<string, number>, feature: string): void {
  counts.set(feature, (counts.get(feature) ?? 0) + 1);
}

const STOPWORDS = new Set(
  (
    "a an and are as at be but by for from has have he her his i if in into is it its of on or our she so that the their " +
    "them then there these they this to was we were what when which who will with you your " +
    "el la los las un una unos unas y o de del al en es son por para con sin que se su sus lo como mas pero"
  ).split(" "),
);

/** Lower-cased word stems, stopwords removed. */
function terms(text: string): string[] {
  const out: string[] = [];
  for (const match of text.normalize("NFKC").toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (STOPWORDS.has(word)) continue;
    out.push(stem(word));
  }
  return out;
}

/** A light English suffix strip so that "indexes", "indexing" and "indexed" meet "index". */
function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const [suffix, replacement] of [
    ["ies", "y"],
    ["sses", "ss"],
    ["ing", ""],
    ["edly", ""],
    ["ed", ""],
    ["es", ""],
    ["s", ""],
  ] as const) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3 && !word.endsWith("ss")) {
      return word.slice(0, word.length - suffix.length) + replacement;
    }
  }
  return word;
}

/** MurmurHash3 (x86, 32-bit) over UTF-16 code units. */
function murmur3(key: string, seed = 0x9747b28c): number {
  let h = seed;
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let i = 0;
  for (; i + 1 < key.length; i += 2) {
    let k = (key.charCodeAt(i) & 0xffff) | ((key.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < key.length) {
    let k = key.charCodeAt(i) & 0xffff;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= key.length * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
