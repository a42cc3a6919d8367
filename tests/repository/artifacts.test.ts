import { beforeAll, expect, it } from "vitest";
import { NotFoundError, ValidationError, type Dualstore, type User } from "../../src/index.js";
import { artifactTypes } from "../../src/repository/artifacts.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";

describeEachDatabase("artifacts", (target) => {
  let ds: Dualstore;
  let user: User;
  let other: User;
  beforeAll(async () => {
    ds = await target.open();
    user = await ds.users.create({ email: "maker@example.com" });
    other = await ds.users.create({ email: "someone@example.com" });
  });

  it("creates every artifact type and lists them by owner, type and message, newest first", async () => {
    const chat = await ds.chats.create({ userId: user.id, title: "c" });
    const message = await ds.chats.messages.append(chat.id, { role: "assistant", content: "here" });
    const made = [];
    for (const type of artifactTypes) {
      made.push(await ds.artifacts.create({ userId: user.id, type, content: `${type} body`, messageId: type === "code" ? message.id : null }));
    }
    const all = await ds.artifacts.list({ userId: user.id, limit: 100 });
    expect(all.items.map((a) => a.id)).toEqual(made.map((a) => a.id).reverse());
    expect((await ds.artifacts.list({ userId: user.id, type: "latex" })).items.map((a) => a.type)).toEqual(["latex"]);
    expect((await ds.artifacts.list({ userId: user.id, messageId: message.id })).items.map((a) => a.type)).toEqual(["code"]);
    const page = await ds.artifacts.list({ userId: user.id, limit: 5 });
    const next = await ds.artifacts.list({ userId: user.id, limit: 5, cursor: page.nextCursor! });
    expect([...page.items, ...next.items].map((a) => a.id)).toEqual(all.items.map((a) => a.id));
    expect(next.nextCursor).toBeNull();
  });

  it("rejects unknown types and oversized inline content, but takes large content by blob reference", async () => {
    expect((await rejectsWith(ds.artifacts.create({ userId: user.id, type: "video" as "code", content: "x" }), ValidationError)).fields).toEqual(["type"]);
    const big = "x".repeat(1024 * 1024 + 1);
    expect((await rejectsWith(ds.artifacts.create({ userId: user.id, type: "json", content: big }), ValidationError)).fields).toEqual(["content"]);
    const blob = await ds.artifacts.create({
      userId: user.id,
      type: "image",
      content: "",
      blobUrl: "https://blob.example.com/a.png",
      blobSize: 5_000_000,
      metadata: { width: 640 },
    });
    expect(blob).toMatchObject({ blobUrl: "https://blob.example.com/a.png", blobSize: 5_000_000, metadata: { width: 640 } });
    await rejectsWith(ds.artifacts.create({ userId: user.id, type: "image", content: "", blobUrl: "javascript:alert(1)" }), ValidationError);
  });

  it("refuses to link an artifact to another user's message", async () => {
    const theirChat = await ds.chats.create({ userId: other.id, title: "theirs" });
    const theirMessage = await ds.chats.messages.append(theirChat.id, { role: "user", content: "x" });
    const error = await rejectsWith(
      ds.artifacts.create({ userId: user.id, type: "code", content: "x", messageId: theirMessage.id }),
      NotFoundError,
    );
    expect(error).toMatchObject({ entity: "Message", id: theirMessage.id });
    const mine = await ds.artifacts.create({ userId: user.id, type: "code", content: "x" });
    await rejectsWith(ds.artifacts.update(mine.id, { messageId: theirMessage.id }), NotFoundError);
  });

  it("updates and deletes artifacts, and keeps them unlinked when their message is deleted", async () => {
    const chat = await ds.chats.create({ userId: user.id, title: "c2" });
    const message = await ds.chats.messages.append(chat.id, { role: "assistant", content: "m" });
    const artifact = await ds.artifacts.create({ userId: user.id, type: "markdown", content: "# v1", messageId: message.id });
    expect(await ds.artifacts.update(artifact.id, { content: "# v2", title: "Doc" })).toMatchObject({ content: "# v2", title: "Doc" });
    await ds.chats.delete(chat.id);
    expect((await ds.artifacts.get(artifact.id)).messageId).toBeNull();
    await ds.artifacts.delete(artifact.id);
    await rejectsWith(ds.artifacts.get(artifact.id), NotFoundError);
  });

  it("hides another user's artifacts from a scope", async () => {
    const theirs = await ds.artifacts.create({ userId: other.id, type: "table", content: "| a |" });
    const scoped = ds.as(user.id);
    await rejectsWith(scoped.artifacts.get(theirs.id), NotFoundError);
    await rejectsWith(scoped.artifacts.update(theirs.id, { content: "mine" }), NotFoundError);
    await rejectsWith(scoped.artifacts.delete(theirs.id), NotFoundError);
    expect((await scoped.artifacts.list({ userId: other.id })).items).toEqual([]);
    expect((await ds.artifacts.get(theirs.id)).content).toBe("| a |");
  });
});
