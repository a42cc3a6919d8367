import { sleep } from "../core/retry.js";
import { qualifiedName } from "../db/driver.js";
import type { PrismaClient } from "../db/prisma.js";

export interface RateLimitOptions {
  /** Embedding requests per minute, across every worker in every process. Default: no limit. */
  requestsPerMinute?: number;
  /** Tokens per minute (as the chunker's approximation counts them), across every worker. Default: no limit. */
  tokensPerMinute?: number;
}

/** What an embedding request asks of the shared limit before it is sent. */
export interface RateLimiter {
  /** Waits until the request (of `tokens` tokens) may be sent under the limit, then takes its share. */
  acquire(tokens: number, signal?: AbortSignal): Promise<void>;
  /** The provider asked every caller to wait (429 with Retry-After): pauses all of them. */
  pause(ms: number): Promise<void>;
}

/** Without a limit nothing is shared or waited for. */
export const unlimited: RateLimiter = { acquire: () => Promise.resolve(), pause: () => Promise.resolve() };

/** A bucket that never runs dry, for the dimension (requests or tokens) that has no limit. */
const NO_LIMIT = 1e15;

/**
 * A token bucket in PostgreSQL, one row per key (an embedder's id), shared by every worker in
 * every process: each request takes one request and its tokens, the bucket refills at the
 * per-minute rates and holds at most one second of them (so no burst goes past what the
 * provider's own per-minute bucket allows), and a Retry-After pauses the bucket for everyone.
 */
export class SharedRateLimit implements RateLimiter {
  private readonly table: string;
  private readonly requestRate: number;
  private readonly requestCapacity: number;
  private readonly tokenRate: number;
  private readonly tokenCapacity: number;
  private created: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    schema: string | undefined,
    private readonly key: string,
    limits: RateLimitOptions,
  ) {
    this.table = qualifiedName(schema, "RateLimitBucket");
    this.requestRate = limits.requestsPerMinute ? limits.requestsPerMinute / 60 : NO_LIMIT;
    this.requestCapacity = Math.max(1, this.requestRate);
    this.tokenRate = limits.tokensPerMinute ? limits.tokensPerMinute / 60 : NO_LIMIT;
    this.tokenCapacity = Math.max(1, this.tokenRate);
  }

  async acquire(tokens: number, signal?: AbortSignal): Promise<void> {
    await this.ensureRow();
    // A request larger than a second's tokens still goes, once the bucket is full.
    const cost = Math.min(Math.max(0, tokens), this.tokenCapacity);
    for (;;) {
      const [row] = await this.prisma.$queryRawUnsafe<Array<{ waitMs: number }>>(
        `WITH refill AS (
           SELECT LEAST($2::float8, requests + $3::float8 * extract(epoch FROM now() - "refilledAt")) AS requests,
                  LEAST($4::float8, tokens + $5::float8 * extract(epoch FROM now() - "refilledAt")) AS tokens,
                  extract(epoch FROM "pausedUntil" - now()) AS paused
             FROM ${this.table} WHERE key = $1
         ), taken AS (
           UPDATE ${this.table} b
              SET requests = LEAST($2::float8, b.requests + $3::float8 * extract(epoch FROM now() - b."refilledAt")) - 1,
                  tokens = LEAST($4::float8, b.tokens + $5::float8 * extract(epoch FROM now() - b."refilledAt")) - $6::float8,
                  "refilledAt" = now()
            WHERE b.key = $1 AND b."pausedUntil" <= now()
              AND LEAST($2::float8, b.requests + $3::float8 * extract(epoch FROM now() - b."refilledAt")) >= 1
              AND LEAST($4::float8, b.tokens + $5::float8 * extract(epoch FROM now() - b."refilledAt")) >= $6::float8
           RETURNING 1
         )
         SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN 0
                     ELSE GREATEST(paused, (1 - requests) / $3::float8, ($6::float8 - tokens) / $5::float8, 0.001) * 1000 END::float8 AS "waitMs"
           FROM refill`,
        this.key,
        this.requestCapacity,
        this.requestRate,
        this.tokenCapacity,
        this.tokenRate,
        cost,
      );
      const waitMs = row?.waitMs ?? 0;
      if (waitMs <= 0) return;
      // Jitter spreads the workers that wake for the same refill.
      await sleep(Math.min(waitMs, 5_000) * (1 + Math.random() * 0.2), signal);
    }
  }

  async pause(ms: number): Promise<void> {
    if (!(ms > 0)) return;
    await this.ensureRow();
    await this.prisma.$executeRawUnsafe(
      `UPDATE ${this.table} SET "pausedUntil" = GREATEST("pausedUntil", now() + make_interval(secs => $2::float8 / 1000)) WHERE key = $1`,
      this.key,
      ms,
    );
  }

  private ensureRow(): Promise<void> {
    this.created ??= this.prisma
      .$executeRawUnsafe(
        `INSERT INTO ${this.table} (key, requests, tokens, "refilledAt", "pausedUntil") VALUES ($1, $2, $3, now(), now()) ON CONFLICT (key) DO NOTHING`,
        this.key,
        this.requestCapacity,
        this.tokenCapacity,
      )
      .then(
        () => undefined,
        (error: unknown) => {
          this.created = undefined;
          throw error;
        },
      );
    return this.created;
  }
}
