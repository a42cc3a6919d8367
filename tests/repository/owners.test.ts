import { beforeAll, expect, it } from "vitest";
import { NotFoundError, type Dualstore } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("external owners: an app's own user ids", (target) => {
  let ds: Dualstore<PrismaClient>;
  beforeAll(async () => {
    ds = await target.open({ owners: "external", vectorStore: null });
  });

  const ownerRows = (userId: string) => ds.prisma.user.findMany({ where: { id: userId }, select: { id: true, email: true } });

  it("own chats, messages, artifacts and settings without ever being created as users", async () => {
    const me = ds.as("app-user-1");
    const chat = await me.chats.create({ title: "Orders" });
    const [message] = await me.chats.messages.appendMany(chat.id, [{ role: "user", content: "Where is order 42?" }]);
    await me.artifacts.create({ type: "json", content: "{}", messageId: message!.id });
    expect(await me.settings.get("app-user-1")).toMatchObject({ persisted: false, ragTopK: 5 });
    await me.settings.update("app-user-1", { ragTopK: 8 });

    expect((await ds.chats.list({ userId: "app-user-1" })).items.map((c) => c.id)).toEqual([chat.id]);
    expect((await ds.artifacts.list({ userId: "app-user-1" })).items).toHaveLength(1);
    expect(await ds.settings.get("app-user-1")).toMatchObject({ persisted: true, ragTopK: 8 });
    // One minimal owner row, with no email, made on first use.
    expect(await ownerRows("app-user-1")).toEqual([{ id: "app-user-1", email: null }]);
  });

  it("keep one owner's rows from another, as dualstore's users do", async () => {
    const chat = await ds.as("app-user-2").chats.create({ title: "Mine" });
    await rejectsWith(ds.as("app-user-3").chats.get(chat.id), NotFoundError);
    await rejectsWith(ds.as("app-user-3").chats.messages.append(chat.id, { role: "user", content: "hi" }), NotFoundError);
    await rejectsWith(ds.as("app-user-3").settings.get("app-user-2"), NotFoundError);
  });

  it("get exactly one owner row when their first writes race", async () => {
    const chats = await Promise.all(Array.from({ length: 6 }, (_, i) => ds.chats.create({ userId: "app-user-race", title: `chat ${i}` })));
    expect(chats).toHaveLength(6);
    expect(await ownerRows("app-user-race")).toHaveLength(1);
  });

  it("get no owner row from a write that rolls back", async () => {
    await expect(
      ds.as("app-user-rolled-back").transaction(async (tx) => {
        await tx.chats.create({ title: "doomed" });
        throw new Error("the app's own step failed");
      }),
    ).rejects.toThrow("the app's own step failed");
    expect(await ownerRows("app-user-rolled-back")).toEqual([]);
  });

  it("leave nothing behind when the owner is deleted", async () => {
    const chat = await ds.chats.create({ userId: "app-user-gone", title: "Bye" });
    await ds.artifacts.create({ userId: "app-user-gone", type: "code", content: "x" });
    await ds.settings.update("app-user-gone", { theme: "dark" });
    await ds.users.delete("app-user-gone");
    await rejectsWith(ds.chats.get(chat.id), NotFoundError);
    expect(await ds.prisma.artifact.count({ where: { userId: "app-user-gone" } })).toBe(0);
    expect(await ds.prisma.userSettings.count({ where: { userId: "app-user-gone" } })).toBe(0);
    expect(await ownerRows("app-user-gone")).toEqual([]);
  });
});

describeEachDatabase("dualstore's own users as owners (the default)", (target) => {
  it("refuses an owner that is not a user, writing nothing", async () => {
    const ds = await target.open({ vectorStore: null });
    await rejectsWith(ds.chats.create({ userId: "not-a-user", title: "x" }), NotFoundError);
    await rejectsWith(ds.artifacts.create({ userId: "not-a-user", type: "code", content: "x" }), NotFoundError);
    expect(await ds.prisma.user.count()).toBe(0);
  });
}, { neon: false });
