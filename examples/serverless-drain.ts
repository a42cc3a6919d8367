// Draining the sync outbox on serverless hosting, offline: no long-running worker, only an HTTP
// endpoint a scheduler (Vercel Cron, a queue's push trigger) calls with a secret.
//
//   npm run example:serverless
//
// In a Next.js app the endpoint is a route handler, app/api/dualstore/drain/route.ts:
//
//   import { createDrainHandler } from "dualstore";
//   import { getDualstore } from "@/lib/dualstore"; // opens it once per instance, migrate: false
//   export const GET = createDrainHandler(getDualstore, { secret: process.env.CRON_SECRET!, budgetMs: 20_000 });
//
// Here a node:http server plays the platform (toNodeListener adapts it to Request/Response).
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDrainHandler, createDualstore, toNodeListener, type DrainReport } from "dualstore";

const dataDir = fileURLToPath(new URL("./data/", import.meta.url));
const secret = process.env.DRAIN_SECRET ?? randomBytes(24).toString("base64url");
// Writes only enqueue: the endpoint (or the waitUntil drain below) indexes.
const ds = await createDualstore({ database: { driver: "pglite" }, sync: { onWrite: "enqueue" } });
const server = createServer(toNodeListener(createDrainHandler(ds, { secret, budgetMs: 1_000, batchSize: 2 })));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/dualstore/drain`;

try {
  const user = await ds.users.create({ email: "ops@example.com" });
  const files = (await readdir(dataDir)).filter((file) => file.endsWith(".md") && file !== "SOURCES.md").sort();
  for (const file of files) {
    await ds.documents.create({ userId: user.id, title: basename(file, ".md"), source: "upload", content: await readFile(join(dataDir, file), "utf8") });
  }
  console.log(`Wrote ${files.length} documents; ${(await ds.sync.stats()).due} index jobs are due.`);

  const refused = await fetch(endpoint, { method: "POST" });
  console.log(`without the secret: ${refused.status}`);

  // What a scheduler does: call, and call again while the answer says work is left.
  for (let call = 1; ; call++) {
    const response = await fetch(endpoint, { method: "POST", headers: { authorization: `Bearer ${secret}` } });
    const report = (await response.json()) as DrainReport;
    console.log(`call ${call}: ${response.status}, ${report.done} done in ${report.elapsedMs} ms (budget ${report.budgetMs} ms), ${report.due} due, work left: ${report.workLeft ? "yes" : "no"}`);
    if (!report.workLeft) break;
  }
  // Jobs are not documents: a run cut off by the budget can leave a sweep job behind it.
  const indexed = await ds.documents.list({ userId: user.id, indexed: true, limit: 100 });
  console.log(`${indexed.items.length} documents indexed through the endpoint.`);

  // Draining right after a write: on Vercel `waitUntil(ds.sync.drain({ budgetMs }))` (or Next.js's
  // `after()`) keeps the function alive until it ends, after the response has gone out.
  const edited = await ds.documents.create({ userId: user.id, title: "late-note", source: "api", content: "a note written after the import" });
  const afterWrite = ds.sync.drain({ budgetMs: 5_000 });
  console.log(`response sent for ${edited.title}; draining in the background`);
  const drained = await afterWrite;
  console.log(`after-write drain: ${drained.done} done; ${(await ds.documents.get(edited.id)).indexStatus}`);
} finally {
  server.close();
  await ds.close();
}
