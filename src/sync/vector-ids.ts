import { createHash } from "node:crypto";

/** Every vector id of a document starts with this, so the store can list them by prefix. */
export function vectorIdPrefix(documentId: string): string {
  return `${documentId}#`;
}

/** The document a vector id belongs to (ids are `<documentId>#<hash>`; document ids hold no `#`). */
export function documentIdOf(vectorId: string): string {
  const at = vectorId.indexOf("#");
  return at === -1 ? vectorId : vectorId.slice(0, at);
}

/**
 * Ids for a document's chunks: `<documentId>#<16 hex of sha256(embedder, text)>`, with `~2`,
 * `~3`... for repeats of the same text. Deterministic, so a retry overwrites instead of
 * duplicating; independent of position, so a chunk that moves keeps its vector; dependent on
 * the embedder, so vectors of two models never share an id.
 */
export function chunkVectorIds(documentId: string, embedderId: string, texts: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return texts.map((text) => {
    const hash = createHash("sha256").update(embedderId).update("\u0000").update(text).digest("hex").slice(0, 16);
    const occurrence = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, occurrence);
    return `${documentId}#${hash}${occurrence > 1 ? `~${occurrence}` : ""}`;
  });
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
