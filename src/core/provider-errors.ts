import { redact } from "./redact.js";

/** Statuses a later attempt may get past: timeouts, conflicts, rate limits and server errors. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait a response asked for, in ms: `retry-after-ms`, else `Retry-After` in seconds or as an HTTP date. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined): number | undefined {
  const milliseconds = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** An error's message and its causes', secrets masked: "Connection error. <- fetch failed <- other side closed". */
export function chainMessage(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 4; depth++) {
    const part = current instanceof Error ? current.message : String(current);
    // Wrappers often repeat their cause's message ("fetch failed" around "fetch failed").
    if (part !== parts.at(-1)) parts.push(part);
    current = current instanceof Error ? current.cause : undefined;
  }
  return redact(parts.join(" <- "));
}

/**
 * A copy of an error chain keeping names, codes, messages and stacks only, secrets masked, fit to
 * keep as a ProviderError's `cause`: SDK errors may hold the request, and with it the API key.
 */
export function sanitizedError(error: unknown, depth = 0): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const nested = depth < 4 && source.cause !== undefined ? { cause: sanitizedError(source.cause, depth + 1) } : undefined;
  const copy = new Error(redact(source.message), nested);
  copy.name = source.name;
  copy.stack = redact(source.stack ?? `${source.name}: ${source.message}`);
  const code = (source as { code?: unknown }).code;
  if (typeof code === "string") Object.assign(copy, { code });
  return copy;
}
