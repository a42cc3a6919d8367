/**
 * Validation of data-plane requests with Pinecone's documented limits, so a client that
 * breaks one fails here as it would against the service. Messages quote Pinecone's where
 * they are known (dimension mismatch, metadata type and size, request size); the others are
 * close paraphrases.
 */
import { isRecord } from "./fault-server.js";
import { dataError } from "./pinecone-errors.js";
import { compileFilter, FilterError, type FilterPredicate } from "./pinecone-filter.js";
import { DEFAULT_NAMESPACE, type Metadata, type MetadataValue, type StoredVector } from "./pinecone-store.js";

export const LIMITS = {
  /** Records per upsert request. */
  upsertBatch: 1000,
  /** Bytes per data-plane request body (2 MB). */
  requestBytes: 2 * 1024 * 1024,
  /** Serialized metadata bytes per record (40 KB). */
  metadataBytes: 40 * 1024,
  /** Characters per record id. */
  idLength: 512,
  /** Ids per fetch or delete request. */
  idsPerRequest: 1000,
  /** Largest `topK`. */
  topK: 10_000,
  /** Largest `limit` for list. */
  listLimit: 1000,
} as const;

export function checkRequestSize(bytes: number): void {
  if (bytes > LIMITS.requestBytes) {
    const megabytes = Math.ceil(bytes / (1024 * 1024));
    dataError(400, `Request size ${megabytes}MB exceeds the maximum supported size of 2MB`);
  }
}

export function parseNamespace(value: unknown): string {
  if (value === undefined || value === null || value === "") return DEFAULT_NAMESPACE;
  if (typeof value !== "string") dataError(400, "Invalid request: namespace must be a string");
  return value;
}

export function parseId(value: unknown, what = "Vector ID"): string {
  if (typeof value !== "string" || value.length === 0) dataError(400, `${what} must be a non-empty string`);
  const length = [...value].length;
  if (length > LIMITS.idLength) {
    dataError(400, `${what} length ${length} exceeds the maximum of ${LIMITS.idLength} characters`);
  }
  return value;
}

export function parseIds(value: unknown, operation: "fetch" | "delete"): string[] {
  if (!Array.isArray(value) || value.length === 0) dataError(400, `Invalid request: ${operation} requires at least one id`);
  if (value.length > LIMITS.idsPerRequest) {
    dataError(
      400,
      `Invalid request: ${operation} accepts at most ${LIMITS.idsPerRequest} ids per request; got ${value.length}`,
    );
  }
  return value.map((id) => parseId(id));
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 20 ? `${text.slice(0, 20)}...` : text;
}

function isMetadataValue(value: unknown): value is MetadataValue {
  if (typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  return Array.isArray(value) && value.every((element) => typeof element === "string");
}

export function parseMetadata(value: unknown): Metadata | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) dataError(400, `Metadata must be an object; got ${describeValue(value)}`);
  for (const [field, fieldValue] of Object.entries(value)) {
    if (!isMetadataValue(fieldValue)) {
      dataError(
        400,
        `Metadata value must be a string, number, boolean or list of strings, got '${describeValue(fieldValue)}' for field '${field}'`,
      );
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > LIMITS.metadataBytes) {
    dataError(400, `Metadata size is ${bytes} bytes, which exceeds the limit of ${LIMITS.metadataBytes} bytes per vector`);
  }
  return value as Metadata;
}

export function parseValues(value: unknown, dimension: number, what: "Vector" | "Query vector"): number[] {
  if (!Array.isArray(value) || !value.every((element) => typeof element === "number" && Number.isFinite(element))) {
    dataError(400, `${what} values must be an array of finite numbers`);
  }
  const values = value as number[];
  if (values.length !== dimension) {
    dataError(400, `${what} dimension ${values.length} does not match the dimension of the index ${dimension}`);
  }
  if (values.every((element) => element === 0)) dataError(400, "Dense vectors must contain at least one non-zero value.");
  return values;
}

export function rejectSparse(body: Record<string, unknown>, field: string): void {
  if (body[field] !== undefined && body[field] !== null) {
    dataError(400, `${field} is not supported by the local Pinecone test server (dense indexes only)`);
  }
}

export function parseVector(value: unknown, dimension: number): StoredVector {
  if (!isRecord(value)) dataError(400, "Invalid request: every vector must be an object");
  rejectSparse(value, "sparseValues");
  return {
    id: parseId(value.id),
    values: parseValues(value.values, dimension, "Vector"),
    metadata: parseMetadata(value.metadata),
  };
}

export function parseUpsert(body: unknown, dimension: number): { namespace: string; vectors: StoredVector[] } {
  if (!isRecord(body)) dataError(400, "Invalid request: the body must be a JSON object");
  const { vectors } = body;
  if (!Array.isArray(vectors) || vectors.length === 0) dataError(400, "Invalid request: vectors must be a non-empty array");
  if (vectors.length > LIMITS.upsertBatch) {
    dataError(
      400,
      `Invalid request: an upsert request can contain at most ${LIMITS.upsertBatch} vectors; got ${vectors.length}`,
    );
  }
  return { namespace: parseNamespace(body.namespace), vectors: vectors.map((vector) => parseVector(vector, dimension)) };
}

export function parseFilter(value: unknown): FilterPredicate {
  try {
    return compileFilter(value);
  } catch (error) {
    if (error instanceof FilterError) dataError(400, error.message);
    throw error;
  }
}

export function parseTopK(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > LIMITS.topK) {
    dataError(400, `Invalid request: topK must be an integer between 1 and ${LIMITS.topK}; got ${describeValue(value)}`);
  }
  return value;
}

export function parseBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") dataError(400, `Invalid request: ${field} must be a boolean`);
  return value;
}
