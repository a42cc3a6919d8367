import { beforeAll, expect, it } from "vitest";
import { NotFoundError, ValidationError, type Dualstore, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("chats and messages", (target) => {
  let ds: Dualstore<PrismaClient>;
  let user: User;
  let other: User;
  beforeAll(async () => {
    ds = await target.open();
    user = await ds.users.create({ email: "chatter@example.com" });
    other = await ds.users.create({ email: "other@example.com" });
  });

  it("creates, renames, archives and deletes a chat", async () => {
    const chat = await ds.chats.create({ userId: user.id, title: "Plans" });
    expect(chat).toMatchObject({ title: "Plans", archived: false, userId: user.id });
    expect(await ds.chats.rename(chat.id, "Better plans")).toMatchObject({ title: "Better plans" });
    expect(await ds.chats.archive(chat.id)).toMatchObject({ archived: true });
    expect(await ds.chats.archive(chat.id, false)).toMatchObject({ archived: false });
    await ds.chats.messages.append(chat.id, { role: "user", content: "hello" });
    await ds.chats.delete(chat.id);
    await rejectsWith(ds.chats.get(chat.id), NotFoundError);
    expect(await ds.prisma.message.count({ where: { chatId: chat.id } })).toBe(0);
  });

  it("requires an owner unless the call goes through a user scope", async () => {
    const error = await rejectsWith(ds.chats.create({ title: "orphan" }), ValidationError);
    expect(error.fields).toEqual(["userId"]);
    const viaScope = await ds.as(user.id).chats.create({ title: "scoped" });
    expect(viaScope.userId).toBe(user.id);
  });

  it("lists a user's chats newest first, filtered by archived, page by page", async () => {
    const u = await ds.users.create({ email: "lists-chats@example.com" });
    const chats = [];
    for (let i = 0; i < 5; i++) chats.push(await ds.chats.create({ userId: u.id, title: `c${i}` }));
    await ds.chats.archive(chats[0]!.id);
    const newestFirst = chats.map((c) => c.id).reverse();
    const pageOne = await ds.chats.list({ userId: u.id, limit: 3 });
    expect(pageOne.items.map((c) => c.id)).toEqual(newestFirst.slice(0, 3));
    const pageTwo = await ds.chats.list({ userId: u.id, limit: 3, cursor: pageOne.nextCursor! });
    expect(pageTwo.items.map((c) => c.id)).toEqual(newestFirst.slice(3));
    expect(pageTwo.nextCursor).toBeNull();
    expect((await ds.chats.list({ userId: u.id, archived: true })).items.map((c) => c.id)).toEqual([chats[0]!.id]);
    expect((await ds.chats.list({ userId: u.id, archived: false })).items).toHaveLength(4);
    expect(await ds.chats.list({ userId: other.id })).toEqual({ items: [], nextCursor: null });
  });

  it("appends messages in order with their model and usage, and reads them back oldest first", async () => {
    const chat = await ds.chats.create({ userId: user.id, title: "ordered" });
    const one = await ds.chats.messages.append(chat.id, { role: "system", content: "be brief" });
    const many = await ds.chats.messages.appendMany(chat.id, [
      { role: "user", content: "q1" },
      { role: "assistant", content: "a1", model: "gpt-x", tokensUsed: 12, latencyMs: 340 },
      { role: "user", content: "q2" },
    ]);
    expect(many.map((m) => m.content)).toEqual(["q1", "a1", "q2"]);
    expect(many[1]).toMatchObject({ model: "gpt-x", tokensUsed: 12, latencyMs: 340 });
    const page = await ds.chats.messages.list(chat.id, { limit: 2 });
    expect(page.items.map((m) => m.content)).toEqual(["be brief", "q1"]);
    const rest = await ds.chats.messages.list(chat.id, { limit: 2, cursor: page.nextCursor! });
    expect(rest.items.map((m) => m.content)).toEqual(["a1", "q2"]);
    expect(rest.nextCursor).toBeNull();
    const withMessages = await ds.chats.get(chat.id, { withMessages: true });
    expect(withMessages.messages.map((m) => m.id)).toEqual([one.id, ...many.map((m) => m.id)]);
    expect(withMessages.updatedAt.getTime()).toBeGreaterThanOrEqual(chat.updatedAt.getTime());
  });

  it("keeps append order for a large batch and for quick successive appends", async () => {
    const chat = await ds.chats.create({ userId: user.id, title: "bulk" });
    const contents = Array.from({ length: 300 }, (_, i) => `m${i}`);
    await ds.chats.messages.appendMany(chat.id, contents.map((content) => ({ role: "user" as const, content })));
    for (let i = 0; i < 5; i++) await ds.chats.messages.append(chat.id, { role: "assistant", content: `after${i}` });
    const all = await ds.chats.get(chat.id, { withMessages: true });
    expect(all.messages.map((m) => m.content)).toEqual([...contents, ...Array.from({ length: 5 }, (_, i) => `after${i}`)]);
  });

  it("writes none of a batch when one message is invalid, naming its index", async () => {
    const chat = await ds.chats.create({ userId: user.id, title: "atomic" });
    const error = await rejectsWith(
      ds.chats.messages.appendMany(chat.id, [
        { role: "user", content: "fine" },
        { role: "robot" as "user", content: "bad role" },
        { role: "assistant", content: "ok", tokensUsed: -1 },
      ]),
      ValidationError,
    );
    expect(error.fields.sort()).toEqual(["1.role", "2.tokensUsed"]);
    expect(await ds.prisma.message.count({ where: { chatId: chat.id } })).toBe(0);
  });

  it("hides another user's chat and its messages from a scope", async () => {
    const theirs = await ds.chats.create({ userId: other.id, title: "private" });
    await ds.chats.messages.append(theirs.id, { role: "user", content: "secret" });
    const scoped = ds.as(user.id);
    await rejectsWith(scoped.chats.get(theirs.id), NotFoundError);
    await rejectsWith(scoped.chats.messages.list(theirs.id), NotFoundError);
    await rejectsWith(scoped.chats.messages.append(theirs.id, { role: "user", content: "intrude" }), NotFoundError);
    await rejectsWith(scoped.chats.rename(theirs.id, "mine now"), NotFoundError);
    await rejectsWith(scoped.chats.archive(theirs.id), NotFoundError);
    await rejectsWith(scoped.chats.delete(theirs.id), NotFoundError);
    expect((await scoped.chats.list({ userId: other.id })).items).toEqual([]);
    expect((await ds.chats.get(theirs.id, { withMessages: true })).messages).toHaveLength(1);
  });

  it("reports unknown chats and bad titles with typed errors", async () => {
    await rejectsWith(ds.chats.get("nope"), NotFoundError);
    await rejectsWith(ds.chats.messages.append("nope", { role: "user", content: "x" }), NotFoundError);
    await rejectsWith(ds.chats.create({ userId: "nope", title: "x" }), NotFoundError);
    const chat = await ds.chats.create({ userId: user.id, title: "t" });
    expect((await rejectsWith(ds.chats.rename(chat.id, ""), ValidationError)).fields).toEqual([""]);
  });
});
