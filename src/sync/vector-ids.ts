import { createHash } from "node:crypto";

/** Every vector id of a document starts with this, so the store can list them by prefix. */
export function vectorIdPrefix(documentId: string): string {
  return `${documentId}#`;
}

/** The document a vector id belongs to (ids are `<documentId>#...`; document ids hold no `#`). */
export function documentIdOf(vectorId: string): string {
  const at = vectorId.indexOf("#");
  return at === -1 ? vectorId : vectorId.slice(0, at);
}

/**
 * Content keys for a document's chunks: 16 hex of sha256(embedder, text), with `~2`, `~3`... for
 * repeats of the same text. Independent of position, so a chunk that moves keeps its vector;
 * dependent on the embedder, so vectors of two models never share a key.
 */
export function chunkKeys(embedderId: string, texts: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return texts.map((text) => {
    const hash = createHash("sha256").update(embedderId).update("\u0000").update(text).digest("hex").slice(0, 16);
    const occurrence = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, occurrence);
    return `${hash}${occurrence > 1 ? `~${occurrence}` : ""}`;
  });
}

/**
 * The id of a vector written by the index run of epoch `epoch`: `<documentId>#<epoch>.<key>`.
 * A run's retries rewrite their own ids; no other run ever writes them, so a request that lands
 * after its run lost the lease cannot touch a vector a later run recorded.
 */
export function epochVectorId(documentId: string, epoch: number, key: string): string {
  return `${documentId}#${epoch}.${key}`;
}

/** The content key inside a vector id (ids written before epochs existed are `<documentId>#<key>`). */
export function chunkKeyOf(vectorId: string): string {
  const rest = vectorId.slice(vectorId.indexOf("#") + 1);
  return rest.slice(rest.indexOf(".") + 1);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
