/**
 * Cohere's `embedding_types`: the float embedding and its quantised forms. The quantisation
 * is simple (fixed scaling, sign bits) but has the documented shapes and ranges.
 */

export const EMBEDDING_TYPES = ["float", "int8", "uint8", "binary", "ubinary", "base64"] as const;
export type EmbeddingType = (typeof EMBEDDING_TYPES)[number];

export function isEmbeddingType(value: unknown): value is EmbeddingType {
  return EMBEDDING_TYPES.includes(value as EmbeddingType);
}

const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/** Sign bits packed eight per byte, most significant first: `dimension / 8` values in 0..255. */
function packedBits(vector: readonly number[]): number[] {
  const bytes: number[] = [];
  for (let start = 0; start < vector.length; start += 8) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit += 1) byte = (byte << 1) | ((vector[start + bit] ?? 0) > 0 ? 1 : 0);
    bytes.push(byte);
  }
  return bytes;
}

function float32Base64(vector: readonly number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer.toString("base64");
}

/** Encodes one float embedding as the requested type. */
export function encodeEmbedding(vector: readonly number[], type: EmbeddingType): number[] | string {
  switch (type) {
    case "float":
      return [...vector];
    case "int8":
      return vector.map((value) => clamp(Math.round(value * 127), -128, 127));
    case "uint8":
      return vector.map((value) => clamp(Math.round((value + 1) * 127.5), 0, 255));
    case "ubinary":
      return packedBits(vector);
    case "binary":
      return packedBits(vector).map((byte) => byte - 128);
    case "base64":
      return float32Base64(vector);
  }
}
