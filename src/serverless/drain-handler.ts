import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { SyncQueue } from "../client.js";
import { redact, registerSecret } from "../core/redact.js";
import { DualstoreError } from "../errors.js";
import { parseConfig } from "../internal/validate.js";

/** What the handler drains: a Dualstore (only its outbox is used). */
export interface DrainTarget {
  readonly sync: Pick<SyncQueue, "drain" | "stats">;
}

export interface DrainHandlerOptions {
  /**
   * Requests must carry it as `Authorization: Bearer <secret>` (what Vercel Cron sends from
   * `CRON_SECRET`). Required, at least 16 characters. Compared in constant time; never logged.
   */
  secret: string;
  /**
   * Time one request may spend draining, in ms. Default 10,000. Keep it a few seconds below the
   * platform's function timeout: the JSON answer and the queue count come after it.
   */
  budgetMs?: number;
  /** Jobs leased per batch. Default 32. */
  batchSize?: number;
}

/** The JSON body of a successful drain. */
export interface DrainReport {
  /** Jobs leased and run in this request (a retried job counts each time). */
  readonly processed: number;
  readonly done: number;
  readonly retried: number;
  readonly dead: number;
  readonly elapsedMs: number;
  readonly budgetMs: number;
  /** Jobs a worker could take right now: call again (or let the next schedule) when above 0. */
  readonly due: number;
  /** Jobs still waiting, including retries scheduled for later. */
  readonly pending: number;
  /** Whether anything is due now: the budget ran out before the queue did. */
  readonly workLeft: boolean;
}

const optionsShape = z.object({
  secret: z.string().min(16, "expected a string of at least 16 characters"),
  budgetMs: z.number().int().min(100).max(3_600_000).optional(),
  batchSize: z.number().int().min(1).max(1_000).optional(),
});

/**
 * A Fetch API handler (`Request` in, `Response` out) that drains the sync outbox within a time
 * budget: for a scheduled HTTP request (a cron), a queue's push endpoint, or a Next.js route
 * handler (`export const GET = createDrainHandler(...)`) on hosting with no long-running process.
 *
 * `ds` may be the instance, or a function that opens it (called on the first authorised request
 * only, so a request without the secret opens no connection). Answers 401 without the right
 * secret, 405 for methods other than GET and POST, 500 with the error's code and masked message
 * when the database fails, and otherwise 200 with a {@link DrainReport}.
 */
export function createDrainHandler(ds: DrainTarget | (() => Promise<DrainTarget>), options: DrainHandlerOptions): (request: Request) => Promise<Response> {
  const { secret, budgetMs = 10_000, batchSize } = parseConfig(optionsShape, options);
  registerSecret(secret);
  const expected = digest(secret);
  let target: Promise<DrainTarget> | undefined;
  const open = (): Promise<DrainTarget> => {
    if (target) return target;
    const opening = typeof ds === "function" ? ds() : Promise.resolve(ds);
    // A failed open is tried again by the next request.
    opening.catch(() => (target = undefined));
    return (target = opening);
  };

  return async (request) => {
    if (request.method !== "GET" && request.method !== "POST") {
      return json({ error: { code: "METHOD_NOT_ALLOWED", message: "use GET or POST" } }, 405, { allow: "GET, POST" });
    }
    if (!authorised(request.headers.get("authorization"), expected)) {
      return json({ error: { code: "UNAUTHORIZED", message: "missing or wrong bearer secret" } }, 401, { "www-authenticate": "Bearer" });
    }
    const started = performance.now();
    try {
      const { sync } = await open();
      const result = await sync.drain({ budgetMs, ...(batchSize === undefined ? {} : { batchSize }), signal: request.signal });
      const stats = await sync.stats();
      const report: DrainReport = {
        ...result,
        elapsedMs: Math.round(performance.now() - started),
        budgetMs,
        due: stats.due,
        pending: stats.pending,
        workLeft: stats.due > 0,
      };
      return json(report, 200);
    } catch (error) {
      const code = error instanceof DualstoreError ? error.code : "INTERNAL";
      return json({ error: { code, message: redact(error instanceof Error ? error.message : String(error)) } }, 500);
    }
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compares digests, so neither the secret's length nor its prefix shows in the time taken. */
function authorised(header: string | null, expected: Buffer): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return timingSafeEqual(digest(match?.[1] ?? ""), expected);
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });
}
