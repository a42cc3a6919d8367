import { beforeAll, expect, it } from "vitest";
import { ConflictError, NotFoundError, type Dualstore, type QueryEvent } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("ds.transaction", (target) => {
  let ds: Dualstore<PrismaClient>;
  const statements: QueryEvent[] = [];
  beforeAll(async () => {
    ds = await target.open({ database: { onQuery: (event) => statements.push(event) } });
  });

  it("commits every write of the callback together", async () => {
    const { user, chat } = await ds.transaction(async (tx) => {
      const user = await tx.users.create({ email: "tx-ok@example.com" });
      const chat = await tx.chats.create({ userId: user.id, title: "t" });
      await tx.chats.messages.appendMany(chat.id, [{ role: "user", content: "a" }, { role: "assistant", content: "b" }]);
      await tx.settings.update(user.id, { ragTopK: 9 });
      return { user, chat };
    });
    expect((await ds.settings.get(user.id)).ragTopK).toBe(9);
    expect((await ds.chats.get(chat.id, { withMessages: true })).messages).toHaveLength(2);
  });

  it("leaves nothing behind when a step fails midway", async () => {
    await ds.users.create({ email: "taken@example.com" });
    const counts = () => Promise.all([ds.prisma.user.count(), ds.prisma.chat.count(), ds.prisma.message.count(), ds.prisma.document.count()]);
    const before = await counts();
    await rejectsWith(
      ds.transaction(async (tx) => {
        const user = await tx.users.create({ email: "half@example.com" });
        const chat = await tx.chats.create({ userId: user.id, title: "t" });
        await tx.chats.messages.append(chat.id, { role: "user", content: "a" });
        await tx.documents.create({ userId: user.id, title: "d", source: "api", content: "c" });
        await tx.users.create({ email: "taken@example.com" });
      }),
      ConflictError,
    );
    expect(await counts()).toEqual(before);
    await rejectsWith(ds.users.getByEmail("half@example.com"), NotFoundError);
  });

  it("rolls back when the callback itself throws", async () => {
    const before = await ds.prisma.user.count();
    await expect(
      ds.transaction(async (tx) => {
        await tx.users.create({ email: "thrown@example.com" });
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await ds.prisma.user.count()).toBe(before);
  });

  it("keeps a scoped transaction inside its user's rows", async () => {
    const me = await ds.users.create({ email: "scoped-tx@example.com" });
    const other = await ds.users.create({ email: "scoped-other@example.com" });
    const theirs = await ds.chats.create({ userId: other.id, title: "theirs" });
    await rejectsWith(
      ds.as(me.id).transaction(async (tx) => {
        await tx.chats.create({ title: "mine" });
        await tx.chats.rename(theirs.id, "stolen");
      }),
      NotFoundError,
    );
    expect((await ds.chats.list({ userId: me.id })).items).toEqual([]);
    expect((await ds.chats.get(theirs.id)).title).toBe("theirs");
  });

  it("reads pages in a constant number of statements, whatever the page size (no N+1)", async () => {
    const user = await ds.users.create({ email: "n-plus-one@example.com" });
    for (let i = 0; i < 30; i++) {
      const chat = await ds.chats.create({ userId: user.id, title: `c${i}` });
      await ds.chats.messages.appendMany(chat.id, [{ role: "user", content: "q" }, { role: "assistant", content: "a" }]);
      await ds.documents.create({ userId: user.id, title: `d${i}`, source: "api", content: "x" });
    }
    const count = async (work: () => Promise<unknown>) => {
      statements.length = 0;
      await work();
      return statements.length;
    };
    const small = await count(() => ds.chats.list({ userId: user.id, limit: 2 }));
    const large = await count(() => ds.chats.list({ userId: user.id, limit: 30 }));
    expect(large).toBe(small);
    expect(large).toBe(1);
    expect(await count(() => ds.documents.list({ userId: user.id, limit: 30 }))).toBe(1);
    const chat = (await ds.chats.list({ userId: user.id, limit: 1 })).items[0]!;
    expect(await count(() => ds.chats.get(chat.id, { withMessages: true }))).toBeLessThanOrEqual(2);
  });
});
