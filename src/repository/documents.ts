import { createHash } from "node:crypto";
import { z } from "zod";
import { fromPrismaError } from "../db/prisma-errors.js";
import { IndexStatus, Prisma, type Document } from "../db/prisma.js";
import { NotFoundError, PermissionError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { dateInput, id, jsonObject, tags, text } from "./fields.js";
import type { DocumentSync, SyncMode } from "./hooks.js";
import { afterCursor, pageInput, toPage, type Page } from "./pagination.js";
import { ownerForWrite, type RepositoryContext, type Scope } from "./scope.js";

/** A document without its content, as lists return it (content can be megabytes). */
export type DocumentSummary = Omit<Document, "content">;

export const documentSources = ["upload", "url", "api", "system"] as const;
export type DocumentSource = (typeof documentSources)[number];

/** Largest content accepted inline, in UTF-16 code units (about 50 MB of ASCII). */
export const MAX_CONTENT_LENGTH = 50_000_000;

const metadataObject = jsonObject;

const createDocumentInput = z.strictObject({
  /** Owner; `null` (or absent, unscoped) makes a public document every user can search. */
  userId: id.nullish(),
  title: text({ min: 1, max: 1_000 }),
  source: z.enum(documentSources),
  sourceUrl: text({ max: 2_000 }).nullish(),
  mimeType: text({ max: 200 }).nullish(),
  content: text({ max: MAX_CONTENT_LENGTH }).nullish(),
  language: text({ min: 1, max: 35 }).nullish(),
  tags: tags.optional(),
  metadata: metadataObject.nullish(),
});

const createDocumentsInput = z.array(createDocumentInput).min(1).max(10_000);

const updateDocumentInput = createDocumentInput.omit({ userId: true }).partial();

const syncOption = z.strictObject({ sync: z.enum(["none", "enqueue", "now"]).optional() }).optional();
const deleteOption = z.strictObject({ sync: z.enum(["enqueue", "now"]).optional() }).optional();

const listDocumentsInput = z.strictObject({
  /** Owner filter: a user id, or `null` for public documents only. Absent: all visible. */
  userId: id.nullable().optional(),
  /** The mirrors of this source's rows instead of ordinary documents. */
  sourceName: id.optional(),
  /** Documents carrying every one of these tags. */
  tags: z.array(text({ min: 1, max: 100 })).max(50).optional(),
  indexed: z.boolean().optional(),
  status: z.union([z.enum(IndexStatus), z.array(z.enum(IndexStatus)).min(1)]).optional(),
  createdAfter: dateInput.optional(),
  createdBefore: dateInput.optional(),
  ...pageInput,
});

export type CreateDocumentInput = z.input<typeof createDocumentInput>;
export type UpdateDocumentInput = z.input<typeof updateDocumentInput>;
export type ListDocumentsInput = z.input<typeof listDocumentsInput>;
export interface DocumentWriteOptions {
  /** How this write reaches the vector index; default from `sync.onWrite` in the options. */
  sync?: SyncMode;
}

export interface DocumentDeleteOptions {
  /** "now": vectors, then row, before returning (the default outside a transaction). "enqueue": hide it and leave the rest to the outbox (the default inside one). */
  sync?: "now" | "enqueue";
}

/** sha256 of a document's content: lets the sync pipeline decide "unchanged" without reading it. */
export function contentHash(content: string | null | undefined): string | null {
  return content == null ? null : createHash("sha256").update(content, "utf8").digest("hex");
}

/** The columns whose change makes the stored vectors (or their metadata) stale; content is compared by its hash. */
const indexedColumns = ["title", "source", "sourceUrl", "language", "tags", "metadata"] as const;

/** What a write reads of the row it changes: the owner, and what decides whether the index goes stale. Never the content. */
const ownedColumns = {
  id: true,
  userId: true,
  contentHash: true,
  title: true,
  source: true,
  sourceUrl: true,
  language: true,
  tags: true,
  metadata: true,
} as const satisfies Prisma.DocumentSelect & Record<(typeof indexedColumns)[number], true>;
type OwnedRow = Prisma.DocumentGetPayload<{ select: typeof ownedColumns }>;

export class DocumentsRepository {
  /** @internal Repositories come from createDualstore(). */
  constructor(
    private readonly ctx: RepositoryContext,
    private readonly sync: DocumentSync,
  ) {}

  async create(input: CreateDocumentInput, options?: DocumentWriteOptions): Promise<Document> {
    const [document] = await this.insert([parseInput(createDocumentInput, input, "document")], this.mode(options));
    return document!;
  }

  /**
   * Creates documents together: every input is checked first (a ValidationError names the
   * offending `<index>.<field>`s and nothing is written), then the rows, and their sync jobs when
   * enqueued, are written in one transaction: a handful of statements however many documents.
   */
  async createMany(inputs: CreateDocumentInput[], options?: DocumentWriteOptions): Promise<Document[]> {
    return this.insert(parseInput(createDocumentsInput, inputs, "documents"), this.mode(options));
  }

  private async insert(rows: Array<z.output<typeof createDocumentInput>>, mode: SyncMode): Promise<Document[]> {
    const data = rows.map(({ metadata, ...row }) => {
      const userId = ownerForWrite(this.ctx.scope, row.userId, "documents.create") ?? null;
      // No metadata is left to the column (NULL): Prisma.DbNull in the data makes Prisma compile a
      // new query plan for every call (2-3 ms of CPU each) instead of reusing a cached one.
      return { ...row, userId, ...(metadata ? { metadata } : {}), contentHash: contentHash(row.content), indexStatusAt: new Date() };
    });
    const write = async (client: RepositoryContext["client"]): Promise<Document[]> => {
      try {
        // The content is written, not read back: the caller has it, and it may be megabytes.
        // One row goes through create(), whose query plan Prisma caches; several, one multi-row INSERT.
        const written =
          data.length === 1
            ? [await client.document.create({ data: data[0]!, omit: { content: true } })]
            : await client.document.createManyAndReturn({ data, omit: { content: true } });
        return written.map((row, i) => ({ ...row, content: data[i]!.content ?? null }));
      } catch (error) {
        throw fromPrismaError(error, { entity: "Document" });
      }
    };
    // Only an enqueued sync adds a second write (the jobs); otherwise one statement is enough.
    const created =
      mode === "enqueue"
        ? await this.ctx.transaction(async (tx) => {
            const documents = await write(tx);
            await this.sync.changed(tx, documents, mode);
            return documents;
          })
        : await write(this.ctx.client);
    // One multi-row INSERT ... RETURNING: PostgreSQL returns the rows in the order of the input.
    return this.afterWrite(created, mode);
  }

  /** A document the scope can see: its own, or a public one. */
  async get(documentId: string): Promise<Document> {
    const key = parseInput(id, documentId, "document id");
    const document = await this.ctx.client.document.findFirst({ where: { id: key, sourceName: null, ...visibleTo(this.ctx.scope) } });
    if (!document) throw new NotFoundError("Document", key);
    return document;
  }

  /** Newest first, without content. Mirrors of source rows only when `sourceName` asks for them. */
  async list(filter: ListDocumentsInput = {}): Promise<Page<DocumentSummary>> {
    const query = parseInput(listDocumentsInput, filter, "document filter");
    const statuses = query.status === undefined ? undefined : Array.isArray(query.status) ? query.status : [query.status];
    const where: Prisma.DocumentWhereInput = {
      AND: [
        visibleTo(this.ctx.scope),
        { sourceName: query.sourceName ?? null },
        query.userId === undefined ? {} : { userId: query.userId },
        query.tags?.length ? { tags: { hasEvery: query.tags } } : {},
        query.indexed === undefined ? {} : { indexed: query.indexed },
        statuses ? { indexStatus: { in: statuses } } : {},
        query.createdAfter ? { createdAt: { gte: query.createdAfter } } : {},
        query.createdBefore ? { createdAt: { lt: query.createdBefore } } : {},
        afterCursor("createdAt", query.cursor, "desc") ?? {},
      ],
    };
    const rows = await this.ctx.client.document.findMany({
      where,
      omit: { content: true },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, (row) => row.createdAt);
  }

  /**
   * Updates a document the scope owns. Changing what the index holds (content, title, tags,
   * metadata, ...) marks it PENDING and not indexed until it is synced again; changing the
   * content alone re-embeds only the chunks whose text changed.
   */
  async update(documentId: string, patch: UpdateDocumentInput, options?: DocumentWriteOptions): Promise<Document> {
    const key = parseInput(id, documentId, "document id");
    const data = parseInput(updateDocumentInput, patch, "document update");
    const mode = this.mode(options);
    const newHash = data.content === undefined ? undefined : contentHash(data.content);
    const document = await this.ctx.transaction(async (tx) => {
      const current = await this.ownedForWrite(tx, key);
      const stale =
        (newHash !== undefined && newHash !== current.contentHash) ||
        indexedColumns.some((column) => column in data && JSON.stringify(data[column] ?? null) !== JSON.stringify(current[column] ?? null));
      try {
        const { metadata, ...columns } = data;
        const changes: Prisma.DocumentUncheckedUpdateInput = {
          ...columns,
          ...(newHash === undefined ? {} : { contentHash: newHash }),
          ...(metadata === undefined ? {} : { metadata: metadata ?? Prisma.DbNull }),
          ...(stale ? { indexed: false, indexStatus: IndexStatus.PENDING, indexStatusAt: new Date() } : {}),
        };
        // New content is not read back (the caller has it); content the patch leaves alone is.
        const updated: Document =
          data.content === undefined
            ? await tx.document.update({ where: { id: key }, data: changes })
            : { ...(await tx.document.update({ where: { id: key }, data: changes, omit: { content: true } })), content: data.content ?? null };
        if (stale) await this.sync.changed(tx, [updated], mode);
        return { updated, stale };
      } catch (error) {
        throw fromPrismaError(error, { entity: "Document", id: key });
      }
    });
    return document.stale ? (await this.afterWrite([document.updated], mode))[0]! : document.updated;
  }

  /**
   * Deletes a document the scope owns: its vectors first, then its row. If the vector store
   * cannot be reached the row stays, marked DELETING and hidden from search, until a retry
   * (or the sync worker) finishes the job. Inside `ds.transaction()` the delete is enqueued.
   */
  async delete(documentId: string, options?: DocumentDeleteOptions): Promise<void> {
    const key = parseInput(id, documentId, "document id");
    const mode = parseInput(deleteOption, options, "options")?.sync ?? (this.ctx.inTransaction ? "enqueue" : "now");
    if (mode === "now" && !this.ctx.inTransaction) {
      // Unscoped, there is no owner to check: deleteNow itself reports a missing document.
      if (this.ctx.scope) await this.ownedForWrite(this.ctx.client, key);
      await this.sync.deleteNow(key);
      return;
    }
    await this.ctx.transaction(async (tx) => this.sync.deleteEnqueued(tx, await this.ownedForWrite(tx, key)));
  }

  private mode(options: DocumentWriteOptions | undefined): SyncMode {
    return parseInput(syncOption, options, "options")?.sync ?? this.sync.defaultMode;
  }

  /** With sync "now", indexes the written documents once their transaction committed, and returns them re-read (all but the content, which indexing leaves as it was). */
  private async afterWrite(documents: Document[], mode: SyncMode): Promise<Document[]> {
    if (mode !== "now") return documents;
    let indexed = documents;
    await this.ctx.afterCommit(async () => {
      await this.sync.indexNow(documents.map((document) => document.id));
      const rows = await this.ctx.client.document.findMany({ where: { id: { in: documents.map((document) => document.id) } }, omit: { content: true } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      indexed = documents.map((document) => {
        const row = byId.get(document.id);
        return row ? { ...row, content: document.content } : document;
      });
    });
    return indexed;
  }

  /**
   * The row's owner and indexed fields, if this scope may change it: NotFound when invisible or
   * a source mirror (those follow their app rows), Permission when public.
   */
  private async ownedForWrite(client: RepositoryContext["client"], key: string): Promise<OwnedRow> {
    const document = await client.document.findFirst({ where: { id: key, sourceName: null, ...visibleTo(this.ctx.scope) }, select: ownedColumns });
    if (!document) throw new NotFoundError("Document", key);
    if (this.ctx.scope && document.userId !== this.ctx.scope.userId) {
      throw new PermissionError(`Document ${JSON.stringify(key)} is public; a user scope cannot change it`);
    }
    return document;
  }
}

/** Rows a scope can read: its own and public ones. */
export function visibleTo(scope: Scope): Prisma.DocumentWhereInput {
  return scope === null ? {} : { OR: [{ userId: scope.userId }, { userId: null }] };
}
