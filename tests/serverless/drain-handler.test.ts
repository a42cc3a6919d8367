// The drain endpoint as a platform calls it: a real HTTP request to a node:http server that
// serves the Fetch API handler, on PGlite and PostgreSQL.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, expect, it } from "vitest";
import { ConfigurationError, createDrainHandler, toNodeListener, type DrainReport } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { CountingEmbedder } from "../helpers/doubles.js";

const SECRET = "drain-secret-0123456789abcdef";

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(handler: (request: Request) => Promise<Response>): Promise<string> {
  const server = createServer(toNodeListener(handler));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/dualstore/drain`;
}

const call = (url: string, init: RequestInit = {}) => fetch(url, { method: "POST", ...init });
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describeEachDatabase(
  "serverless drain handler",
  (target) => {
    async function seeded(documents: number) {
      const embedder = new CountingEmbedder();
      const ds = await target.open({ embedder, sync: { onWrite: "enqueue" }, chunker: { chunkSize: 256, overlap: 0 } });
      const user = await ds.users.create({ email: `drain-${Math.random().toString(36).slice(2)}@example.com` });
      for (let i = 0; i < documents; i++) await ds.documents.create({ userId: user.id, title: `note ${i}`, source: "api", content: `numbat termite note ${i}` });
      return { ds, embedder };
    }

    it("answers 401 without the secret, or with a wrong one, and drains nothing", async () => {
      const { ds, embedder } = await seeded(2);
      const url = await serve(createDrainHandler(ds, { secret: SECRET }));
      for (const headers of [{}, bearer("wrong-secret-0123456789abcdef"), bearer(SECRET.slice(0, -1)), { authorization: SECRET }]) {
        const response = await call(url, { headers });
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
        const body = await response.text();
        expect(body).not.toContain(SECRET);
        expect(JSON.parse(body)).toMatchObject({ error: { code: "UNAUTHORIZED" } });
      }
      expect(embedder.requests).toBe(0);
      expect(await ds.sync.stats()).toMatchObject({ due: 2, pending: 2, done: 0 });
      expect((await call(url, { method: "PUT", headers: bearer(SECRET) })).status).toBe(405);
    });

    it("drains every due job with the secret and says no work is left", async () => {
      const { ds } = await seeded(5);
      const url = await serve(createDrainHandler(ds, { secret: SECRET, budgetMs: 20_000 }));
      const response = await call(url, { method: "GET", headers: bearer(SECRET) });
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const report = (await response.json()) as DrainReport;
      expect(report).toMatchObject({ processed: 5, done: 5, retried: 0, dead: 0, due: 0, pending: 0, workLeft: false, budgetMs: 20_000 });
      expect(await ds.prisma.document.count({ where: { indexStatus: "INDEXED" } })).toBe(5);
    });

    it("stops within its budget with partial progress, and the next call carries on where it stopped", async () => {
      const { ds, embedder } = await seeded(12);
      // Every embedding request takes 150 ms; one document per batch, so a batch is at least that.
      embedder.slowDown(150);
      const budgetMs = 700;
      const url = await serve(createDrainHandler(ds, { secret: SECRET, budgetMs, batchSize: 1 }));
      const started = performance.now();
      const first = (await (await call(url, { headers: bearer(SECRET) })).json()) as DrainReport;
      const wallMs = performance.now() - started;
      expect(first.done).toBeGreaterThan(0);
      expect(first.done).toBeLessThan(12);
      expect(first.elapsedMs).toBeLessThanOrEqual(budgetMs + 100);
      expect(wallMs).toBeLessThan(budgetMs + 500);
      expect(first).toMatchObject({ workLeft: true, dead: 0 });
      expect(first.due).toBe(12 - first.done);
      expect(await ds.prisma.document.count({ where: { indexStatus: "INDEXED" } })).toBe(first.done);

      // As a scheduler or queue would: call again while work is left.
      embedder.slowDown(0);
      let done = first.done;
      for (let calls = 0; calls < 20; calls++) {
        const next = (await (await call(url, { headers: bearer(SECRET) })).json()) as DrainReport;
        expect(next.elapsedMs).toBeLessThanOrEqual(budgetMs + 100);
        done += next.done;
        if (!next.workLeft) break;
      }
      expect(done).toBe(12);
      expect(await ds.sync.stats()).toMatchObject({ due: 0, pending: 0 });
      expect(await ds.prisma.document.count({ where: { indexStatus: "INDEXED" } })).toBe(12);
    });

    it("aborts a batch still running when the budget ends: its job goes back to the queue, attempt refunded", async () => {
      const { ds, embedder } = await seeded(1);
      embedder.slowDown(5_000);
      const url = await serve(createDrainHandler(ds, { secret: SECRET, budgetMs: 300 }));
      const started = performance.now();
      const report = (await (await call(url, { headers: bearer(SECRET) })).json()) as DrainReport;
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(report).toMatchObject({ processed: 1, done: 0, retried: 1, dead: 0, pending: 1 });
      const [job] = await ds.prisma.syncJob.findMany();
      expect(job).toMatchObject({ status: "PENDING", attempts: 0 });
    });

    it("opens the instance lazily, only for an authorised request", async () => {
      let opened = 0;
      const { ds } = await seeded(1);
      const url = await serve(
        createDrainHandler(
          async () => {
            opened++;
            return ds;
          },
          { secret: SECRET },
        ),
      );
      expect((await call(url)).status).toBe(401);
      expect(opened).toBe(0);
      expect((await call(url, { headers: bearer(SECRET) })).status).toBe(200);
      expect((await call(url, { headers: bearer(SECRET) })).status).toBe(200);
      expect(opened).toBe(1);
    });
  },
  { neon: false },
);

it("refuses a short secret, naming the option and never its value", () => {
  expect(() => createDrainHandler({ sync: {} as never }, { secret: "short-secret" })).toThrow(ConfigurationError);
  expect(() => createDrainHandler({ sync: {} as never }, { secret: "short-secret" })).toThrow(/^secret: /);
  expect(() => createDrainHandler({ sync: {} as never }, { secret: "short-secret" })).not.toThrow(/short-secret/);
});
