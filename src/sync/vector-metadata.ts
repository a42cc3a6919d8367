import type { Document } from "../db/prisma.js";
import type { MetadataValue, VectorMetadata } from "../vector-stores/vector-store.js";
import { sha256 } from "./vector-ids.js";

/** `owner` of a public document: filters match it alongside the searching user's id. */
export const PUBLIC_OWNER = "__public__";

/** The document fields that travel with every vector (ADR-002's Pinecone metadata schema), and the source of a mirror. */
export type IndexedDocument = Pick<
  Document,
  "id" | "userId" | "title" | "source" | "sourceUrl" | "language" | "tags" | "metadata" | "createdAt" | "sourceName"
>;

/**
 * The `owner` a vector is filtered on: the owner's id (PUBLIC_OWNER for none) for a document;
 * for the mirror of a source row, the same under the source's name, so a document search never
 * matches a source's vectors, nor a search of one source another's.
 */
export function ownerKey(userId: string | null, sourceName: string | null = null): string {
  const owner = userId ?? PUBLIC_OWNER;
  return sourceName === null ? owner : `source:${sourceName}:${owner}`;
}

/** The vector metadata field of a key of a document's (or a mirror's) own metadata. */
export function metadataField(key: string): string {
  return `meta.${safeKey(key)}`;
}

function safeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, "_");
}

/**
 * Vector metadata for one chunk: ADR-002's fields (documentId, chunkIndex, text, title, source,
 * sourceUrl, userId, createdAt as Unix ms, tags, language) plus `owner` for filtering and the
 * document's own metadata flattened under `meta.`, all within the store's rules: no nulls (absent
 * fields are left out), no nested objects (paths are flattened), lists of strings only, and at
 * most `maxBytes` of JSON: the chunk text is cut first (at a UTF-8 character boundary, with
 * `textTruncated: true`), then custom fields are dropped largest first, then the title is cut.
 * A long chunk never fails to index.
 */
export function vectorMetadata(
  document: IndexedDocument,
  chunk: { index: number; text: string },
  maxBytes: number | undefined,
): { metadata: VectorMetadata; hash: string } {
  const metadata: VectorMetadata = {
    documentId: document.id,
    chunkIndex: chunk.index,
    title: document.title,
    source: document.source,
    owner: ownerKey(document.userId, document.sourceName),
    createdAt: document.createdAt.getTime(),
    tags: [...document.tags],
  };
  if (document.sourceUrl) metadata.sourceUrl = document.sourceUrl;
  if (document.userId) metadata.userId = document.userId;
  if (document.language) metadata.language = document.language;
  Object.assign(metadata, flatten(document.metadata));
  metadata.text = chunk.text;
  if (maxBytes !== undefined) fit(metadata, maxBytes);
  return { metadata, hash: metadataHash(metadata) };
}

/** A stable hash of metadata (key order does not matter). */
export function metadataHash(metadata: VectorMetadata): string {
  return sha256(JSON.stringify(Object.keys(metadata).sort().map((key) => [key, metadata[key]])));
}

/** Custom metadata as `meta.<path>` fields of store-safe values. */
function flatten(value: unknown, path = "meta", depth = 0, out: VectorMetadata = {}): VectorMetadata {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    const items = value.filter((item) => item !== null && item !== undefined);
    if (items.every((item) => typeof item !== "object")) out[path] = items.map(String);
    else out[path] = JSON.stringify(value);
    return out;
  }
  if (typeof value === "object") {
    if (depth >= 4) {
      out[path] = JSON.stringify(value);
      return out;
    }
    for (const [key, inner] of Object.entries(value)) {
      const safe = safeKey(key);
      if (safe) flatten(inner, `${path}.${safe}`, depth + 1, out);
    }
    return out;
  }
  if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
    out[path] = value as MetadataValue;
  }
  return out;
}

function byteSize(metadata: VectorMetadata): number {
  return Buffer.byteLength(JSON.stringify(metadata), "utf8");
}

function fit(metadata: VectorMetadata, maxBytes: number): void {
  let excess = byteSize(metadata) - maxBytes;
  if (excess <= 0) return;
  const text = metadata.text as string;
  metadata.textTruncated = true;
  excess = byteSize(metadata) - maxBytes;
  metadata.text = truncateUtf8(text, Math.max(0, jsonBytes(text) - excess));
  excess = byteSize(metadata) - maxBytes;
  const custom = Object.keys(metadata)
    .filter((key) => key.startsWith("meta."))
    .sort((a, b) => byteSize({ [b]: metadata[b]! }) - byteSize({ [a]: metadata[a]! }));
  for (const key of custom) {
    if (excess <= 0) return;
    delete metadata[key];
    excess = byteSize(metadata) - maxBytes;
  }
  if (excess > 0) metadata.title = truncateUtf8(metadata.title as string, Math.max(0, jsonBytes(metadata.title as string) - excess));
  while (byteSize(metadata) > maxBytes && (metadata.tags as string[]).length > 0) (metadata.tags as string[]).pop();
}

/** Bytes a string takes inside JSON (escapes included). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), "utf8") - 2;
}

/** The longest prefix of `text` whose JSON form fits in `maxBytes`, never splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes(text.slice(0, mid)) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  let end = low;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return text.slice(0, end);
}
