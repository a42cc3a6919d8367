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
 * every process: the bucket refills at the per-minute rates and holds at most one second of them
 * (so no burst goes past what the provider's own per-minute bucket allows), and a Retry-After
 * pauses it for everyone.
 *
 * Each request takes its request and its tokens at once, even when the bucket does not hold them
 * yet (it goes into debt), and is sent when the refill has paid the debt back: requests go in the
 * order they asked, each as soon as the bucket would have held its cost. Waiting instead until
 * the bucket held the cost starved large requests: one costing a full second waited for a full
 * bucket while other workers kept taking smaller shares, until its run's lease ran out.
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
    // A request larger than a second's tokens costs a second's: the provider lets it through once its bucket is full.
    const cost = Math.min(Math.max(0, tokens), this.tokenCapacity);
    for (;;) {
      const [row] = await this.prisma.$queryRawUnsafe<Array<{ taken: boolean; waitMs: number }>>(
        `WITH taken AS (
           UPDATE ${this.table} b
              SET requests = LEAST($2::float8, b.requests + $3::float8 * extract(epoch FROM now() - b."refilledAt")) - 1,
                  tokens = LEAST($4::float8, b.tokens + $5::float8 * extract(epoch FROM now() - b."refilledAt")) - $6::float8,
                  "refilledAt" = now()
            WHERE b.key = $1 AND b."pausedUntil" <= now()
           RETURNING GREATEST(-b.requests / $3::float8, -b.tokens / $5::float8, 0) * 1000 AS wait
         )
         SELECT EXISTS (SELECT 1 FROM taken) AS taken,
                COALESCE((SELECT wait FROM taken), (SELECT GREATEST(extract(epoch FROM "pausedUntil" - now()) * 1000, 1) FROM ${this.table} WHERE key = $1), 0)::float8 AS "waitMs"`,
        this.key,
        this.requestCapacity,
        this.requestRate,
        this.tokenCapacity,
        this.tokenRate,
        cost,
      );
      const waitMs = row?.waitMs ?? 0;
      if (row?.taken) {
        if (waitMs <= 0) return;
        // The share is taken: wait for the refill to pay it back, then for any pause a 429 began meanwhile.
        await sleep(waitMs, signal);
        await this.sleepOutPause(signal);
        return;
      }
      // Paused: every worker waits it out (jitter spreads those that wake at once), then takes its turn.
      await sleep(Math.min(waitMs, 5_000) * (1 + Math.random() * 0.2), signal);
    }
  }

  private async sleepOutPause(signal: AbortSignal | undefined): Promise<void> {
    const [row] = await this.prisma.$queryRawUnsafe<Array<{ pausedMs: number }>>(
      `SELECT GREATEST(extract(epoch FROM "pausedUntil" - now()) * 1000, 0)::float8 AS "pausedMs" FROM ${this.table} WHERE key = $1`,
      this.key,
    );
    if ((row?.pausedMs ?? 0) > 0) await sleep(row!.pausedMs, signal);
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
