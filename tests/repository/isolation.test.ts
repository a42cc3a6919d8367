import { beforeAll, expect, it } from "vitest";
import { NotFoundError, type Dualstore } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";

describeEachDatabase("ownership scoping", (target) => {
  let ds: Dualstore;
  beforeAll(async () => {
    ds = await target.open();
  });

  it("shows a second user nothing of the first user's data through any read path", async () => {
    const alice = await ds.users.create({ email: "alice@example.com" });
    const bob = await ds.users.create({ email: "bob@example.com" });
    const chat = await ds.chats.create({ userId: alice.id, title: "alice's" });
    const message = await ds.chats.messages.append(chat.id, { role: "user", content: "alice's secret" });
    const artifact = await ds.artifacts.create({ userId: alice.id, type: "code", content: "secret()", messageId: message.id });
    const doc = await ds.documents.create({ userId: alice.id, title: "alice's doc", source: "upload", content: "secret" });
    await ds.settings.update(alice.id, { theme: "dark" });

    const asBob = ds.as(bob.id);
    await rejectsWith(asBob.users.get(alice.id), NotFoundError);
    await rejectsWith(asBob.users.getByEmail(alice.email), NotFoundError);
    await rejectsWith(asBob.chats.get(chat.id), NotFoundError);
    await rejectsWith(asBob.chats.get(chat.id, { withMessages: true }), NotFoundError);
    await rejectsWith(asBob.chats.messages.list(chat.id), NotFoundError);
    await rejectsWith(asBob.artifacts.get(artifact.id), NotFoundError);
    await rejectsWith(asBob.documents.get(doc.id), NotFoundError);
    await rejectsWith(asBob.settings.get(alice.id), NotFoundError);
    expect((await asBob.chats.list()).items).toEqual([]);
    expect((await asBob.chats.list({ userId: alice.id })).items).toEqual([]);
    expect((await asBob.artifacts.list()).items).toEqual([]);
    expect((await asBob.artifacts.list({ messageId: message.id })).items).toEqual([]);
    expect((await asBob.documents.list({ limit: 100 })).items.filter((d) => d.userId === alice.id)).toEqual([]);
    expect((await asBob.documents.list({ userId: alice.id })).items).toEqual([]);

    // NotFound, not Forbidden: the error for an existing foreign id equals the one for a made-up id.
    const foreign = await rejectsWith(asBob.chats.get(chat.id), NotFoundError);
    const madeUp = await rejectsWith(asBob.chats.get("c0000000000000000000000000"), NotFoundError);
    expect(foreign.code).toBe(madeUp.code);
    expect(foreign.constructor).toBe(madeUp.constructor);
  });
});
