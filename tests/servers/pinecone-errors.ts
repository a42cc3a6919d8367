/**
 * Pinecone's two error formats. The control plane (api.pinecone.io) answers
 * `{ "error": { "code": "NOT_FOUND", "message": "..." }, "status": 404 }`; the vector data
 * plane answers a gRPC-gateway status `{ "code": 3, "message": "...", "details": [] }`. The
 * SDK reads the message from either (see its `extractMessage`) and maps the HTTP status to
 * its error classes.
 */
import { ReplyError, type ServiceReply } from "./fault-server.js";

export type Plane = "control" | "data";

const GRPC_CODES: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  409: 6, // ALREADY_EXISTS
  413: 3, // INVALID_ARGUMENT
  429: 8, // RESOURCE_EXHAUSTED
  500: 13, // INTERNAL
  503: 14, // UNAVAILABLE
};

const CONTROL_CODES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export function pineconeErrorReply(plane: Plane, status: number, message: string): ServiceReply {
  if (plane === "control") {
    return { status, body: { error: { code: CONTROL_CODES[status] ?? "UNKNOWN", message }, status } };
  }
  return { status, body: { code: GRPC_CODES[status] ?? 2, message, details: [] } };
}

/** Throws a data-plane error reply (caught by the base server). */
export function dataError(status: number, message: string): never {
  throw new ReplyError(pineconeErrorReply("data", status, message));
}

/** Throws a control-plane error reply (caught by the base server). */
export function controlError(status: number, message: string): never {
  throw new ReplyError(pineconeErrorReply("control", status, message));
}

/** Messages for the statuses injected by faults. */
export const FAULT_MESSAGES: Record<number, string> = {
  413: "Request size exceeds the maximum supported size",
  429: "Too many requests. Please retry shortly.",
  500: "Internal error",
  503: "Service unavailable",
};
