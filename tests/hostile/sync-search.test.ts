import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { NotFoundError, ValidationError, ingestFiles, type Document, type Dualstore, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { expectRefused, refuses, tableSnapshot, type HostileCase } from "./hostile.js";

interface Fixture {
  ds: Dualstore<PrismaClient>;
  user: User;
  document: Document;
  folder: string;
}

const V = ValidationError;
const id = "Invalid document id";
const ids = "Invalid document ids";

const cases: Array<HostileCase<Fixture>> = [
  // indexing and deleting one document, unscoped and scoped
  refuses("indexDocument(123)", ({ ds }) => ds.indexDocument(123 as never), V, id),
  refuses("indexDocument('')", ({ ds }) => ds.indexDocument(""), V, id),
  refuses("indexDocument(null)", ({ ds }) => ds.indexDocument(null as never), V, id),
  refuses("indexDocument with a misspelled option", ({ ds, document }) => ds.indexDocument(document.id, { forse: true } as never), V, "forse"),
  refuses("indexDocument with a signal that is no AbortSignal", ({ ds, document }) => ds.indexDocument(document.id, { signal: "stop" as never }), V, "signal"),
  refuses("indexDocument with force: 'yes'", ({ ds, document }) => ds.indexDocument(document.id, { force: "yes" as never }), V, "force"),
  refuses("indexDocument of an unknown document", ({ ds }) => ds.indexDocument("no-such-document"), NotFoundError),
  refuses("scoped indexDocument(123)", ({ ds, user }) => ds.as(user.id).indexDocument(123 as never), V, id),
  refuses("scoped indexDocument of another user's document", ({ ds, document }) => ds.as("someone-else").indexDocument(document.id), NotFoundError),
  refuses("deleteDocument(undefined)", ({ ds }) => ds.deleteDocument(undefined as never), V, id),
  refuses("deleteDocument with a misspelled option", ({ ds, document }) => ds.deleteDocument(document.id, { sigal: null } as never), V, "sigal"),
  refuses("scoped deleteDocument(null)", ({ ds, user }) => ds.as(user.id).deleteDocument(null as never), V, id),
  refuses("scoped deleteDocument of another user's document", ({ ds, document }) => ds.as("someone-else").deleteDocument(document.id), NotFoundError),
  refuses("deleteDocuments('abc')", ({ ds }) => ds.deleteDocuments("abc" as never), V, ids),
  refuses("deleteDocuments([null])", ({ ds }) => ds.deleteDocuments([null as never]), V, "0"),
  refuses("deleteDocuments with an unknown option", ({ ds, document }) => ds.deleteDocuments([document.id], { force: true } as never), V, "force"),
  refuses("scoped deleteDocuments([1])", ({ ds, user }) => ds.as(user.id).deleteDocuments([1 as never]), V, "0"),

  // indexing many
  refuses("indexDocuments with an unknown status", ({ ds }) => ds.indexDocuments({ status: "BOGUS" as never }), V, "status"),
  refuses("indexDocuments with an empty status list", ({ ds }) => ds.indexDocuments({ status: [] }), V, "status"),
  refuses("indexDocuments with an operator as a tag", ({ ds }) => ds.indexDocuments({ tags: [{ $ne: null } as never] }), V, "tags.0"),
  refuses("indexDocuments with a numeric userId", ({ ds }) => ds.indexDocuments({ userId: 5 as never }), V, "userId"),
  refuses("indexDocuments with a misspelled filter", ({ ds }) => ds.indexDocuments({ ownerId: "x" } as never), V, "ownerId"),
  refuses("indexDocuments with a string target", ({ ds }) => ds.indexDocuments("all" as never), V),
  refuses("indexDocuments with numeric ids", ({ ds }) => ds.indexDocuments([1, 2] as never), V, "0"),
  refuses("indexDocuments with batchSize 0", ({ ds, document }) => ds.indexDocuments([document.id], { batchSize: 0 }), V, "batchSize"),
  refuses("indexDocuments with batchSize NaN", ({ ds, document }) => ds.indexDocuments([document.id], { batchSize: Number.NaN }), V, "batchSize"),
  refuses("indexDocuments with batchSize 1.5", ({ ds, document }) => ds.indexDocuments([document.id], { batchSize: 1.5 }), V, "batchSize"),
  refuses("indexDocuments with an onProgress that is no function", ({ ds, document }) => ds.indexDocuments([document.id], { onProgress: "log" as never }), V, "onProgress"),
  refuses("indexDocuments with a misspelled option", ({ ds, document }) => ds.indexDocuments([document.id], { batchsize: 2 } as never), V, "batchsize"),

  // the outbox
  refuses("sync.enqueue with kind 'DELETE'", ({ ds, document }) => ds.sync.enqueue([document.id], "DELETE" as never), V, "Invalid job kind"),
  refuses("sync.enqueue with kind 'purge'", ({ ds, document }) => ds.sync.enqueue([document.id], "purge" as never), V, "Invalid job kind"),
  refuses("sync.enqueue with kind null", ({ ds, document }) => ds.sync.enqueue([document.id], null as never), V, "Invalid job kind"),
  refuses("sync.enqueue with a string of ids", ({ ds }) => ds.sync.enqueue("abc" as never), V, ids),
  refuses("sync.enqueue with a numeric id", ({ ds }) => ds.sync.enqueue([123 as never]), V, "0"),
  refuses("sync.retryDead([123])", ({ ds }) => ds.sync.retryDead([123 as never]), V, "0"),
  refuses("sync.retryDead('x')", ({ ds }) => ds.sync.retryDead("x" as never), V, ids),
  refuses("sync.prune(NaN)", ({ ds }) => ds.sync.prune(Number.NaN), V, "Invalid olderThanMs"),
  refuses("sync.prune(-1)", ({ ds }) => ds.sync.prune(-1), V, "Invalid olderThanMs"),
  refuses("sync.prune(Infinity)", ({ ds }) => ds.sync.prune(Number.POSITIVE_INFINITY), V, "Invalid olderThanMs"),
  refuses("sync.prune('1')", ({ ds }) => ds.sync.prune("1" as never), V, "Invalid olderThanMs"),
  refuses("sync.prune(1e20), a date PostgreSQL cannot hold", ({ ds }) => ds.sync.prune(1e20), V, "Invalid olderThanMs"),
  refuses("sync.drain with batchSize 0", ({ ds }) => ds.sync.drain({ batchSize: 0 }), V, "batchSize"),
  refuses("sync.drain with a negative timeout", ({ ds }) => ds.sync.drain({ timeoutMs: -1 }), V, "timeoutMs"),
  refuses("sync.drain with a misspelled option", ({ ds }) => ds.sync.drain({ waitForRetry: true } as never), V, "waitForRetry"),
  refuses("sync.runWorker with concurrency 0", ({ ds }) => ds.sync.runWorker({ concurrency: 0 }), V, "concurrency"),
  refuses("sync.runWorker with pollMs NaN", ({ ds }) => ds.sync.runWorker({ pollMs: Number.NaN }), V, "pollMs"),
  refuses("sync.runWorker with a misspelled option", ({ ds }) => ds.sync.runWorker({ signl: AbortSignal.abort() } as never), V, "signl"),

  // reconcile: a bad pageSize once emptied every vector list with fix
  refuses("reconcile with pageSize NaN and fix", ({ ds }) => ds.reconcile({ pageSize: Number.NaN, fix: true }), V, "pageSize"),
  refuses("reconcile with pageSize 0 and fix", ({ ds }) => ds.reconcile({ pageSize: 0, fix: true }), V, "pageSize"),
  refuses("reconcile with a negative pageSize", ({ ds }) => ds.reconcile({ pageSize: -5, fix: true }), V, "pageSize"),
  refuses("reconcile with a fractional pageSize", ({ ds }) => ds.reconcile({ pageSize: 2.5, fix: true }), V, "pageSize"),
  refuses("reconcile with pageSize 1e9", ({ ds }) => ds.reconcile({ pageSize: 1e9 }), V, "pageSize"),
  refuses("reconcile with fix: 'yes'", ({ ds }) => ds.reconcile({ fix: "yes" as never }), V, "fix"),
  refuses("reconcile with a misspelled option", ({ ds }) => ds.reconcile({ fx: true } as never), V, "fx"),
  refuses("reconcile with a negative sampleSize", ({ ds }) => ds.reconcile({ sampleSize: -1 }), V, "sampleSize"),

  // search: checked before the embedder sees it
  refuses("search of blanks", ({ ds, user }) => ds.search("   ", { userId: user.id }), V, "Invalid search query"),
  refuses("search of tabs and newlines", ({ ds, user }) => ds.search("\t\n", { userId: user.id }), V, "Invalid search query"),
  refuses("search of an empty string", ({ ds, user }) => ds.search("", { userId: user.id }), V, "Invalid search query"),
  refuses("search of a number", ({ ds, user }) => ds.search(42 as never, { userId: user.id }), V, "Invalid search query"),
  refuses("search of 10,001 characters", ({ ds, user }) => ds.search("q".repeat(10_001), { userId: user.id }), V, "Invalid search query"),
  refuses("scoped search of blanks", ({ ds, user }) => ds.as(user.id).search("   "), V, "Invalid search query"),
  refuses("search without options", ({ ds }) => ds.search("x", undefined as never), V),
  refuses("search with a numeric userId", ({ ds }) => ds.search("x", { userId: 5 as never }), V, "userId"),
  refuses("search with topK 0", ({ ds, user }) => ds.search("x", { userId: user.id, topK: 0 }), V, "topK"),
  refuses("search with topK 101", ({ ds, user }) => ds.search("x", { userId: user.id, topK: 101 }), V, "topK"),
  refuses("search with minScore 2", ({ ds, user }) => ds.search("x", { userId: user.id, minScore: 2 }), V, "minScore"),
  refuses("search with minScore NaN", ({ ds, user }) => ds.search("x", { userId: user.id, minScore: Number.NaN }), V, "minScore"),
  refuses("search with a numeric tag", ({ ds, user }) => ds.search("x", { userId: user.id, tags: [1 as never] }), V, "tags.0"),
  refuses("search with an unknown source", ({ ds, user }) => ds.search("x", { userId: user.id, source: "fax" as never }), V, "source"),
  refuses("search with no documentIds", ({ ds, user }) => ds.search("x", { userId: user.id, documentIds: [] }), V, "documentIds"),
  refuses("search with rerank 'yes'", ({ ds, user }) => ds.search("x", { userId: user.id, rerank: "yes" as never }), V, "rerank"),
  refuses("search with 1,001 rerank candidates", ({ ds, user }) => ds.search("x", { userId: user.id, rerank: { candidates: 1_001 } }), V, "rerank.candidates"),
  refuses("search grouped by pages", ({ ds, user }) => ds.search("x", { userId: user.id, group: "pages" as never }), V, "group"),
  refuses("search with 21 chunks per document", ({ ds, user }) => ds.search("x", { userId: user.id, group: "documents", chunksPerDocument: 21 }), V, "chunksPerDocument"),
  refuses("search with chunks per document but not grouped", ({ ds, user }) => ds.search("x", { userId: user.id, chunksPerDocument: 2 }), V, "chunksPerDocument"),
  refuses("search with context -1", ({ ds, user }) => ds.search("x", { userId: user.id, context: -1 }), V, "context"),
  refuses("search with context 1e9", ({ ds, user }) => ds.search("x", { userId: user.id, context: 1e9 }), V, "context"),
  refuses("search with a misspelled option", ({ ds, user }) => ds.search("x", { userId: user.id, topk: 3 } as never), V, "topk"),

  // the usage ledger
  refuses("usage with a from date past year 9999", ({ ds }) => ds.usage({ from: new Date(8.64e15) }), V, "from"),
  refuses("usage with a from that is no date", ({ ds }) => ds.usage({ from: "yesterday" }), V, "from"),
  refuses("usage with a numeric userId", ({ ds }) => ds.usage({ userId: 5 as never }), V, "userId"),
  refuses("usage with a misspelled key", ({ ds }) => ds.usage({ user: "x" } as never), V, "user"),

  // migrate, ingest
  refuses("migrate with a negative lock timeout", ({ ds }) => ds.migrate({ lockTimeoutMs: -1 }), V, "lockTimeoutMs"),
  refuses("migrate with a misspelled option", ({ ds }) => ds.migrate({ lockTimeout: 5 } as never), V, "lockTimeout"),
  refuses("ingestFiles with batchSize 0", ({ ds, folder }) => ingestFiles(ds, [folder], { batchSize: 0 }), V, "batchSize"),
  refuses("ingestFiles with an unknown indexing mode", ({ ds, folder }) => ingestFiles(ds, [folder], { indexing: "later" as never }), V, "indexing"),
  refuses("ingestFiles with a numeric userId", ({ ds, folder }) => ingestFiles(ds, [folder], { userId: 5 as never }), V, "userId"),
  refuses("ingestFiles with a numeric tag", ({ ds, folder }) => ingestFiles(ds, [folder], { tags: [5 as never] }), V, "tags.0"),
  refuses("ingestFiles with a misspelled option", ({ ds, folder }) => ingestFiles(ds, [folder], { prun: true } as never), V, "prun"),
  refuses("ingestFiles with maxFileBytes 0", ({ ds, folder }) => ingestFiles(ds, [folder], { maxFileBytes: 0 }), V, "maxFileBytes"),
  refuses("ingestFiles with a path that is no string", ({ ds }) => ingestFiles(ds, [42 as never]), V, "0"),
  refuses("ingestFiles with a string of paths", ({ ds, folder }) => ingestFiles(ds, folder as never), V, "Invalid ingest inputs"),
];

describeEachDatabase(
  "hostile input: sync, reconcile, search and ingest",
  (target) => {
    let fixture: Fixture;
    let before: Record<string, string>;
    beforeAll(async () => {
      const ds = await target.open({ sync: { onWrite: "none" } });
      const user = await ds.users.create({ email: "hostile-sync@example.com" });
      const document = await ds.documents.create({ userId: user.id, title: "indexed", source: "api", content: "the vectors of this document must survive every refusal" });
      await ds.indexDocument(document.id);
      const folder = await mkdtemp(join(tmpdir(), "dualstore-hostile-"));
      await writeFile(join(folder, "note.md"), "# A note\n\nNever stored: every call here is refused first.\n");
      fixture = { ds, user, document: await ds.documents.get(document.id), folder };
      expect(fixture.document.vectorIds.length).toBeGreaterThan(0);
      before = await tableSnapshot(ds);
    });
    afterAll(async () => {
      if (fixture) await rm(fixture.folder, { recursive: true, force: true });
    });

    it.each(cases.map((hostile) => [hostile.name, hostile] as const))("refuses %s, naming the field, and changes no table", async (_name, hostile) => {
      await expectRefused(fixture, hostile);
      expect(await tableSnapshot(fixture.ds)).toEqual(before);
    });

    it("still finds the document afterwards: no refusal touched its vectors", async () => {
      const hits = await fixture.ds.search("vectors survive refusal", { userId: fixture.user.id, minScore: -1 });
      expect(hits.map((hit) => hit.document.id)).toContain(fixture.document.id);
    });
  },
  { neon: false },
);
