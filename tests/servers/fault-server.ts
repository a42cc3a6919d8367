/**
 * The shared HTTP plumbing of the protocol servers: listens on 127.0.0.1, reads and parses
 * bodies, logs every request, applies injected faults, authenticates, and closes every
 * socket on `close()` so a test process can exit on its own.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { AddressInfo, Socket } from "node:net";
import { FaultController, type FaultKind, type Faults } from "./faults.js";

/** One request as a service handler sees it. */
export interface ServiceRequest {
  method: string;
  /** The URL path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The parsed JSON body; `undefined` when the body is empty or is not valid JSON. */
  body: unknown;
  /** Set when a non-empty body failed to parse as JSON. */
  bodyParseError: string | undefined;
}

/** A reply: a string body is sent as text/plain, anything else as JSON. */
export interface ServiceReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Thrown by handlers to answer with an error reply from deep inside validation code. */
export class ReplyError extends Error {
  constructor(readonly reply: ServiceReply) {
    super(`HTTP ${reply.status}`);
    this.name = "ReplyError";
  }
}

/** The status codes the base server produces itself, in the service's own error format. */
export type BaseErrorStatus = 413 | 429 | 500 | 503;

/** What a concrete service (Pinecone, OpenAI, Cohere) plugs into the base server. */
export interface ServiceDefinition {
  /** Returns a 401 reply when the request's credentials are missing or wrong. */
  authenticate(request: ServiceRequest): ServiceReply | undefined;
  handle(request: ServiceRequest): ServiceReply | Promise<ServiceReply>;
  /**
   * The `"partial"` fault for batch endpoints: apply part of the batch and return an error
   * reply. Returning `undefined` means the endpoint has no batch semantics, so the base
   * answers a plain 500 without calling `handle`.
   */
  handlePartial?(request: ServiceRequest): ServiceReply | undefined;
  /** An error reply in the service's format for statuses the base produces itself. */
  error(status: BaseErrorStatus, request: ServiceRequest): ServiceReply;
  /** Headers added to every answered request (e.g. a request id). */
  replyHeaders?(request: ServiceRequest): Record<string, string>;
  /** What the request costs against a `tokensPerMinute` limit (e.g. its input tokens). Default 0. */
  tokens?(request: ServiceRequest): number;
}

/** What happened to a request: its status, or how it was left unanswered. */
export type RequestOutcome = number | "timeout" | "drop";

export interface RecordedRequest {
  method: string;
  /** The URL path, still percent-encoded. */
  path: string;
  /** Query parameters; a repeated key becomes an array. */
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or `undefined`. */
  body: unknown;
  /** Body size in bytes. */
  bodyBytes: number;
  /** `Date.now()` when the request was fully read. */
  timestamp: number;
  /**
   * The response status, `"timeout"`/`"drop"` for unanswered requests, `undefined` while pending
   * (a stalled request is pending until its stall ends, whether or not its client is still there).
   */
  status: RequestOutcome | undefined;
  /** The injected fault, if any. */
  fault: FaultKind | undefined;
}

export interface FaultServerOptions {
  /** Default `Retry-After` for injected 429s, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Default hold of an injected `"stall"`, in ms. Default 1,000. */
  stallMs?: number;
  /** Bodies larger than this are answered 413 without reaching the handler. Default 32 MiB. */
  maxBodyBytes?: number;
  /**
   * A provider's rate limits, as token buckets: `requestsPerMinute` refill evenly and at most
   * `burst` (default one second's worth) wait unused; `tokensPerMinute` likewise, each request
   * costing what the service's `tokens()` says, at most one second's worth waiting unused (a
   * request costing more passes once that bucket is full, and empties it). A request either
   * bucket cannot pay for is answered 429 with the wait until it could (`Retry-After` in whole
   * seconds and `retry-after-ms`), as OpenAI does, and takes nothing from either.
   */
  rateLimit?: { requestsPerMinute?: number; tokensPerMinute?: number; burst?: number };
}

export interface StartedServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  /** Every request received, in arrival order; tests may read, filter or empty it. */
  requests: RecordedRequest[];
  faults: Faults;
  /** Stops listening and destroys every open socket (including deliberately hung ones). */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

function queryRecord(query: URLSearchParams): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    record[key] = values.length === 1 ? (values[0] ?? "") : values;
  }
  return record;
}

function readBody(request: IncomingMessage, maxBytes: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining an oversized body so the 413 can still be delivered.
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    request.on("error", reject);
  });
}

function parseJson(raw: Buffer): { body: unknown; error: string | undefined } {
  if (raw.length === 0) return { body: undefined, error: undefined };
  try {
    return { body: JSON.parse(raw.toString("utf8")) as unknown, error: undefined };
  } catch (error) {
    return { body: undefined, error: error instanceof Error ? error.message : String(error) };
  }
}

function send(response: ServerResponse, reply: ServiceReply, extraHeaders: Record<string, string>): void {
  // A client that gave up on a stalled request has gone: the request was handled all the same.
  if (response.destroyed || !response.socket || response.socket.destroyed) return;
  const isText = typeof reply.body === "string";
  const payload =
    reply.body === undefined ? "" : isText ? (reply.body as string) : JSON.stringify(reply.body);
  const headers: Record<string, string> = {
    ...extraHeaders,
    ...reply.headers,
    "content-length": String(Buffer.byteLength(payload)),
  };
  if (reply.body !== undefined) {
    headers["content-type"] = isText ? "text/plain; charset=utf-8" : "application/json";
  }
  response.writeHead(reply.status, headers);
  response.end(payload);
}

/** Starts a service on 127.0.0.1 with a free port. */
export async function startFaultServer(
  service: ServiceDefinition,
  options: FaultServerOptions = {},
): Promise<StartedServer> {
  const faults = new FaultController(options.retryAfterSeconds ?? 1, options.stallMs ?? 1_000);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const requestLimit = tokenBucket(options.rateLimit?.requestsPerMinute, options.rateLimit?.burst);
  const tokenLimit = tokenBucket(options.rateLimit?.tokensPerMinute);
  /** The wait before the request may pass, in ms; 0 after paying for it (always 0 without a limit). */
  function admit(request: ServiceRequest): number {
    const now = Date.now();
    const tokens = tokenLimit ? (service.tokens?.(request) ?? 0) : 0;
    const waitMs = Math.max(requestLimit?.waitMs(1, now) ?? 0, tokenLimit?.waitMs(tokens, now) ?? 0);
    if (waitMs > 0) return waitMs;
    requestLimit?.take(1);
    tokenLimit?.take(tokens);
    return 0;
  }

  async function answer(request: ServiceRequest, record: RecordedRequest, response: ServerResponse): Promise<void> {
    const selected = faults.select({ method: request.method, path: request.path, body: request.body });
    const limitedMs = selected === undefined ? admit(request) : 0;
    if (limitedMs > 0) {
      const base = service.error(429, request);
      const reply = { ...base, headers: { ...base.headers, "retry-after": String(Math.ceil(limitedMs / 1_000)), "retry-after-ms": String(limitedMs) } };
      record.status = reply.status;
      send(response, reply, service.replyHeaders?.(request) ?? {});
      return;
    }
    record.fault = selected?.kind;

    if (selected?.kind === "timeout") {
      // Never answer; the client's own timeout (or close()) ends the exchange.
      record.status = "timeout";
      return;
    }
    if (selected?.kind === "drop") {
      record.status = "drop";
      response.socket?.destroy();
      return;
    }
    if (selected?.kind === "stall") await (selected.until ?? delay(selected.stallMs));

    let reply: ServiceReply;
    try {
      if (selected?.kind === "429") {
        const base = service.error(429, request);
        reply = { ...base, headers: { ...base.headers, "retry-after": String(selected.retryAfterSeconds) } };
      } else if (selected?.kind === "500" || selected?.kind === "503") {
        reply = service.error(selected.kind === "500" ? 500 : 503, request);
      } else if (selected?.kind === "malformed") {
        reply = service.authenticate(request) ?? { status: 200, body: { malformed: true } };
      } else if (selected?.kind === "partial") {
        reply =
          service.authenticate(request) ?? service.handlePartial?.(request) ?? service.error(500, request);
      } else {
        reply = service.authenticate(request) ?? (await service.handle(request));
      }
    } catch (error) {
      if (error instanceof ReplyError) {
        reply = error.reply;
      } else {
        // A bug in the test server must be loud, not a silent retryable 500.
        console.error("protocol server handler failed:", error);
        reply = service.error(500, request);
      }
    }
    record.status = reply.status;
    send(response, reply, service.replyHeaders?.(request) ?? {});
  }

  async function onRequest(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? "/", "http://127.0.0.1");
    const { body: rawBody, tooLarge } = await readBody(incoming, maxBodyBytes);
    const parsed = tooLarge ? { body: undefined, error: undefined } : parseJson(rawBody);
    const request: ServiceRequest = {
      method: incoming.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      rawBody,
      body: parsed.body,
      bodyParseError: parsed.error,
    };
    const record: RecordedRequest = {
      method: request.method,
      path: request.path,
      query: queryRecord(request.query),
      headers: incoming.headers,
      body: request.body,
      bodyBytes: rawBody.length,
      timestamp: Date.now(),
      status: undefined,
      fault: undefined,
    };
    requests.push(record);
    if (tooLarge) {
      const reply = service.error(413, request);
      record.status = reply.status;
      send(response, reply, service.replyHeaders?.(request) ?? {});
      return;
    }
    await answer(request, record, response);
  }

  // Fetch URLs can be long (Pinecone fetch puts up to 1000 ids in the query string).
  const server = createServer({ maxHeaderSize: 1024 * 1024, requestTimeout: 0 }, (incoming, response) => {
    onRequest(incoming, response).catch((error: unknown) => {
      console.error("protocol server failed to read a request:", error);
      response.socket?.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      faults.clear();
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  }

  return { url: `http://127.0.0.1:${port}`, port, requests, faults, close };
}

/** One per-minute limit as a bucket: refills evenly, holds at most `capacity` (default one second's worth). */
function tokenBucket(perMinute: number | undefined, capacity?: number) {
  if (perMinute === undefined) return undefined;
  const perMs = perMinute / 60_000;
  const max = capacity ?? Math.max(1, perMs * 1_000);
  const bucket = { tokens: max, at: Date.now() };
  return {
    /** The wait until `cost` (at most a full bucket) is there, in ms, after refilling up to `now`. */
    waitMs(cost: number, now: number): number {
      bucket.tokens = Math.min(max, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      const need = Math.min(cost, max);
      return bucket.tokens >= need ? 0 : Math.ceil((need - bucket.tokens) / perMs);
    },
    take(cost: number): void {
      bucket.tokens -= Math.min(cost, max);
    },
  };
}

/** Reads a bearer token from an `Authorization` header. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  if (typeof value !== "string") return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match?.[1];
}

/** Narrows an unknown JSON value to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
