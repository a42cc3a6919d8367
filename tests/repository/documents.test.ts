import { createHash } from "node:crypto";
import { beforeAll, expect, it } from "vitest";
import { NotFoundError, PermissionError, ValidationError, type Dualstore, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("documents", (target) => {
  let ds: Dualstore<PrismaClient>;
  let owner: User;
  let stranger: User;
  beforeAll(async () => {
    ds = await target.open();
    owner = await ds.users.create({ email: "owner@example.com" });
    stranger = await ds.users.create({ email: "stranger@example.com" });
  });

  it("creates a document with its content hash, deduplicated tags, and PENDING index state", async () => {
    const doc = await ds.documents.create({
      userId: owner.id,
      title: "Guide",
      source: "upload",
      content: "Hello world",
      tags: ["a", "b", "a"],
      metadata: { author: { name: "Ada" }, pages: 3 },
      language: "en",
    });
    expect(doc).toMatchObject({
      userId: owner.id,
      contentHash: createHash("sha256").update("Hello world").digest("hex"),
      tags: ["a", "b"],
      indexed: false,
      indexStatus: "PENDING",
      vectorIds: [],
      chunkCount: 0,
      metadata: { author: { name: "Ada" }, pages: 3 },
    });
  });

  it("creates public documents when the owner is null", async () => {
    const doc = await ds.documents.create({ userId: null, title: "Handbook", source: "system", content: "for all" });
    expect(doc.userId).toBeNull();
  });

  it("rejects bad input naming each field and writes nothing", async () => {
    const before = await ds.prisma.document.count();
    const error = await rejectsWith(
      ds.documents.create({
        userId: owner.id,
        title: "",
        source: "fax" as "api",
        content: "bad\u0000byte",
        tags: [""],
        metadata: { ratio: Number.NaN },
      }),
      ValidationError,
    );
    expect(error.fields.sort()).toEqual(["content", "metadata.ratio", "source", "tags.0", "title"]);
    expect(await ds.prisma.document.count()).toBe(before);
  });

  it("accepts any owner key, not only a dualstore user's id, and scopes by it", async () => {
    const doc = await ds.documents.create({ userId: "tenant-7", title: "t", source: "api" });
    expect(doc.userId).toBe("tenant-7");
    expect((await ds.as("tenant-7").documents.get(doc.id)).id).toBe(doc.id);
    await rejectsWith(ds.as("tenant-8").documents.get(doc.id), NotFoundError);
  });

  it("marks a document PENDING and not indexed when its content or tags change, but not for its MIME type", async () => {
    const doc = await ds.documents.create({ userId: owner.id, title: "T", source: "api", content: "v1" });
    await ds.prisma.document.update({ where: { id: doc.id }, data: { indexed: true, indexStatus: "INDEXED" } });
    const mime = await ds.documents.update(doc.id, { mimeType: "text/plain" });
    expect(mime).toMatchObject({ indexed: true, indexStatus: "INDEXED", mimeType: "text/plain" });
    const edited = await ds.documents.update(doc.id, { content: "v2" });
    expect(edited).toMatchObject({
      indexed: false,
      indexStatus: "PENDING",
      contentHash: createHash("sha256").update("v2").digest("hex"),
    });
    await ds.prisma.document.update({ where: { id: doc.id }, data: { indexed: true, indexStatus: "INDEXED" } });
    expect(await ds.documents.update(doc.id, { tags: ["new"] })).toMatchObject({ indexed: false, indexStatus: "PENDING" });
  });

  it("lets a scope read its own and public documents but not another user's", async () => {
    const mine = await ds.documents.create({ userId: owner.id, title: "mine", source: "api" });
    const theirs = await ds.documents.create({ userId: stranger.id, title: "theirs", source: "api" });
    const shared = await ds.documents.create({ userId: null, title: "shared", source: "system" });
    const scoped = ds.as(owner.id);
    expect((await scoped.documents.get(mine.id)).id).toBe(mine.id);
    expect((await scoped.documents.get(shared.id)).id).toBe(shared.id);
    await rejectsWith(scoped.documents.get(theirs.id), NotFoundError);
    await rejectsWith(scoped.documents.update(theirs.id, { title: "x" }), NotFoundError);
    await rejectsWith(scoped.documents.delete(theirs.id), NotFoundError);
    await rejectsWith(scoped.documents.update(shared.id, { title: "x" }), PermissionError);
    await rejectsWith(scoped.documents.delete(shared.id), PermissionError);
    await rejectsWith(scoped.documents.create({ userId: stranger.id, title: "x", source: "api" }), PermissionError);
    const listed = await scoped.documents.list({ limit: 100 });
    expect(listed.items.every((d) => d.userId === owner.id || d.userId === null)).toBe(true);
    expect(listed.items.map((d) => d.id)).toContain(shared.id);
    expect((await scoped.documents.list({ userId: stranger.id })).items).toEqual([]);
    expect((await ds.documents.get(theirs.id)).title).toBe("theirs");
  });

  it("deletes a document with its chunk rows", async () => {
    const doc = await ds.documents.create({ userId: owner.id, title: "gone", source: "api", content: "x" });
    await ds.prisma.documentChunk.create({
      data: { documentId: doc.id, index: 0, vectorId: `${doc.id}#0`, hash: "h", metadataHash: "m", text: "x", start: 0, end: 1, tokenCount: 1, embedder: "e" },
    });
    await ds.documents.delete(doc.id);
    await rejectsWith(ds.documents.get(doc.id), NotFoundError);
    expect(await ds.prisma.documentChunk.count({ where: { documentId: doc.id } })).toBe(0);
  });
});

describeEachDatabase("documents.list", (target) => {
  let ds: Dualstore<PrismaClient>;
  let user: User;
  beforeAll(async () => {
    ds = await target.open();
    user = await ds.users.create({ email: "lister@example.com" });
  });

  it("returns an empty page with no cursor when nothing matches", async () => {
    expect(await ds.documents.list({ userId: user.id })).toEqual({ items: [], nextCursor: null });
  });

  it("pages newest first without content, ending exactly at the last row", async () => {
    const created = [];
    for (let i = 0; i < 5; i++) {
      created.push(await ds.documents.create({ userId: user.id, title: `doc ${i}`, source: "api", content: `content ${i}` }));
    }
    const newestFirst = created.map((d) => d.id).reverse();
    const first = await ds.documents.list({ userId: user.id, limit: 2 });
    expect(first.items.map((d) => d.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.items[0]).not.toHaveProperty("content");
    const second = await ds.documents.list({ userId: user.id, limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((d) => d.id)).toEqual(newestFirst.slice(2, 4));
    const last = await ds.documents.list({ userId: user.id, limit: 2, cursor: second.nextCursor! });
    expect(last.items.map((d) => d.id)).toEqual(newestFirst.slice(4));
    expect(last.nextCursor).toBeNull();
    const exact = await ds.documents.list({ userId: user.id, limit: 5 });
    expect(exact.items).toHaveLength(5);
    expect(exact.nextCursor).toBeNull();
  });

  it("keeps paging correctly when the row under the cursor is deleted between pages", async () => {
    const other = await ds.users.create({ email: "pager@example.com" });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await ds.documents.create({ userId: other.id, title: `p${i}`, source: "api" })).id);
    const first = await ds.documents.list({ userId: other.id, limit: 2 });
    await ds.documents.delete(first.items[1]!.id);
    const rest = await ds.documents.list({ userId: other.id, limit: 10, cursor: first.nextCursor! });
    expect(rest.items.map((d) => d.id)).toEqual([ids[1], ids[0]]);
  });

  it("filters by owner, every tag, index state and creation range", async () => {
    const u = await ds.users.create({ email: "filters@example.com" });
    const a = await ds.documents.create({ userId: u.id, title: "a", source: "api", tags: ["x", "y"] });
    const b = await ds.documents.create({ userId: u.id, title: "b", source: "api", tags: ["x"] });
    await ds.prisma.document.update({ where: { id: b.id }, data: { indexed: true, indexStatus: "INDEXED" } });
    const ids = async (filter: Parameters<Dualstore["documents"]["list"]>[0]) =>
      (await ds.documents.list({ userId: u.id, ...filter })).items.map((d) => d.id).sort();
    expect(await ids({ tags: ["x"] })).toEqual([a.id, b.id].sort());
    expect(await ids({ tags: ["x", "y"] })).toEqual([a.id]);
    expect(await ids({ indexed: true })).toEqual([b.id]);
    expect(await ids({ status: ["PENDING", "FAILED"] })).toEqual([a.id]);
    expect(await ids({ createdAfter: b.createdAt })).toEqual([b.id]);
    expect(await ids({ createdBefore: b.createdAt })).toEqual([a.id]);
    const publicOnly = await ds.documents.list({ userId: null, limit: 100 });
    expect(publicOnly.items.every((d) => d.userId === null)).toBe(true);
  });

  it("rejects a cursor it did not issue and a limit out of range", async () => {
    expect((await rejectsWith(ds.documents.list({ cursor: "garbage" }), ValidationError)).fields).toEqual(["cursor"]);
    expect((await rejectsWith(ds.documents.list({ limit: 101 }), ValidationError)).fields).toEqual(["limit"]);
  });
});

describeEachDatabase("documents.createMany", (target) => {
  it("creates documents in input order in one statement, or none when one input is bad", async () => {
    const events: string[] = [];
    const ds = await target.open({ database: { onQuery: (event) => events.push(event.sql) }, sync: { onWrite: "none" } });
    const user = await ds.users.create({ email: "many@example.com" });
    const inputs = Array.from({ length: 50 }, (_, i) => ({ userId: user.id, title: `doc ${i}`, source: "api" as const, content: `content ${i}` }));
    events.length = 0;
    const created = await ds.documents.createMany(inputs);
    expect(created.map((d) => d.title)).toEqual(inputs.map((i) => i.title));
    expect(events).toHaveLength(1);
    const before = await ds.prisma.document.count();
    const error = await rejectsWith(ds.documents.createMany([...inputs, { userId: user.id, title: "", source: "api" }]), ValidationError);
    expect(error.fields).toEqual(["50.title"]);
    expect(await ds.prisma.document.count()).toBe(before);
  });

  it("enqueues every document's sync job in the same transaction", async () => {
    const ds = await target.open();
    const created = await ds.documents.createMany([
      { title: "a", source: "api", content: "x" },
      { title: "b", source: "api", content: "y" },
    ]);
    expect(await ds.prisma.syncJob.count({ where: { documentId: { in: created.map((d) => d.id) }, kind: "INDEX" } })).toBe(2);
  });
});

describeEachDatabase("document writes", (target) => {
  /** Columns a statement reads back: its SELECT list or its RETURNING list. */
  const readColumns = (sql: string) => /RETURNING(.*)$/s.exec(sql)?.[1] ?? /^\s*SELECT(.*?)\sFROM\s/is.exec(sql)?.[1] ?? "";
  const readsContent = (statements: string[]) => statements.filter((sql) => readColumns(sql).includes('"content"'));

  it("never read back a content the caller just wrote, and still return it", async () => {
    const statements: string[] = [];
    const ds = await target.open({ database: { onQuery: (event) => statements.push(event.sql) }, sync: { onWrite: "none" } });
    const content = "A long body. ".repeat(1_000);
    statements.length = 0;
    const created = await ds.documents.create({ title: "big", source: "api", content });
    expect(statements).toHaveLength(1);
    const [many] = await ds.documents.createMany([{ title: "many", source: "api", content: "x" }]);
    const updated = await ds.documents.update(created.id, { content: `${content}More.` });
    expect(readsContent(statements)).toEqual([]);
    expect(created.content).toBe(content);
    expect(created.metadata).toBeNull();
    expect(many!.content).toBe("x");
    expect((await ds.documents.create({ title: "t", source: "api", metadata: null })).metadata).toBeNull();
    expect(updated).toMatchObject({ content: `${content}More.`, indexStatus: "PENDING" });
    expect(updated).toEqual(await ds.documents.get(created.id));
  });

  it("return the stored content when an update leaves it alone", async () => {
    const ds = await target.open({ sync: { onWrite: "none" } });
    const created = await ds.documents.create({ title: "t", source: "api", content: "kept" });
    expect(await ds.documents.update(created.id, { title: "renamed" })).toMatchObject({ title: "renamed", content: "kept" });
  });

  it("decide by the content hash whether an update makes the index stale", async () => {
    const ds = await target.open({ sync: { onWrite: "none" } });
    const created = await ds.documents.create({ title: "t", source: "api", content: "same" });
    await ds.prisma.document.update({ where: { id: created.id }, data: { indexed: true, indexStatus: "INDEXED" } });
    expect(await ds.documents.update(created.id, { content: "same" })).toMatchObject({ indexed: true, indexStatus: "INDEXED" });
    expect(await ds.documents.update(created.id, { content: null })).toMatchObject({ indexed: false, indexStatus: "PENDING", content: null, contentHash: null });
  });

  it("read no content to check a delete's ownership", async () => {
    const statements: string[] = [];
    const ds = await target.open({ database: { onQuery: (event) => statements.push(event.sql) }, sync: { onWrite: "none" } });
    const user = await ds.users.create({ email: "deleter@example.com" });
    const mine = await ds.documents.create({ userId: user.id, title: "t", source: "api", content: "body" });
    const other = await ds.documents.create({ title: "t", source: "api", content: "body" });
    statements.length = 0;
    await ds.as(user.id).documents.delete(mine.id);
    await ds.documents.delete(other.id);
    expect(readsContent(statements)).toEqual([]);
    await rejectsWith(ds.documents.get(mine.id), NotFoundError);
  });

  it("report a delete of a missing document as NotFoundError, with or without a vector index", async () => {
    for (const ds of [await target.open({ sync: { onWrite: "none" } }), await target.open({ vectorStore: null })]) {
      const error = await rejectsWith(ds.documents.delete("no-such-document"), NotFoundError);
      expect(error).toMatchObject({ entity: "Document", id: "no-such-document" });
    }
  });
});
