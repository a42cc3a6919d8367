/**
 * Deterministic stand-in embeddings for the OpenAI and Cohere servers. Signed feature hashing
 * of lower-cased words and their character trigrams, L2-normalised: identical texts give
 * identical vectors, texts that share words (or word stems) have high cosine similarity, so
 * retrieval tests rank the way a reader expects.
 */

const WORD_WEIGHT = 1;
// Trigrams make "index" and "indexes" close without letting stems outweigh whole words.
const TRIGRAM_WEIGHT = 0.35;

/** FNV-1a over UTF-16 code units, 32-bit. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function features(text: string): Map<string, number> {
  const weights = new Map<string, number>();
  const add = (feature: string, weight: number): void => {
    weights.set(feature, (weights.get(feature) ?? 0) + weight);
  };
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) {
    add(`w:${word}`, WORD_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i += 1) add(`t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
  // Text without letters or digits still gets a stable, non-zero vector of its own.
  if (weights.size === 0) add(`raw:${text}`, WORD_WEIGHT);
  return weights;
}

function accumulate(target: Float64Array, feature: string, weight: number, seed: string): void {
  const hash = fnv1a(`${seed}\u0000${feature}`);
  const bucket = hash % target.length;
  // A second, decorrelated bit picks the sign so collisions cancel instead of piling up.
  const sign = Math.imul(hash ^ (hash >>> 16), 0x9e3779b1) >>> 31 === 0 ? 1 : -1;
  target[bucket] = (target[bucket] ?? 0) + sign * weight;
}

function normalise(vector: Float64Array): number[] {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  // Float32 precision, as the real APIs return, so float and base64 encodings agree exactly.
  return Array.from(vector, (value) => Math.fround(value / norm));
}

/**
 * Embeds `text` into `dimension` components. `seed` (e.g. the model name) keeps different
 * models' vector spaces unrelated, as they are for real models.
 */
export function hashedEmbedding(text: string, dimension: number, seed: string): number[] {
  const vector = new Float64Array(dimension);
  for (const [feature, weight] of features(text)) accumulate(vector, feature, weight, seed);
  return normalise(vector);
}

/**
 * Like `hashedEmbedding`, plus a fixed direction per `variant` (Cohere's `input_type`), so the
 * same text embedded as a query and as a document differs slightly but stays well correlated.
 */
export function hashedEmbeddingVariant(
  text: string,
  dimension: number,
  seed: string,
  variant: string,
  variantWeight: number,
): number[] {
  const base = hashedEmbedding(text, dimension, seed);
  const direction = hashedEmbedding(`variant ${variant}`, dimension, `${seed}\u0000variant`);
  const mixed = new Float64Array(dimension);
  for (let i = 0; i < dimension; i += 1) {
    mixed[i] = (base[i] ?? 0) + variantWeight * (direction[i] ?? 0);
  }
  return normalise(mixed);
}

/** Cosine similarity; handy in tests. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
