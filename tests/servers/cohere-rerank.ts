/**
 * Cohere's `/v2/rerank` for the local protocol server: request checks as Cohere's API reference
 * states them, and a deterministic relevance so tests can assert an order: the share of the
 * query's distinct words (lower-cased letters and digits) that the document holds, 0..1, ties
 * broken by index. A stand-in for the protocol, not a model of relevance.
 */
import { randomUUID } from "node:crypto";
import { isRecord, ReplyError, type ServiceReply, type ServiceRequest } from "./fault-server.js";

export const COHERE_RERANK_MODELS = ["rerank-v3.5", "rerank-v4.0-pro", "rerank-v4.0-fast", "rerank-english-v3.0", "rerank-multilingual-v3.0"] as const;

/** Cohere's advice for one request; the local server refuses more. */
export const COHERE_RERANK_LIMITS = { documentsPerRequest: 1_000 } as const;

function invalid(message: string, status = 400): never {
  throw new ReplyError({ status, body: { id: randomUUID(), message: `invalid request: ${message}` } });
}

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

/** The local server's relevance of `document` to `query`: the share of the query's words it holds. */
export function overlapRelevance(query: string, document: string): number {
  const asked = words(query);
  if (asked.size === 0) return 0;
  const held = words(document);
  let shared = 0;
  for (const word of asked) if (held.has(word)) shared++;
  return shared / asked.size;
}

export function rerank(request: ServiceRequest): ServiceReply {
  if (request.bodyParseError !== undefined) invalid(`could not parse the JSON body: ${request.bodyParseError}`);
  const body = request.body;
  if (!isRecord(body)) invalid("the body must be a JSON object");
  if (typeof body.model !== "string" || body.model.length === 0) invalid("model must be specified");
  if (!(COHERE_RERANK_MODELS as readonly string[]).includes(body.model)) {
    invalid(`model '${body.model}' not found, make sure the correct model ID was used and that you have access to the model.`, 404);
  }
  if (typeof body.query !== "string" || body.query.trim() === "") invalid("query must be a non-empty string");
  const { documents } = body;
  if (!Array.isArray(documents) || documents.length === 0) invalid("documents must be a non-empty array of strings");
  if (documents.length > COHERE_RERANK_LIMITS.documentsPerRequest) {
    invalid(`too many documents: at most ${COHERE_RERANK_LIMITS.documentsPerRequest}, received ${documents.length}`);
  }
  documents.forEach((document, index) => {
    if (typeof document !== "string") invalid(`documents[${index}] must be a string`);
  });
  const topN = body.top_n ?? documents.length;
  if (!Number.isInteger(topN) || (topN as number) < 1) invalid("top_n must be a positive integer");
  const query = body.query;
  const results = (documents as string[])
    .map((document, index) => ({ index, relevance_score: overlapRelevance(query, document) }))
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
    .slice(0, topN as number);
  return { status: 200, body: { id: randomUUID(), results, meta: { api_version: { version: "2" }, billed_units: { search_units: 1 } } } };
}
