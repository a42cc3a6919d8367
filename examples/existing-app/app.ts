// An existing Prisma app (its own User, Product and Ticket, its own migrations) that adds
// dualstore side by side in the same PostgreSQL database, and makes product descriptions and
// support tickets searchable as sources: no copying rows into dualstore, no change to the app's
// writes. A trigger on each table enqueues the index job in the writer's own transaction, so
// even a raw-SQL write by another service is found once the worker ran.
//
//   npm run example:existing-app                     # PGlite in memory, shared by the app and dualstore
//   DATABASE_URL=postgres://... npm run example:existing-app
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPg } from "@prisma/adapter-pg";
import { createDualstore, defineSource } from "dualstore";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient, type Product, type Ticket } from "./generated/prisma/client.ts";
import { applyAppMigrations } from "./migrate.ts";

const url = process.env.DATABASE_URL;
// One database for both. Offline: a PGlite instance the app and dualstore share.
const pglite = url ? undefined : await PGlite.create({ extensions: { vector } });
const prisma = new PrismaClient({ adapter: pglite ? new PrismaPGlite(pglite) : new PrismaPg({ connectionString: url }) });
await applyAppMigrations(prisma);

// The app's tables as sources. Column names are the tables' (a field with @map has its column's name).
const products = defineSource<Product, "products">({
  name: "products",
  model: "Product",
  key: "id",
  text: ["name", "description"],
  metadata: ["category"],
  language: "en",
});
const tickets = defineSource<Ticket, "tickets">({
  name: "tickets",
  model: "Ticket",
  key: "id",
  text: (ticket) => `${ticket.subject}\n\n${ticket.body}`,
  owner: "userId", // a ticket is its author's: nobody else's search finds it
  metadata: ["status"],
});

// dualstore's tables go to the schema "dualstore" of the same database; the app's owners are its own user ids.
const ds = await createDualstore({ database: pglite ? { pglite } : { url }, owners: "external", sources: [products, tickets] });
try {
  // The app's data, written as the app always did.
  const ada = await prisma.user.upsert({ where: { email: "ada@example.com" }, update: {}, create: { email: "ada@example.com", name: "Ada" } });
  const bob = await prisma.user.upsert({ where: { email: "bob@example.com" }, update: {}, create: { email: "bob@example.com", name: "Bob" } });
  if ((await prisma.product.count()) === 0) {
    await prisma.product.createMany({
      data: [
        { name: "Espresso grinder", description: "Conical burr grinder with 40 settings, from espresso to French press.", category: "kitchen", priceCents: 18900 },
        { name: "Trail tent", description: "Two-person tent for alpine camping: 1.6 kg, storm-proof poles.", category: "outdoor", priceCents: 34900 },
        { name: "Chef knife", description: "Forged steel knife, 20 cm, for slicing vegetables and herbs.", category: "kitchen", priceCents: 9900 },
      ],
    });
    await prisma.ticket.create({ data: { userId: ada.id, subject: "Grinder squeaks", body: "The espresso grinder squeaks on the finest setting." } });
  }

  // Installs the triggers (idempotent) and backfills the rows already there through the outbox.
  for (const report of await ds.sources.install()) {
    console.log(`source ${report.name}: ${report.table}, ${report.rows} rows, ${report.enqueued} enqueued`);
  }

  // Another service writes with plain SQL, in a transaction of its own: the trigger sees it too.
  await prisma.$executeRaw`INSERT INTO "Ticket" (id, "userId", subject, body) VALUES (${"raw-" + Date.now()}, ${bob.id}, 'Tent pole snapped', 'A pole of the trail tent snapped in a storm on the second night.')`;

  const drained = await ds.sync.drain(); // in production: a worker process, ds.sync.runWorker()
  console.log(`worker: ${drained.done} jobs done`);

  for (const [who, user] of [["ada", ada], ["bob", bob]] as const) {
    const hits = await ds.as(user.id).sources.search("broken tent in a storm", { sources: [products, tickets], topK: 3 });
    console.log(`\n${who}? broken tent in a storm`);
    for (const hit of hits) {
      // Typed: a products hit's row is a Product, a tickets hit's row a Ticket.
      const label = hit.source === "products" ? `${hit.row.name} (${hit.row.category})` : `ticket "${hit.row.subject}" (${hit.row.status})`;
      console.log(`  ${hit.score.toFixed(3)}  ${hit.source}:${hit.key}  ${label}`);
    }
  }
  const status = await ds.sources.status();
  console.log(`\n${status.map((s) => `${s.name}: ${s.indexed}/${s.rows} indexed`).join(", ")}`);
} finally {
  await ds.close();
  await prisma.$disconnect();
  await pglite?.close();
}
