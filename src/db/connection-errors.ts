import { redact } from "../core/redact.js";
import { ConnectionError } from "../errors.js";

/** What a person can do about the usual network failures, by Node's error code. */
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is the server running, and listening on that port?)",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed (DNS unavailable?)",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "the server closed the connection",
  ENOENT: "no server is listening on that socket",
};

/**
 * A failure to open a connection, as one typed error naming where dualstore tried and why,
 * whatever shape the driver reported it in: node-postgres throws Errors with a Node or SQLSTATE
 * `code`; Neon's driver rejects with a WebSocket ErrorEvent (not an Error) whose own `error` or
 * `message` holds the cause. Secrets are masked; the cause is kept for debugging.
 */
export function toConnectionError(error: unknown, target: string): ConnectionError {
  const cause = unwrapEvent(error);
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
  const message = oneLine(redact(messageOf(cause)));
  const known = code === undefined ? undefined : NETWORK_REASONS[code];
  return new ConnectionError(target, known ? `${known} [${code}]` : message || "the connection failed", { cause: error });
}

/** `host:port` of a postgres:// URL (never its credentials), for messages. */
export function connectionTarget(url: string): string {
  const parsed = new URL(url);
  const socket = parsed.searchParams.get("host");
  if (socket?.startsWith("/")) return socket;
  return `${parsed.hostname}:${parsed.port || "5432"}`;
}

/** An ErrorEvent's (or any event's) underlying error; anything else as it is. */
function unwrapEvent(error: unknown): unknown {
  if (error instanceof Error || typeof error !== "object" || error === null) return error;
  if ("error" in error && error.error !== undefined && error.error !== null) return unwrapEvent(error.error);
  return error;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") return error.message;
  return typeof error === "string" ? error : "";
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, " ");
}
