/**
 * Upper bounds on how many bytes values take in JSON, without serializing them. Sizing a dense
 * embedding by `JSON.stringify` costs as much as sending it (printing a double is the expensive
 * part), and the SDK serializes it again anyway.
 */

/**
 * Bytes of `value` as JSON.stringify prints it, at most: the shortest round-trip form has at most
 * 17 significant digits, written out in full from 1e-6 to 1e21 (so leading zeros count below 1),
 * in exponent form outside that range.
 */
export function jsonNumberBytes(value: number): number {
  const sign = value < 0 ? 1 : 0;
  const a = sign ? -value : value;
  if (a === 0) return 1;
  if (a < 1) {
    // "0." + the zeros after the point + 17 digits; exponent form ("d.ddd…e-NNN", ≤ 23) below 1e-6.
    if (a >= 0.1) return sign + 19;
    if (a >= 0.01) return sign + 20;
    if (a >= 0.001) return sign + 21;
    if (a >= 1e-4) return sign + 22;
    if (a >= 1e-5) return sign + 23;
    return sign + 24;
  }
  // 17 digits and a point below 1e17; up to 21 digits (no point) below 1e21; exponent form above.
  return sign + (a < 1e17 ? 18 : 23);
}

/** Bytes of an array of numbers in JSON (brackets and commas included), at most. */
export function jsonNumberArrayBytes(values: readonly number[]): number {
  let bytes = 1 + values.length;
  for (let i = 0; i < values.length; i++) bytes += jsonNumberBytes(values[i]!);
  return bytes;
}
