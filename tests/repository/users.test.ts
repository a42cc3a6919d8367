import { beforeAll, expect, it } from "vitest";
import { ConflictError, NotFoundError, PermissionError, ValidationError, type Dualstore } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

let n = 0;
const email = () => `user${++n}-${Date.now()}@example.com`;

describeEachDatabase("users", (target) => {
  let ds: Dualstore<PrismaClient>;
  beforeAll(async () => {
    ds = await target.open();
  });

  it("creates a user with a lower-cased email and reads it back by id and by email", async () => {
    const address = email();
    const user = await ds.users.create({ email: address.toUpperCase(), name: "Grace" });
    expect(user).toMatchObject({ email: address, name: "Grace", image: null, emailVerified: null });
    expect(await ds.users.get(user.id)).toEqual(user);
    expect(await ds.users.getByEmail(address.toUpperCase())).toEqual(user);
  });

  it("rejects a second user with the same email as a ConflictError naming the field", async () => {
    const address = email();
    await ds.users.create({ email: address });
    const error = await rejectsWith(ds.users.create({ email: address }), ConflictError);
    expect(error.code).toBe("CONFLICT");
    expect(error.fields).toEqual(["email"]);
    expect(await ds.prisma.user.count({ where: { email: address } })).toBe(1);
  });

  it("rejects bad input listing every offending field, and writes nothing", async () => {
    const before = await ds.prisma.user.count();
    const error = await rejectsWith(
      ds.users.create({ email: "not-an-email", name: "x".repeat(201), nickname: "?" } as never),
      ValidationError,
    );
    expect(error.code).toBe("VALIDATION");
    expect(error.fields.sort()).toEqual(["email", "name", "nickname"]);
    expect(error.message).toMatch(/unknown field 'nickname'/);
    expect(await ds.prisma.user.count()).toBe(before);
  });

  it("refuses text PostgreSQL would not store exactly: NUL characters and unpaired surrogates", async () => {
    const nul = await rejectsWith(ds.users.create({ email: email(), name: "a\u0000b" }), ValidationError);
    expect(nul.fields).toEqual(["name"]);
    const surrogate = await rejectsWith(ds.users.create({ email: email(), name: "a\uD800b" }), ValidationError);
    expect(surrogate.fields).toEqual(["name"]);
  });

  it("updates a user and maps an email clash to ConflictError, leaving the row unchanged", async () => {
    const taken = await ds.users.create({ email: email() });
    const user = await ds.users.create({ email: email() });
    expect(await ds.users.update(user.id, { name: "Renamed" })).toMatchObject({ name: "Renamed" });
    await rejectsWith(ds.users.update(user.id, { email: taken.email }), ConflictError);
    expect((await ds.users.get(user.id)).email).toBe(user.email);
  });

  it("reports unknown ids as NotFoundError with the entity and id", async () => {
    const error = await rejectsWith(ds.users.get("no-such-user"), NotFoundError);
    expect(error).toMatchObject({ code: "NOT_FOUND", entity: "User", id: "no-such-user" });
    await rejectsWith(ds.users.getByEmail(email()), NotFoundError);
    await rejectsWith(ds.users.update("no-such-user", { name: "x" }), NotFoundError);
    await rejectsWith(ds.users.delete("no-such-user"), NotFoundError);
  });

  it("deletes a user with everything it owns", async () => {
    const user = await ds.users.create({ email: email() });
    const chat = await ds.chats.create({ userId: user.id, title: "t" });
    const message = await ds.chats.messages.append(chat.id, { role: "user", content: "hi" });
    await ds.artifacts.create({ userId: user.id, type: "markdown", content: "# x", messageId: message.id });
    await ds.settings.update(user.id, { theme: "dark" });
    await ds.documents.create({ userId: user.id, title: "d", source: "upload", content: "text" });
    await ds.prisma.account.create({ data: { userId: user.id, type: "oauth", provider: "p", providerAccountId: user.id } });
    await ds.users.delete(user.id);
    const left = await Promise.all([
      ds.prisma.chat.count({ where: { userId: user.id } }),
      ds.prisma.message.count({ where: { chatId: chat.id } }),
      ds.prisma.artifact.count({ where: { userId: user.id } }),
      ds.prisma.userSettings.count({ where: { userId: user.id } }),
      ds.prisma.document.count({ where: { userId: user.id } }),
      ds.prisma.account.count({ where: { userId: user.id } }),
    ]);
    expect(left).toEqual([0, 0, 0, 0, 0, 0]);
    await rejectsWith(ds.users.get(user.id), NotFoundError);
  });

  it("through a user scope, other users are invisible and cannot be changed or created", async () => {
    const me = await ds.users.create({ email: email() });
    const other = await ds.users.create({ email: email() });
    const scoped = ds.as(me.id);
    expect(await scoped.users.get(me.id)).toEqual(me);
    await rejectsWith(scoped.users.get(other.id), NotFoundError);
    await rejectsWith(scoped.users.getByEmail(other.email), NotFoundError);
    await rejectsWith(scoped.users.update(other.id, { name: "hijack" }), NotFoundError);
    await rejectsWith(scoped.users.delete(other.id), NotFoundError);
    await rejectsWith(scoped.users.create({ email: email() }), PermissionError);
    expect((await ds.users.get(other.id)).name).toBeNull();
  });
});
