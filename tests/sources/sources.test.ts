import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  artifactsSource,
  defineSource,
  messagesSource,
  MemoryVectorStore,
  NotFoundError,
  SourceError,
  ValidationError,
  type Dualstore,
  type QueryEvent,
  type SourceHit,
} from "../../src/index.js";
import type { PrismaClient } from "../../src/db/prisma.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";

interface Product {
  id: number;
  name: string;
  description: string | null;
  category: string;
  price: number;
}

interface Ticket {
  id: string;
  ownerId: string;
  subject: string;
  body: string;
  status: string;
}

describeEachDatabase(
  "sources",
  (target) => {
    // The app's tables live in a schema of their own, as an app's `public` would.
    const app = `shop_${randomBytes(4).toString("hex")}`;
    const products = defineSource<Product, "products">({
      name: "products",
      table: `${app}.Product`,
      key: "id",
      text: ["name", "description"],
      metadata: ["category"],
      language: "en",
    });
    const tickets = defineSource<Ticket, "tickets">({
      name: "tickets",
      table: `${app}.Ticket`,
      key: "id",
      text: (row) => `${row.subject}\n\n${row.body}`,
      owner: "ownerId",
      metadata: ["status"],
    });
    // Declared wrongly, to be refused by name.
    const misdeclared = [
      defineSource({ name: "missing", table: `${app}.Nothing`, key: "id", text: ["body"] }),
      defineSource({ name: "nocolumn", table: `${app}.Note`, key: "slug", text: ["body", "title"] }),
      defineSource({ name: "notunique", table: `${app}.Note`, key: "slug", text: ["body"] }),
    ];
    const statements: QueryEvent[] = [];
    const store = new MemoryVectorStore();
    let ds: Dualstore<PrismaClient>;
    const sql = (statement: string, ...values: unknown[]) => ds.prisma.$executeRawUnsafe(statement, ...values);
    const jobs = () => ds.prisma.syncJob.count({ where: { status: { in: ["PENDING", "RUNNING"] } } });
    const mirrorOf = (source: string, key: string) => ds.prisma.document.findUnique({ where: { sourceName_sourceKey: { sourceName: source, sourceKey: key } } });

    beforeAll(async () => {
      ds = await target.open({
        database: { onQuery: (event) => statements.push(event) },
        vectorStore: store,
        sources: [products, tickets, ...misdeclared, messagesSource({ name: "replies", roles: ["assistant"] }), artifactsSource()],
        sync: { onWrite: "none" },
      });
      await sql(`CREATE SCHEMA "${app}"`);
      await sql(`CREATE TABLE "${app}"."Product" (id serial PRIMARY KEY, name text NOT NULL, description text, category text NOT NULL, price int NOT NULL DEFAULT 0)`);
      await sql(`CREATE TABLE "${app}"."Ticket" (id text PRIMARY KEY, "ownerId" text NOT NULL, subject text NOT NULL, body text NOT NULL, status text NOT NULL)`);
      await sql(`CREATE TABLE "${app}"."Note" (slug text, body text)`);
      // Rows written before dualstore was there: the install backfills them.
      await sql(
        `INSERT INTO "${app}"."Product" (name, description, category) VALUES
           ('Espresso grinder', 'Burr grinder with fifty settings for espresso and filter coffee', 'kitchen'),
           ('Trail tent', 'Two-person tent for alpine camping, light and storm proof', 'outdoor'),
           ('Chef knife', 'Forged steel knife for slicing vegetables', 'kitchen')`,
      );
      await sql(
        `INSERT INTO "${app}"."Ticket" VALUES
           ('t-alice-1', 'alice', 'Grinder makes noise', 'My espresso grinder squeaks when grinding coffee beans', 'open'),
           ('t-bob-1', 'bob', 'Tent pole broke', 'The tent pole snapped during a storm while camping', 'open')`,
      );
    });

    afterAll(async () => {
      await sql(`DROP SCHEMA IF EXISTS "${app}" CASCADE`).catch(() => undefined);
    });

    it("install puts the triggers in place and backfills existing rows through the outbox, and a second install enqueues nothing", async () => {
      const reports = await ds.sources.install({ names: ["products", "tickets"], batchSize: 2 });
      expect(reports).toEqual([
        { name: "products", table: `${app}.Product`, rows: 3, enqueued: 3, retired: 0 },
        { name: "tickets", table: `${app}.Ticket`, rows: 2, enqueued: 2, retired: 0 },
      ]);
      expect(await jobs()).toBe(5);
      await ds.sync.drain();
      expect(await ds.sources.install({ names: ["products", "tickets"] })).toEqual([
        { name: "products", table: `${app}.Product`, rows: 3, enqueued: 0, retired: 0 },
        { name: "tickets", table: `${app}.Ticket`, rows: 2, enqueued: 0, retired: 0 },
      ]);
      expect(await jobs()).toBe(0);
      const statuses = await ds.sources.status();
      expect(statuses.slice(0, 2)).toEqual([
        { name: "products", installed: true, outdated: false, rows: 3, indexed: 3, pending: 0, failed: 0, deleting: 0 },
        { name: "tickets", installed: true, outdated: false, rows: 2, indexed: 2, pending: 0, failed: 0, deleting: 0 },
      ]);
      expect(statuses.slice(2, 5).map((status) => [status.name, status.installed, status.problem?.code])).toEqual([
        ["missing", false, "SOURCE_TABLE_MISSING"],
        ["nocolumn", false, "SOURCE_TABLE_MISSING"],
        ["notunique", false, "SOURCE_KEY_NOT_UNIQUE"],
      ]);
    });

    it("a raw-SQL insert, update and delete are indexed, re-indexed and removed by the worker", async () => {
      await sql(`INSERT INTO "${app}"."Product" (id, name, description, category) VALUES (100, 'Kayak', 'Sea kayak for coastal paddling trips', 'outdoor')`);
      expect(await jobs()).toBe(1);
      await ds.sync.drain();
      let hits = await ds.sources.search("coastal paddling kayak", { sources: [products], userId: null, topK: 1 });
      expect(hits[0]).toMatchObject({ source: "products", key: "100", row: { id: 100, name: "Kayak", category: "outdoor" } });
      expect(hits[0]!.chunk.text).toContain("Sea kayak");

      await sql(`UPDATE "${app}"."Product" SET description = 'Inflatable canoe for river rafting' WHERE id = 100`);
      await ds.sync.drain();
      hits = await ds.sources.search("river rafting canoe", { sources: [products], userId: null, topK: 1 });
      expect(hits[0]).toMatchObject({ key: "100", row: { description: "Inflatable canoe for river rafting" } });
      const mirror = (await mirrorOf("products", "100"))!;
      expect(mirror.indexStatus).toBe("INDEXED");
      const stored = (await store.fetch(mirror.vectorIds, "")).map((record) => record.metadata.text);
      expect(stored.join(" ")).toContain("Inflatable canoe");
      expect(stored.join(" ")).not.toContain("Sea kayak");

      await sql(`DELETE FROM "${app}"."Product" WHERE id = 100`);
      // Hidden at once, before the worker ran.
      expect((await ds.sources.search("river rafting canoe", { sources: [products], userId: null })).map((hit) => hit.key)).not.toContain("100");
      await ds.sync.drain();
      expect(await ds.prisma.document.count({ where: { id: mirror.id } })).toBe(0);
      expect(await store.fetch(mirror.vectorIds, "")).toEqual([]);
    });

    it("an update of a column the source does not read enqueues nothing", async () => {
      await sql(`UPDATE "${app}"."Product" SET price = price + 1`);
      expect(await jobs()).toBe(0);
    });

    it("a rolled-back transaction leaves no job and no mirror", async () => {
      const before = await ds.prisma.syncJob.count();
      await expect(
        ds.prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO "${app}"."Product" (id, name, description, category) VALUES (200, 'Ghost', 'never committed', 'none')`);
          await tx.$executeRawUnsafe(`UPDATE "${app}"."Ticket" SET body = 'rolled back' WHERE id = 't-alice-1'`);
          throw new Error("the app changed its mind");
        }),
      ).rejects.toThrow("the app changed its mind");
      expect(await ds.prisma.syncJob.count()).toBe(before);
      expect(await mirrorOf("products", "200")).toBeNull();
    });

    it("search over two sources returns typed hits, hydrated in one SQL statement per source", async () => {
      await ds.sources.search("espresso grinder", { sources: [products, tickets], userId: "alice" }); // the catalog is read once, first
      statements.length = 0;
      const hits = await ds.sources.search("espresso grinder coffee", { sources: [products, tickets], userId: "alice", topK: 4 });
      const hydrations = statements.filter((event) => event.sql.includes(`"${app}"`));
      expect(hydrations).toHaveLength(2);
      expect(hydrations.filter((event) => event.sql.includes(`"${app}"."Product"`))).toHaveLength(1);
      expect(hydrations.filter((event) => event.sql.includes(`"${app}"."Ticket"`))).toHaveLength(1);
      expect(new Set(hits.map((hit) => hit.source))).toEqual(new Set(["products", "tickets"]));
      for (const hit of hits) {
        if (hit.source === "tickets") {
          const ticket: Ticket = hit.row;
          expect(ticket.ownerId).toBe("alice");
        } else {
          const product: Product = hit.row;
          expect(typeof product.id).toBe("number");
        }
        expect(Object.keys(hit.row).some((key) => key.startsWith("__dualstore"))).toBe(false);
      }
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
    });

    it("owner scoping holds across tenants: another owner's rows never come back, public rows do", async () => {
      const asBob = await ds.as("bob").sources.search("espresso grinder squeaks coffee tent", { sources: [tickets, products], topK: 10, minScore: -1 });
      expect(asBob.filter((hit) => hit.source === "tickets").map((hit) => hit.key)).toEqual(["t-bob-1"]);
      expect(asBob.some((hit) => hit.source === "products")).toBe(true);
      const anonymous = await ds.sources.search("espresso grinder squeaks coffee tent storm", { sources: ["tickets"], userId: null, topK: 10, minScore: -1 });
      expect(anonymous).toEqual([]);
      // Alice's ticket moves to carol: the trigger updates the owner in the same transaction, so alice loses it at once.
      await sql(`UPDATE "${app}"."Ticket" SET "ownerId" = 'carol' WHERE id = 't-alice-1'`);
      expect((await ds.sources.search("espresso grinder squeaks", { sources: [tickets], userId: "alice", topK: 10, minScore: -1 })).map((hit) => hit.key)).toEqual([]);
      await ds.sync.drain();
      expect((await ds.sources.search("espresso grinder squeaks", { sources: [tickets], userId: "carol", topK: 10, minScore: -1 })).map((hit) => hit.key)).toEqual(["t-alice-1"]);
      await sql(`UPDATE "${app}"."Ticket" SET "ownerId" = 'alice' WHERE id = 't-alice-1'`);
      await ds.sync.drain();
    });

    it("mirrors stay out of the document APIs and document search", async () => {
      const mirror = (await mirrorOf("tickets", "t-alice-1"))!;
      expect((await ds.documents.list({ userId: "alice" })).items).toEqual([]);
      await rejectsWith(ds.documents.get(mirror.id), NotFoundError);
      expect(await ds.search("espresso grinder squeaks", { userId: "alice", minScore: -1 })).toEqual([]);
      expect(await ds.search("espresso grinder", { userId: null, minScore: -1 })).toEqual([]);
    });

    it("filters on metadata columns, and refuses a column a searched source does not declare", async () => {
      const kitchen = await ds.sources.search("knife grinder tent", { sources: [products], userId: null, topK: 10, filter: { category: "kitchen" } });
      expect(kitchen.length).toBeGreaterThan(0);
      for (const hit of kitchen) expect(hit.row.category).toBe("kitchen");
      const error = await rejectsWith(ds.sources.search("x", { sources: [products, tickets], userId: null, filter: { category: "kitchen" } }), ValidationError);
      expect(error.issues).toEqual([{ path: "filter.category", message: 'source "tickets" declares no metadata column "category"' }]);
    });

    it("reconcile covers source vectors: a lost vector is found, re-indexed and nothing is left", async () => {
      const mirror = (await mirrorOf("products", "1"))!;
      await store.delete([mirror.vectorIds[0]!], "");
      const report = await ds.reconcile({ fix: true });
      expect(report.missing).toMatchObject({ count: 1, documents: 1 });
      await ds.sync.drain();
      expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
      expect((await ds.sources.search("burr grinder espresso", { sources: [products], userId: null, topK: 1 }))[0]).toMatchObject({ key: "1" });
    });

    it("names unknown sources, missing tables and columns, and keys without a unique index", async () => {
      expect((await rejectsWith(ds.sources.search("x", { sources: ["nope"], userId: null }), SourceError)).code).toBe("SOURCE_UNKNOWN");
      const codes = [];
      for (const name of ["missing", "nocolumn", "notunique"]) {
        const error = await rejectsWith(ds.sources.install({ names: [name] }), SourceError);
        codes.push([error.code, error.source, error.message]);
      }
      expect(codes).toEqual([
        ["SOURCE_TABLE_MISSING", "missing", expect.stringContaining(`table "${app}.Nothing" does not exist`)],
        ["SOURCE_TABLE_MISSING", "nocolumn", expect.stringContaining('has no column "title"')],
        ["SOURCE_KEY_NOT_UNIQUE", "notunique", expect.stringContaining('key column "slug"')],
      ]);
    });

    it("remove drops the trigger and deletes the source's mirrors and vectors; later writes enqueue nothing", async () => {
      const ids = (await ds.prisma.document.findMany({ where: { sourceName: "tickets" }, select: { vectorIds: true } })).flatMap((d) => d.vectorIds);
      expect(ids.length).toBeGreaterThan(0);
      expect(await ds.sources.remove("tickets")).toEqual({ name: "tickets", retired: 2 });
      await ds.sync.drain();
      expect(await ds.prisma.document.count({ where: { sourceName: "tickets" } })).toBe(0);
      expect(await store.fetch(ids, "")).toEqual([]);
      await sql(`INSERT INTO "${app}"."Ticket" VALUES ('t-late', 'alice', 'late', 'after removal', 'open')`);
      expect(await jobs()).toBe(0);
      expect((await ds.sources.status()).find((status) => status.name === "tickets")).toMatchObject({ installed: false, outdated: false, rows: 0 });
      // Installing again mirrors the table as it is now.
      expect((await ds.sources.install({ names: ["tickets"] }))[0]).toMatchObject({ rows: 3, enqueued: 3 });
      await ds.sync.drain();
    });

    it("built-in sources: assistant replies and artifacts of earlier chats are recalled, for their owner only", async () => {
      const ada = await ds.users.create({ email: `ada-${app}@example.com` });
      const eve = await ds.users.create({ email: `eve-${app}@example.com` });
      const chat = await ds.chats.create({ userId: ada.id, title: "Sourdough" });
      const [, reply] = await ds.chats.messages.appendMany(chat.id, [
        { role: "user", content: "How long should sourdough ferment?" },
        { role: "assistant", content: "Bulk fermentation of sourdough takes four to six hours at room temperature." },
      ]);
      await ds.artifacts.create({ userId: ada.id, messageId: reply!.id, type: "markdown", title: "Fermentation schedule", content: "Feed the starter, mix, bulk ferment, shape, proof overnight." });
      expect((await ds.sources.install({ names: ["replies", "artifacts"] })).map((report) => report.enqueued)).toEqual([1, 1]);
      // Later messages reach the outbox through the trigger, whoever writes them.
      await ds.chats.messages.append(chat.id, { role: "assistant", content: "Proof the shaped dough overnight in the fridge." });
      await ds.sync.drain();
      const recalled = await ds.as(ada.id).sources.search("sourdough fermentation hours", { sources: ["replies", "artifacts"], topK: 5 });
      expect(recalled[0]).toMatchObject({ source: "replies", key: reply!.id, row: { chatId: chat.id, role: "assistant" } });
      expect(recalled.some((hit) => hit.source === "artifacts")).toBe(true);
      // The user's own question is not a reply: it is not indexed.
      expect(recalled.some((hit) => String(hit.row.content).startsWith("How long"))).toBe(false);
      expect(await ds.as(eve.id).sources.search("sourdough fermentation hours", { sources: ["replies", "artifacts"], minScore: -1 })).toEqual([]);
    });

    it("typed hits: a hit's row has the source's row type", () => {
      const typed = (hit: SourceHit<Product, "products">) => hit.row.price;
      expect(typeof typed).toBe("function");
    });
  },
  { neon: false },
);
