// The repositories and the sync pipeline against a real Neon database. Runs only when
// NEON_DATABASE_URL is set; works in a schema of its own and drops it afterwards.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDualstore, type Dualstore } from "../../src/index.js";

const url = process.env.NEON_DATABASE_URL;

if (!url) {
  console.warn("Skipping the live Neon suite: NEON_DATABASE_URL not set.");
  describe.skip("dualstore on Neon (live)", () => {
    it("runs against a real Neon database once NEON_DATABASE_URL is set", () => {});
  });
} else {
  describe("dualstore on Neon (live)", () => {
    const schema = `dualstore_live_${randomBytes(4).toString("hex")}`;
    let ds: Dualstore;
    beforeAll(async () => {
      ds = await createDualstore({ database: { url, driver: "neon", schema }, vectorStore: { provider: "memory" }, sync: { onWrite: "none" }, env: {} });
    });
    afterAll(async () => {
      await ds?.prisma.$executeRawUnsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await ds?.close();
    });

    it("migrates, writes through the repositories, indexes, searches and deletes", async () => {
      expect((await ds.migrate()).applied).toEqual([]);
      const user = await ds.users.create({ email: `live-${schema}@example.com` });
      const chat = await ds.chats.create({ userId: user.id, title: "live" });
      await ds.chats.messages.appendMany(chat.id, [{ role: "user", content: "hello" }, { role: "assistant", content: "hi" }]);
      const doc = await ds.documents.create({ userId: user.id, title: "Neon", source: "api", content: "Neon branches copy a database in seconds." });
      expect(await ds.indexDocument(doc.id)).toMatchObject({ status: "indexed" });
      expect((await ds.search("branches copy database", { userId: user.id, minScore: 0 }))[0]!.document.id).toBe(doc.id);
      await ds.documents.delete(doc.id);
      expect(await ds.search("branches", { userId: user.id, minScore: 0 })).toEqual([]);
      expect((await ds.health()).database.status).toBe("up");
    });
  });
}
