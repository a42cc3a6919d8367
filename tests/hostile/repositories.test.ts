import { beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { NotFoundError, PermissionError, ValidationError, type Artifact, type Chat, type Document, type Dualstore, type Message, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { expectRefused, refuses, tableSnapshot, type HostileCase } from "./hostile.js";

interface Fixture {
  ds: Dualstore<PrismaClient>;
  user: User;
  document: Document;
  chat: Chat;
  message: Message;
  artifact: Artifact;
}

/** base64url of a JSON value: what a forged cursor looks like. */
const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nested = (depth: number): unknown => {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};
const withProto = JSON.parse('{"__proto__": {"admin": true}, "ok": 1}') as Record<string, unknown>;
const V = ValidationError;

const cases: Array<HostileCase<Fixture>> = [
  // users
  refuses("users.create without an email", ({ ds }) => ds.users.create({} as never), V, "email"),
  refuses("users.create with a malformed email", ({ ds }) => ds.users.create({ email: "not-an-email" }), V, "email"),
  refuses("users.create with an email of 400 characters", ({ ds }) => ds.users.create({ email: `${"a".repeat(390)}@example.com` }), V, "email"),
  refuses("users.create with a misspelled key", ({ ds }) => ds.users.create({ email: "x@example.com", nmae: "X" } as never), V, "nmae"),
  refuses("users.create with emailVerified in year 10000", ({ ds }) => ds.users.create({ email: "y10k@example.com", emailVerified: new Date("+010000-01-01T00:00:00Z") }), V, "emailVerified"),
  refuses("users.create with emailVerified at the earliest JS date", ({ ds }) => ds.users.create({ email: "min@example.com", emailVerified: new Date(-8.64e15) }), V, "emailVerified"),
  refuses("users.create with an invalid Date", ({ ds }) => ds.users.create({ email: "nan@example.com", emailVerified: new Date(Number.NaN) }), V, "emailVerified"),
  refuses("users.create with emailVerified: true", ({ ds }) => ds.users.create({ email: "bool@example.com", emailVerified: true as never }), V, "emailVerified"),
  refuses("users.create with a NUL in the name", ({ ds }) => ds.users.create({ email: "nul@example.com", name: "a\u0000b" }), V, "name"),
  refuses("users.create with a lone surrogate in the name", ({ ds }) => ds.users.create({ email: "sur@example.com", name: "a\uD800" }), V, "name"),
  refuses("users.create with an array", ({ ds }) => ds.users.create([] as never), V),
  refuses("users.create with null", ({ ds }) => ds.users.create(null as never), V),
  refuses("users.get with a number", ({ ds }) => ds.users.get(123 as never), V, "Invalid user id"),
  refuses("users.get with an empty id", ({ ds }) => ds.users.get(""), V, "Invalid user id"),
  refuses("users.get with an id of 10,000 characters", ({ ds }) => ds.users.get("x".repeat(10_000)), V, "Invalid user id"),
  refuses("users.get with an object", ({ ds }) => ds.users.get({ not: null } as never), V, "Invalid user id"),
  refuses("users.get of an unknown id", ({ ds }) => ds.users.get("no-such-user"), NotFoundError, "no-such-user"),
  refuses("users.getByEmail with a malformed address", ({ ds }) => ds.users.getByEmail("nope"), V, "Invalid email"),
  refuses("users.update with undefined as the id", ({ ds }) => ds.users.update(undefined as never, { name: "x" }), V, "Invalid user id"),
  refuses("users.update with an unknown key", ({ ds, user }) => ds.users.update(user.id, { role: "admin" } as never), V, "role"),
  refuses("users.update with year 0 as emailVerified", ({ ds, user }) => ds.users.update(user.id, { emailVerified: new Date("0000-06-01T00:00:00Z") }), V, "emailVerified"),
  refuses("users.update with a numeric name", ({ ds, user }) => ds.users.update(user.id, { name: 42 as never }), V, "name"),
  refuses("users.delete with null", ({ ds }) => ds.users.delete(null as never), V, "Invalid user id"),
  refuses("users.delete of an unknown id", ({ ds }) => ds.users.delete("no-such-user"), NotFoundError),
  refuses("users.create through a scope", ({ ds, user }) => ds.as(user.id).users.create({ email: "scoped@example.com" }), PermissionError),

  // documents
  refuses("documents.create without a title", ({ ds }) => ds.documents.create({ source: "api" } as never), V, "title"),
  refuses("documents.create with an unknown source", ({ ds }) => ds.documents.create({ title: "t", source: "fax" as never }), V, "source"),
  refuses("documents.create with a misspelled key", ({ ds }) => ds.documents.create({ title: "t", source: "api", contnet: "x" } as never), V, "contnet"),
  refuses("documents.create with metadata nested 10,000 deep", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: { deep: nested(10_000) } as never }), V, "metadata.deep"),
  refuses("documents.create with metadata nested 65 deep", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: { deep: nested(65) } as never }), V),
  refuses("documents.create with a __proto__ metadata key", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: withProto as never }), V, "metadata.__proto__"),
  refuses("documents.create with NaN in metadata", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: { n: Number.NaN } }), V, "metadata.n"),
  refuses("documents.create with Infinity in metadata", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: { n: Number.POSITIVE_INFINITY } }), V, "metadata.n"),
  refuses("documents.create with a function in metadata", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: { f: (() => 1) as never } }), V, "metadata.f"),
  refuses("documents.create with array metadata", ({ ds }) => ds.documents.create({ title: "t", source: "api", metadata: [1, 2] as never }), V, "metadata"),
  refuses("documents.create with a numeric tag", ({ ds }) => ds.documents.create({ title: "t", source: "api", tags: [1 as never] }), V, "tags.0"),
  refuses("documents.create with an empty tag", ({ ds }) => ds.documents.create({ title: "t", source: "api", tags: [""] }), V, "tags.0"),
  refuses("documents.create with 101 tags", ({ ds }) => ds.documents.create({ title: "t", source: "api", tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }), V, "tags"),
  refuses("documents.create with a title of 1,001 characters", ({ ds }) => ds.documents.create({ title: "t".repeat(1_001), source: "api" }), V, "title"),
  refuses("documents.create with a numeric userId", ({ ds }) => ds.documents.create({ userId: 7 as never, title: "t", source: "api" }), V, "userId"),
  refuses("documents.create with an unknown sync mode", ({ ds }) => ds.documents.create({ title: "t", source: "api" }, { sync: "later" as never }), V, "sync"),
  refuses("documents.create with a misspelled option", ({ ds }) => ds.documents.create({ title: "t", source: "api" }, { snyc: "none" } as never), V, "snyc"),
  refuses("documents.createMany with no documents", ({ ds }) => ds.documents.createMany([]), V),
  refuses("documents.createMany with one bad document among good ones", ({ ds }) => ds.documents.createMany([{ title: "a", source: "api" }, { title: "", source: "api" }]), V, "1.title"),
  refuses("documents.createMany with a non-array", ({ ds }) => ds.documents.createMany({ title: "a", source: "api" } as never), V),
  refuses("documents.get with a number", ({ ds }) => ds.documents.get(5 as never), V, "Invalid document id"),
  refuses("documents.get with a NUL in the id", ({ ds }) => ds.documents.get("a\u0000b"), V, "Invalid document id"),
  refuses("documents.list with an unknown status", ({ ds }) => ds.documents.list({ status: "BOGUS" as never }), V, "status"),
  refuses("documents.list with an operator as a tag", ({ ds }) => ds.documents.list({ tags: [{ $ne: null } as never] }), V, "tags.0"),
  refuses("documents.list with createdAfter at the earliest JS date", ({ ds }) => ds.documents.list({ createdAfter: new Date(-8.64e15) }), V, "createdAfter"),
  refuses("documents.list with createdBefore in year 275760", ({ ds }) => ds.documents.list({ createdBefore: new Date(8.64e15) }), V, "createdBefore"),
  refuses("documents.list with createdAfter: 'yesterday'", ({ ds }) => ds.documents.list({ createdAfter: "yesterday" as never }), V, "createdAfter"),
  refuses("documents.list with limit 0", ({ ds }) => ds.documents.list({ limit: 0 }), V, "limit"),
  refuses("documents.list with limit 101", ({ ds }) => ds.documents.list({ limit: 101 }), V, "limit"),
  refuses("documents.list with a fractional limit", ({ ds }) => ds.documents.list({ limit: 2.5 }), V, "limit"),
  refuses("documents.list with a NaN limit", ({ ds }) => ds.documents.list({ limit: Number.NaN }), V, "limit"),
  refuses("documents.list with a cursor that is not base64 JSON", ({ ds }) => ds.documents.list({ cursor: "!!!not-a-cursor" }), V, "cursor"),
  refuses("documents.list with a forged cursor far in the past", ({ ds }) => ds.documents.list({ cursor: forged([-8.64e15, "x"]) }), V, "cursor"),
  refuses("documents.list with a forged cursor past year 9999", ({ ds }) => ds.documents.list({ cursor: forged([1e15, "x"]) }), V, "cursor"),
  refuses("documents.list with a forged cursor holding an object id", ({ ds }) => ds.documents.list({ cursor: forged([Date.now(), { $gt: "" }]) }), V, "cursor"),
  refuses("documents.list with a forged cursor of three parts", ({ ds }) => ds.documents.list({ cursor: forged([Date.now(), "x", "y"]) }), V, "cursor"),
  refuses("documents.list with a forged cursor holding a NUL id", ({ ds }) => ds.documents.list({ cursor: forged([Date.now(), "a\u0000"]) }), V, "cursor"),
  refuses("documents.list with a misspelled filter", ({ ds }) => ds.documents.list({ tag: ["x"] } as never), V, "tag"),
  refuses("documents.update with an empty title", ({ ds, document }) => ds.documents.update(document.id, { title: "" }), V, "title"),
  refuses("documents.update of the owner", ({ ds, document }) => ds.documents.update(document.id, { userId: "someone" } as never), V, "userId"),
  refuses("documents.update with a __proto__ metadata key", ({ ds, document }) => ds.documents.update(document.id, { metadata: withProto as never }), V, "metadata.__proto__"),
  refuses("documents.update with an id array", ({ ds }) => ds.documents.update(["a"] as never, { title: "x" }), V, "Invalid document id"),
  refuses("documents.update of an unknown document", ({ ds }) => ds.documents.update("no-such-doc", { title: "x" }), NotFoundError),
  refuses("documents.delete with an unknown sync mode", ({ ds, document }) => ds.documents.delete(document.id, { sync: "none" as never }), V, "sync"),
  refuses("documents.delete with a boolean id", ({ ds }) => ds.documents.delete(true as never), V, "Invalid document id"),

  // chats and messages
  refuses("chats.create without a title", ({ ds, user }) => ds.chats.create({ userId: user.id } as never), V, "title"),
  refuses("chats.create without an owner", ({ ds }) => ds.chats.create({ title: "t" }), V, "userId"),
  refuses("chats.create with a title of 501 characters", ({ ds, user }) => ds.chats.create({ userId: user.id, title: "t".repeat(501) }), V, "title"),
  refuses("chats.create with a misspelled key", ({ ds, user }) => ds.chats.create({ userId: user.id, title: "t", archive: true } as never), V, "archive"),
  refuses("chats.create for an unknown user", ({ ds }) => ds.chats.create({ userId: "no-such-user", title: "t" }), NotFoundError),
  refuses("chats.get with messageLimit 0", ({ ds, chat }) => ds.chats.get(chat.id, { withMessages: true, messageLimit: 0 }), V, "messageLimit"),
  refuses("chats.get with withMessages: 'yes'", ({ ds, chat }) => ds.chats.get(chat.id, { withMessages: "yes" } as never), V, "withMessages"),
  refuses("chats.get with a misspelled option", ({ ds, chat }) => ds.chats.get(chat.id, { withMessage: true } as never), V, "withMessage"),
  refuses("chats.list without an owner", ({ ds }) => ds.chats.list(), V, "userId"),
  refuses("chats.list with archived: 'no'", ({ ds, user }) => ds.chats.list({ userId: user.id, archived: "no" as never }), V, "archived"),
  refuses("chats.list with a forged cursor", ({ ds, user }) => ds.chats.list({ userId: user.id, cursor: forged(["x", 1]) }), V, "cursor"),
  refuses("chats.rename to a blank title", ({ ds, chat }) => ds.chats.rename(chat.id, ""), V, "Invalid chat title"),
  refuses("chats.archive with a string", ({ ds, chat }) => ds.chats.archive(chat.id, "true" as never), V, "Invalid archived"),
  refuses("chats.delete with an empty id", ({ ds }) => ds.chats.delete(""), V, "Invalid chat id"),
  refuses("messages.append with an unknown role", ({ ds, chat }) => ds.chats.messages.append(chat.id, { role: "robot" as never, content: "x" }), V, "role"),
  refuses("messages.append with negative tokensUsed", ({ ds, chat }) => ds.chats.messages.append(chat.id, { role: "user", content: "x", tokensUsed: -1 }), V, "tokensUsed"),
  refuses("messages.append with tokensUsed past int4", ({ ds, chat }) => ds.chats.messages.append(chat.id, { role: "user", content: "x", tokensUsed: 2 ** 31 }), V, "tokensUsed"),
  refuses("messages.append with fractional latencyMs", ({ ds, chat }) => ds.chats.messages.append(chat.id, { role: "user", content: "x", latencyMs: 1.5 }), V, "latencyMs"),
  refuses("messages.append with a NUL in the content", ({ ds, chat }) => ds.chats.messages.append(chat.id, { role: "user", content: "\u0000" }), V, "content"),
  refuses("messages.append to an unknown chat", ({ ds }) => ds.chats.messages.append("no-such-chat", { role: "user", content: "x" }), NotFoundError),
  refuses("messages.appendMany with one bad message", ({ ds, chat }) => ds.chats.messages.appendMany(chat.id, [{ role: "user", content: "ok" }, { role: "user" } as never]), V, "1.content"),
  refuses("messages.appendMany with no messages", ({ ds, chat }) => ds.chats.messages.appendMany(chat.id, []), V),
  refuses("messages.list with limit 501", ({ ds, chat }) => ds.chats.messages.list(chat.id, { limit: 501 }), V, "limit"),
  refuses("messages.list with a forged cursor", ({ ds, chat }) => ds.chats.messages.list(chat.id, { cursor: forged([Number.MAX_VALUE, "m"]) }), V, "cursor"),

  // artifacts
  refuses("artifacts.create with blobSize 2**31", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "code", content: "x", blobSize: 2 ** 31 }), V, "blobSize"),
  refuses("artifacts.create with a negative blobSize", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "code", content: "x", blobSize: -1 }), V, "blobSize"),
  refuses("artifacts.create with an unknown type", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "video" as never, content: "x" }), V, "type"),
  refuses("artifacts.create with a javascript: blobUrl", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "code", content: "", blobUrl: "javascript:alert(1)" }), V, "blobUrl"),
  refuses("artifacts.create with content over 1 MiB inline", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "code", content: "x".repeat(1024 * 1024 + 1) }), V, "content"),
  refuses("artifacts.create with a __proto__ metadata key", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "json", content: "{}", metadata: withProto as never }), V, "metadata.__proto__"),
  refuses("artifacts.create with metadata nested 10,000 deep", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "json", content: "{}", metadata: { a: nested(10_000) } as never }), V),
  refuses("artifacts.create with a misspelled key", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "code", content: "x", langauge: "ts" } as never), V, "langauge"),
  refuses("artifacts.create linked to an unknown message", ({ ds, user }) => ds.artifacts.create({ userId: user.id, type: "code", content: "x", messageId: "no-such-message" }), NotFoundError),
  refuses("artifacts.update with blobSize 2**31", ({ ds, artifact }) => ds.artifacts.update(artifact.id, { blobSize: 2 ** 31 }), V, "blobSize"),
  refuses("artifacts.update with an unknown key", ({ ds, artifact }) => ds.artifacts.update(artifact.id, { userId: "x" } as never), V, "userId"),
  refuses("artifacts.list with an unknown type", ({ ds, user }) => ds.artifacts.list({ userId: user.id, type: "video" as never }), V, "type"),
  refuses("artifacts.list with a forged cursor", ({ ds, user }) => ds.artifacts.list({ userId: user.id, cursor: forged([Date.now()]) }), V, "cursor"),
  refuses("artifacts.get with a number", ({ ds }) => ds.artifacts.get(1 as never), V, "Invalid artifact id"),
  refuses("artifacts.delete of an unknown artifact", ({ ds }) => ds.artifacts.delete("no-such-artifact"), NotFoundError),

  // settings
  refuses("settings.update with temperature 3", ({ ds, user }) => ds.settings.update(user.id, { temperature: 3 }), V, "temperature"),
  refuses("settings.update with NaN temperature", ({ ds, user }) => ds.settings.update(user.id, { temperature: Number.NaN }), V, "temperature"),
  refuses("settings.update with maxTokens past int4", ({ ds, user }) => ds.settings.update(user.id, { maxTokens: 2 ** 31 }), V, "maxTokens"),
  refuses("settings.update with ragTopK 0", ({ ds, user }) => ds.settings.update(user.id, { ragTopK: 0 }), V, "ragTopK"),
  refuses("settings.update with an unknown theme", ({ ds, user }) => ds.settings.update(user.id, { theme: "neon" as never }), V, "theme"),
  refuses("settings.update with a misspelled key", ({ ds, user }) => ds.settings.update(user.id, { ragTopk: 3 } as never), V, "ragTopk"),
  refuses("settings.update with a language that is no tag", ({ ds, user }) => ds.settings.update(user.id, { language: "Spanish" }), V, "language"),
  refuses("settings.update for an unknown user", ({ ds }) => ds.settings.update("no-such-user", { ragTopK: 3 }), NotFoundError),
  refuses("settings.get with a number", ({ ds }) => ds.settings.get(9 as never), V, "Invalid user id"),

  // scopes and transactions
  refuses("as() with an empty user id", async ({ ds }) => ds.as(""), V, "Invalid user id"),
  refuses("as() with a number", async ({ ds }) => ds.as(3 as never), V, "Invalid user id"),
  refuses("a scoped documents.get of another user's document", ({ ds, document }) => ds.as("someone-else").documents.get(document.id), NotFoundError),
  refuses("a transaction whose second write is bad writes neither", ({ ds, user }) =>
    ds.transaction(async (tx) => {
      await tx.chats.create({ userId: user.id, title: "in a transaction" });
      await tx.chats.create({ userId: user.id, title: "" });
    }), V, "title"),
];

describeEachDatabase(
  "hostile input: repositories",
  (target) => {
    let fixture: Fixture;
    let before: Record<string, string>;
    beforeAll(async () => {
      const ds = await target.open({ sync: { onWrite: "none" } });
      const user = await ds.users.create({ email: "hostile-repositories@example.com", name: "Ada" });
      const document = await ds.documents.create({ userId: user.id, title: "kept", source: "api", content: "a document that must not change", tags: ["keep"], metadata: { n: 1 } });
      await ds.indexDocument(document.id);
      const chat = await ds.chats.create({ userId: user.id, title: "kept" });
      const message = await ds.chats.messages.append(chat.id, { role: "user", content: "hello" });
      const artifact = await ds.artifacts.create({ userId: user.id, type: "code", content: "x", messageId: message.id });
      await ds.settings.update(user.id, { ragTopK: 4 });
      fixture = { ds, user, document: await ds.documents.get(document.id), chat, message, artifact };
      before = await tableSnapshot(ds);
    });

    it.each(cases.map((hostile) => [hostile.name, hostile] as const))("refuses %s, naming the field, and changes no table", async (_name, hostile) => {
      await expectRefused(fixture, hostile);
      expect(await tableSnapshot(fixture.ds)).toEqual(before);
    });

    it("has at least 100 cases", () => {
      expect(cases.length).toBeGreaterThanOrEqual(100);
    });
  },
  { neon: false },
);
