import { describe, expect, it } from "vitest";
import { withRetry } from "../../src/core/retry.js";
import { AbortedError, ProviderError } from "../../src/index.js";

const rateLimited = (retryAfterMs: number) => new ProviderError("test", "rate limited", { status: 429, retryable: true, retryAfterMs });

/** Runs `work` and returns what it threw and how long it took. */
async function timed(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await work();
    return { error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe("the retry policy's waits", () => {
  it("waits out a short Retry-After and succeeds", async () => {
    let attempts = 0;
    const { error, ms } = await timed(() =>
      withRetry(async () => {
        if (++attempts === 1) throw rateLimited(150);
        return "ok";
      }, { minDelayMs: 1 }),
    );
    expect(error).toBeUndefined();
    expect(attempts).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(140);
  });

  it("does not wait for a Retry-After longer than maxRetryAfterMs: the call fails at once with the server's error", async () => {
    let attempts = 0;
    const { error, ms } = await timed(() =>
      withRetry(async () => {
        attempts++;
        throw rateLimited(3_600_000);
      }, { minDelayMs: 1, maxRetryAfterMs: 60_000 }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).retryAfterMs).toBe(3_600_000);
    expect(attempts).toBe(1);
    expect(ms).toBeLessThan(1_000);
  });

  it("caps Retry-After at one minute by default", async () => {
    const { error, ms } = await timed(() => withRetry(async () => Promise.reject(rateLimited(61_000)), { minDelayMs: 1 }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(ms).toBeLessThan(1_000);
  });

  it("takes no retry whose wait would outlast the deadline, and reads the deadline afresh before each retry", async () => {
    let deadline = Date.now() + 10_000;
    let attempts = 0;
    const { error, ms } = await timed(() =>
      withRetry(
        async () => {
          attempts++;
          // The second failure comes after the deadline moved closer (a lease that was not renewed).
          if (attempts === 2) deadline = Date.now() + 100;
          throw rateLimited(50 * attempts ** 3);
        },
        { minDelayMs: 1, maxRetries: 5, deadline: () => deadline },
      ),
    );
    expect(error).toBeInstanceOf(ProviderError);
    // Attempt 1 waited 50 ms (well within the deadline); attempt 2 would have had to wait 400 ms, past the 100 ms left.
    expect(attempts).toBe(2);
    expect(ms).toBeLessThan(400);
  });

  it("stops waiting the moment its signal aborts, with AbortedError", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("lease lost")), 50);
    const { error, ms } = await timed(() => withRetry(async () => Promise.reject(rateLimited(30_000)), { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(ms).toBeLessThan(1_000);
  });
});
