/**
 * Splits `items` into consecutive batches of at most `maxCount` items and, when `maxBytes` is
 * given, at most that many bytes as measured by `size` plus `overhead` per batch. An item larger
 * than `maxBytes` on its own travels alone (the caller made sure it fits the provider's own limit).
 */
export function batches<T>(
  items: readonly T[],
  limits: { maxCount: number; maxBytes?: number | undefined; size?: (item: T) => number; overhead?: number },
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = limits.overhead ?? 0;
  for (const item of items) {
    const itemBytes = limits.maxBytes === undefined || !limits.size ? 0 : limits.size(item);
    const full =
      current.length >= limits.maxCount || (limits.maxBytes !== undefined && current.length > 0 && bytes + itemBytes > limits.maxBytes);
    if (full) {
      out.push(current);
      current = [];
      bytes = limits.overhead ?? 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
