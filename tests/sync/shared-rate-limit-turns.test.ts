// The shared rate limit's order: a request costing a full second of tokens (a worker's batch of
// long documents) is sent in its turn while other workers keep asking for smaller shares, instead
// of waiting for a full bucket that their requests never leave (once, in the production bench,
// until its run's lease ran out a minute later: the whole batch failed and was retried).
import { expect, it } from "vitest";
import { SharedRateLimit } from "../../src/sync/shared-rate-limit.js";
import { describeEachDatabase } from "../helpers/db.js";
import { article } from "../helpers/text.js";

/** 1,000 tokens a second: the bucket holds 1,000. */
const TOKENS_PER_MINUTE = 60_000;
const SMALL = 400;
const BIG = 1_000;

describeEachDatabase("shared rate limit turns", (target) => {
  it("sends a request needing a full bucket within its turn while three others keep taking smaller shares, and stays within the limit", async () => {
    const database = await target.freshDatabase();
    const ds = await target.open({ database, sync: { onWrite: "none" } });
    const schema = database.url === undefined ? undefined : (new URL(database.url).searchParams.get("schema") ?? undefined);
    // Each worker has its own limiter on the same bucket, as worker processes do.
    const limiter = () => new SharedRateLimit(ds.prisma, schema, "turns-test", { tokensPerMinute: TOKENS_PER_MINUTE });
    const granted: Array<{ at: number; tokens: number }> = [];
    const started = performance.now();
    let stop = false;
    const contender = async () => {
      const own = limiter();
      while (!stop) {
        await own.acquire(SMALL);
        granted.push({ at: performance.now() - started, tokens: SMALL });
      }
    };
    const contenders = [contender(), contender(), contender()];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const asked = performance.now();
    const big = limiter()
      .acquire(BIG)
      .then(() => {
        granted.push({ at: performance.now() - started, tokens: BIG });
        return performance.now() - asked;
      });
    // Without turns it would wait for as long as the others ask: they stop after 15 s.
    const waited = await Promise.race([big, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 15_000))]);
    stop = true;
    await Promise.all([...contenders, big]);
    console.warn(`[shared rate limit turns] a full bucket's request waited ${Math.round(waited)} ms behind three workers taking ${SMALL} tokens at a time`);
    // Ahead of it: at most the three others' requests (1,200 tokens), then its own 1,000: ~2.2 s.
    expect(waited).toBeLessThan(5_000);
    // Never more than the bucket plus what refilled since the start (one request's slack for timing).
    const elapsed = granted.at(-1)!.at;
    const total = granted.reduce((sum, g) => sum + g.tokens, 0);
    expect(total).toBeLessThanOrEqual(BIG + (TOKENS_PER_MINUTE / 60_000) * elapsed + SMALL);
  }, 60_000);

  it("indexes a document whose embedding request needs a full bucket while other workers keep drawing on it, within its run's lease", async () => {
    const database = await target.freshDatabase();
    const ds = await target.open({
      database,
      embedder: { provider: "local", dimension: 32 },
      sync: { onWrite: "none", leaseMs: 5_000, rateLimit: { tokensPerMinute: TOKENS_PER_MINUTE } },
    });
    const schema = database.url === undefined ? undefined : (new URL(database.url).searchParams.get("schema") ?? undefined);
    const first = await ds.documents.create({ title: "first", source: "api", content: "a short note" });
    await ds.indexDocument(first.id);
    const { embedder } = await ds.prisma.document.findUniqueOrThrow({ where: { id: first.id }, select: { embedder: true } });
    // Three other workers' requests on the same bucket, one after another, as long as the run lasts.
    let stop = false;
    const contender = async () => {
      const own = new SharedRateLimit(ds.prisma, schema, embedder!, { tokensPerMinute: TOKENS_PER_MINUTE });
      while (!stop) await own.acquire(SMALL);
    };
    const contenders = [contender(), contender(), contender()];
    try {
      // More than a second of tokens in one request: it needs what a full bucket holds.
      const long = await ds.documents.create({ title: "long", source: "api", content: article(7, 30) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const outcome = await ds.indexDocument(long.id);
      // Starved, it waited until the lease ran out: LEASE_LOST, and the job would run again.
      expect(outcome.error?.code).toBeUndefined();
      expect(outcome.status).toBe("indexed");
    } finally {
      stop = true;
      await Promise.all(contenders);
    }
  }, 60_000);
});
