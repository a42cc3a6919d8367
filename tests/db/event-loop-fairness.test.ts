import { expect, it } from "vitest";
import { describeEachDatabase } from "../helpers/db.js";

describeEachDatabase(
  "queries and the event loop",
  (target) => {
    // PGlite settles a query without I/O: unless each query yields, a loop of queries is one run of
    // microtasks that keeps timers and process.nextTick (where Prisma starts a batch transaction) waiting.
    it("a loop that queries without pause lets a timer and a batch transaction run beside it", async () => {
      const ds = await target.open({ vectorStore: null });
      const LOOP = 200;
      let iterations = 0;
      let timerAt = -1;
      let batchAt = -1;
      setTimeout(() => (timerAt = iterations), 0);
      const batch = ds.prisma.$transaction([ds.prisma.document.count(), ds.prisma.user.count()]).then(() => (batchAt = iterations));
      for (; iterations < LOOP; iterations++) await ds.prisma.document.count();
      await batch;
      expect(timerAt, "the timer fired while the loop ran").toBeLessThan(LOOP);
      expect(timerAt).toBeGreaterThanOrEqual(0);
      expect(batchAt, "the batch committed while the loop ran").toBeLessThan(LOOP);
      expect(batchAt).toBeGreaterThanOrEqual(0);
    });
  },
  { neon: false },
);
