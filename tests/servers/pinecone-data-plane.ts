/**
 * The vector data plane of one index (the paths the SDK appends to an index host):
 * upsert, query, fetch, list, delete, update, describe_index_stats and namespaces.
 * Field names are camelCase on the vector endpoints and snake_case on the namespace ones,
 * as in the SDK's generated (de)serializers.
 */
import { isRecord, type ServiceReply, type ServiceRequest } from "./fault-server.js";
import { dataError, pineconeErrorReply } from "./pinecone-errors.js";
import { compareIds, type IndexState, type Metric, type StoredVector } from "./pinecone-store.js";
import {
  checkRequestSize,
  LIMITS,
  parseBoolean,
  parseFilter,
  parseId,
  parseIds,
  parseMetadata,
  parseNamespace,
  parseTopK,
  parseUpsert,
  parseValues,
  rejectSparse,
} from "./pinecone-validation.js";

const ok = (body: unknown, status = 200): ServiceReply => ({ status, body });
const usage = { readUnits: 1 };

function objectBody(request: ServiceRequest): Record<string, unknown> {
  if (request.bodyParseError !== undefined) dataError(400, `Invalid JSON body: ${request.bodyParseError}`);
  const body = request.body ?? {};
  if (!isRecord(body)) dataError(400, "Invalid request: the body must be a JSON object");
  return body;
}

/** Each stored vector's length, computed once: a query scans every vector, and the bench's indexes hold tens of thousands. */
const norms = new WeakMap<readonly number[], number>();

function norm(values: readonly number[]): number {
  let found = norms.get(values);
  if (found === undefined) {
    let sum = 0;
    for (let i = 0; i < values.length; i += 1) sum += values[i]! * values[i]!;
    found = Math.sqrt(sum);
    norms.set(values, found);
  }
  return found;
}

/** Pinecone's scores: cosine similarity, dot product, or squared Euclidean distance. */
function score(metric: Metric, a: readonly number[], b: readonly number[]): number {
  if (metric === "euclidean") {
    let squaredDistance = 0;
    for (let i = 0; i < a.length; i += 1) squaredDistance += (a[i]! - b[i]!) * (a[i]! - b[i]!);
    return squaredDistance;
  }
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += a[i]! * b[i]!;
  if (metric === "dotproduct") return dot;
  const lengths = norm(a) * norm(b);
  return lengths === 0 ? 0 : dot / lengths;
}

function vectorJson(vector: StoredVector, includeValues = true, includeMetadata = true): Record<string, unknown> {
  return {
    id: vector.id,
    values: includeValues ? vector.values : [],
    ...(includeMetadata && vector.metadata !== undefined ? { metadata: vector.metadata } : {}),
  };
}

function upsert(index: IndexState, request: ServiceRequest, partial: boolean): ServiceReply {
  const { namespace, vectors } = parseUpsert(objectBody(request), index.config.dimension);
  // "partial": the first half of the batch lands, then the request fails.
  const applied = partial ? vectors.slice(0, Math.floor(vectors.length / 2)) : vectors;
  index.write(namespace, (records) => {
    for (const vector of applied) records.set(vector.id, vector);
  });
  if (partial) return pineconeErrorReply("data", 500, "Internal error");
  return ok({ upsertedCount: vectors.length });
}

function query(index: IndexState, request: ServiceRequest): ServiceReply {
  const body = objectBody(request);
  rejectSparse(body, "sparseVector");
  const namespace = parseNamespace(body.namespace);
  const topK = parseTopK(body.topK);
  const matches = parseFilter(body.filter);
  const includeValues = parseBoolean(body.includeValues, "includeValues");
  const includeMetadata = parseBoolean(body.includeMetadata, "includeMetadata");
  const records = index.visible(namespace);

  let target: readonly number[] | undefined;
  if (body.vector !== undefined && body.id !== undefined) dataError(400, "Invalid request: pass either vector or id, not both");
  if (body.vector !== undefined) {
    target = parseValues(body.vector, index.config.dimension, "Query vector");
  } else if (body.id !== undefined) {
    target = records.get(parseId(body.id))?.values;
    // Querying by an id that is not (yet) visible finds nothing, as on Pinecone.
    if (!target) return ok({ matches: [], namespace, usage });
  } else {
    dataError(400, "Invalid request: a query needs a vector or an id");
  }

  const { metric } = index.config;
  const scored = [...records.values()]
    .filter((record) => matches(record.metadata))
    .map((record) => ({ record, score: score(metric, target, record.values) }))
    .sort((a, b) => {
      const byScore = metric === "euclidean" ? a.score - b.score : b.score - a.score;
      return byScore !== 0 ? byScore : compareIds(a.record.id, b.record.id);
    })
    .slice(0, topK);
  return ok({
    matches: scored.map(({ record, score: value }) => ({ ...vectorJson(record, includeValues, includeMetadata), score: value })),
    namespace,
    usage,
  });
}

function fetchVectors(index: IndexState, request: ServiceRequest): ServiceReply {
  const ids = parseIds(request.query.getAll("ids"), "fetch");
  const namespace = parseNamespace(request.query.get("namespace"));
  const records = index.visible(namespace);
  const vectors: Record<string, unknown> = {};
  for (const id of ids) {
    const record = records.get(id);
    if (record) vectors[id] = vectorJson(record);
  }
  return ok({ vectors, namespace, usage });
}

interface ListCursor {
  after: string;
}

function decodeCursor(token: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (isRecord(parsed) && typeof parsed.after === "string") return { after: parsed.after };
  } catch {
    // Fall through to the 400 below.
  }
  return dataError(400, "Invalid pagination token");
}

function listVectors(index: IndexState, request: ServiceRequest): ServiceReply {
  const namespace = parseNamespace(request.query.get("namespace"));
  const prefix = request.query.get("prefix") ?? "";
  const limitText = request.query.get("limit");
  const limit = limitText === null ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.listLimit) {
    dataError(400, `Invalid request: limit must be an integer between 1 and ${LIMITS.listLimit}`);
  }
  const token = request.query.get("paginationToken");
  const after = token ? decodeCursor(token).after : undefined;
  const ids = [...index.visible(namespace).keys()]
    .filter((id) => id.startsWith(prefix) && (after === undefined || compareIds(id, after) > 0))
    .sort(compareIds);
  const page = ids.slice(0, limit);
  const last = page.at(-1);
  const next =
    ids.length > limit && last !== undefined
      ? { pagination: { next: Buffer.from(JSON.stringify({ after: last })).toString("base64url") } }
      : {};
  return ok({ vectors: page.map((id) => ({ id })), ...next, namespace, usage });
}

function deleteVectors(index: IndexState, request: ServiceRequest, partial: boolean): ServiceReply {
  const body = objectBody(request);
  const namespace = parseNamespace(body.namespace);
  const deleteAll = parseBoolean(body.deleteAll, "deleteAll");
  const modes = [body.ids !== undefined, deleteAll, body.filter !== undefined].filter(Boolean).length;
  if (modes !== 1) dataError(400, "Invalid request: pass exactly one of ids, deleteAll or filter");
  // Serverless Pinecone answers 404 for deletes in a namespace that does not exist (yet).
  if (!index.exists(namespace)) dataError(404, "Namespace not found");
  if (body.ids !== undefined) {
    const ids = parseIds(body.ids, "delete");
    // "partial": the first half of the ids is deleted, then the request fails.
    const applied = partial ? ids.slice(0, Math.floor(ids.length / 2)) : ids;
    index.write(namespace, (records) => {
      for (const id of applied) records.delete(id);
    });
  } else if (partial) {
    return pineconeErrorReply("data", 500, "Internal error");
  } else if (deleteAll) {
    index.write(namespace, (records) => records.clear());
  } else {
    const matches = parseFilter(body.filter);
    index.write(namespace, (records) => {
      for (const [id, record] of records) if (matches(record.metadata)) records.delete(id);
    });
  }
  if (partial) return pineconeErrorReply("data", 500, "Internal error");
  return ok({});
}

function update(index: IndexState, request: ServiceRequest): ServiceReply {
  const body = objectBody(request);
  rejectSparse(body, "sparseValues");
  const namespace = parseNamespace(body.namespace);
  const values = body.values === undefined ? undefined : parseValues(body.values, index.config.dimension, "Vector");
  const setMetadata = parseMetadata(body.setMetadata);
  const change = (record: StoredVector): StoredVector => ({
    id: record.id,
    values: values ?? record.values,
    metadata: setMetadata ? { ...record.metadata, ...setMetadata } : record.metadata,
  });
  if (body.id !== undefined && body.filter !== undefined) dataError(400, "Invalid request: pass either id or filter, not both");
  if (body.id !== undefined) {
    const id = parseId(body.id);
    // Updating a missing id is a no-op.
    index.write(namespace, (records) => {
      const record = records.get(id);
      if (record) records.set(id, change(record));
    });
    return ok({});
  }
  if (body.filter === undefined) dataError(400, "Invalid request: an update needs an id or a filter");
  const matches = parseFilter(body.filter);
  const matchedRecords = [...index.visible(namespace).values()].filter((record) => matches(record.metadata)).length;
  if (!parseBoolean(body.dryRun, "dryRun")) {
    index.write(namespace, (records) => {
      for (const record of records.values()) if (matches(record.metadata)) records.set(record.id, change(record));
    });
  }
  return ok({ matchedRecords });
}

function describeStats(index: IndexState, request: ServiceRequest): ServiceReply {
  const body = objectBody(request);
  if (body.filter !== undefined) {
    dataError(400, "Serverless and starter indexes do not support describing index stats with metadata filtering.");
  }
  const namespaces: Record<string, { vectorCount: number }> = {};
  let totalVectorCount = 0;
  for (const [name, records] of index.visibleNamespaces()) {
    namespaces[name] = { vectorCount: records.size };
    totalVectorCount += records.size;
  }
  return ok({
    namespaces,
    dimension: index.config.dimension,
    indexFullness: 0,
    totalVectorCount,
    metric: index.config.metric,
    vectorType: "dense",
  });
}

function namespaces(index: IndexState, request: ServiceRequest, name: string | undefined): ServiceReply {
  const visible = new Map(index.visibleNamespaces());
  if (name === undefined) {
    if (request.method !== "GET") dataError(400, "Creating empty namespaces is not supported by the local Pinecone test server");
    const prefix = request.query.get("prefix") ?? "";
    const listed = [...visible].filter(([namespace]) => namespace.startsWith(prefix));
    return ok({
      namespaces: listed.map(([namespace, records]) => ({ name: namespace, record_count: records.size })),
      total_count: listed.length,
    });
  }
  const records = visible.get(name);
  if (!records) dataError(404, `Namespace ${name} not found`);
  if (request.method === "DELETE") {
    index.write(name, (all) => all.clear());
    return ok({});
  }
  return ok({ name, record_count: records.size });
}

/** Routes one data-plane request for `index`; `path` is relative to the index host. */
export function handleDataPlane(index: IndexState, request: ServiceRequest, path: string, partial = false): ServiceReply {
  checkRequestSize(request.rawBody.length);
  const route = `${request.method} ${path}`;
  switch (route) {
    case "POST /vectors/upsert":
      return upsert(index, request, partial);
    case "POST /vectors/delete":
      return deleteVectors(index, request, partial);
  }
  if (partial) return pineconeErrorReply("data", 500, "Internal error");
  switch (route) {
    case "POST /query":
      return query(index, request);
    case "GET /vectors/fetch":
      return fetchVectors(index, request);
    case "GET /vectors/list":
      return listVectors(index, request);
    case "POST /vectors/update":
      return update(index, request);
    case "POST /describe_index_stats":
    case "GET /describe_index_stats":
      return describeStats(index, request);
  }
  const namespaceMatch = /^\/namespaces(?:\/([^/]+))?$/.exec(path);
  if (namespaceMatch) {
    const encoded = namespaceMatch[1];
    return namespaces(index, request, encoded === undefined ? undefined : decodeURIComponent(encoded));
  }
  return dataError(404, `Not found: ${route} is not a data-plane route of the local Pinecone test server`);
}

/** Whether a data-plane route has batch semantics for the "partial" fault. */
export function supportsPartial(method: string, path: string): boolean {
  return method === "POST" && (path === "/vectors/upsert" || path === "/vectors/delete");
}
