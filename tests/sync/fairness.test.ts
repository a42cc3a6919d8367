// Jobs are leased in turns across document owners: one tenant's bulk import does not starve
// another tenant's single edit. On PGlite and PostgreSQL, through the outbox's own lease query.
import { expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import type { Dualstore } from "../../src/index.js";
import { JobQueue } from "../../src/sync/job-queue.js";
import { describeEachDatabase } from "../helpers/db.js";

/** Inserts `count` documents of `userId` and an INDEX job for each, all due `ageSeconds` ago (a bulk import queued earlier). */
async function queueImport(ds: Dualstore<PrismaClient>, userId: string, count: number, ageSeconds: number): Promise<void> {
  const schema = ds.database.schema ? `"${ds.database.schema}".` : "";
  await ds.prisma.$executeRawUnsafe(
    `INSERT INTO ${schema}"Document" (id, "userId", title, source, content, "updatedAt")
     SELECT $1 || '-' || n, $1, 'import ' || n, 'api', 'imported text ' || n, now() FROM generate_series(1, $2::int) AS n`,
    userId,
    count,
  );
  await ds.prisma.$executeRawUnsafe(
    `INSERT INTO ${schema}"SyncJob" (id, kind, "documentId", "runAt", "createdAt", "updatedAt")
     SELECT 'job-' || $1 || '-' || n, 'INDEX', $1 || '-' || n, now() - make_interval(secs => $3::float8) + n * interval '1 millisecond', now(), now()
       FROM generate_series(1, $2::int) AS n`,
    userId,
    count,
    ageSeconds,
  );
}

describeEachDatabase(
  "fair job leasing across owners",
  (target) => {
    it("leases another owner's edit in the first batch while one owner's 10,000-document import is queued", async () => {
      const ds = await target.open({ sync: { onWrite: "enqueue" } });
      const queue = new JobQueue(ds.prisma, ds.database.schema);
      await queueImport(ds, "bulk-tenant", 10_000, 60);
      const small = await ds.users.create({ email: `small-${Math.random().toString(36).slice(2)}@example.com` });
      const edit = await ds.documents.create({ userId: small.id, title: "one edit", source: "api", content: "a single edit" });

      const started = performance.now();
      const batch = await queue.lease("worker-1", 32, 60_000);
      const leaseMs = performance.now() - started;
      expect(batch).toHaveLength(32);
      expect(batch.map((job) => job.documentId)).toContain(edit.id);
      // The rest of the batch is the import, oldest first.
      expect(batch.filter((job) => job.documentId !== edit.id).map((job) => job.documentId).sort()).toEqual(
        Array.from({ length: 31 }, (_, i) => `bulk-tenant-${i + 1}`).sort(),
      );
      // A lease over 10,000 due jobs stays cheap next to the batch it starts (embedding 32 documents).
      expect(leaseMs).toBeLessThan(5_000);
    });

    it("leases every owner's oldest job within ⌈owners / batch size⌉ leases while the leased jobs run, whatever others queued", async () => {
      const ds = await target.open({ sync: { onWrite: "enqueue" } });
      const queue = new JobQueue(ds.prisma, ds.database.schema);
      // 40 owners with 25 queued jobs each, all older than the edit.
      for (let owner = 0; owner < 40; owner++) await queueImport(ds, `tenant-${owner}`, 25, 120 - owner);
      const late = await ds.users.create({ email: `late-${Math.random().toString(36).slice(2)}@example.com` });
      const edit = await ds.documents.create({ userId: late.id, title: "late edit", source: "api", content: "edited last" });

      const batchSize = 8;
      const bound = Math.ceil(41 / batchSize);
      const owners = new Map<string, number>();
      let leasedIn: number | undefined;
      for (let lease = 1; lease <= bound && leasedIn === undefined; lease++) {
        const batch = await queue.lease(`worker-${lease % 4}`, batchSize, 60_000);
        expect(batch).toHaveLength(batchSize);
        for (const job of batch) {
          const owner = job.documentId === edit.id ? late.id : job.documentId.replace(/-\d+$/, "");
          owners.set(owner, (owners.get(owner) ?? 0) + 1);
        }
        if (batch.some((job) => job.documentId === edit.id)) leasedIn = lease;
      }
      expect(leasedIn).toBeDefined();
      expect(leasedIn!).toBeLessThanOrEqual(bound);
      // Until then every owner got one turn at most: nobody's second job went before another's first.
      expect(Math.max(...owners.values())).toBe(1);
    });

    it("leases the same owner's jobs oldest first when it is the only one queued", async () => {
      const ds = await target.open({ sync: { onWrite: "enqueue" } });
      const queue = new JobQueue(ds.prisma, ds.database.schema);
      await queueImport(ds, "alone", 50, 30);
      const first = await queue.lease("w", 10, 60_000);
      const second = await queue.lease("w", 10, 60_000);
      const numbers = (jobs: typeof first) => jobs.map((job) => Number(job.documentId.split("-").at(-1))).sort((a, b) => a - b);
      expect(numbers(first)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(numbers(second)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    });
  },
  { neon: false },
);
