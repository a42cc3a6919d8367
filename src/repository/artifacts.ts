import { z } from "zod";
import { fromPrismaError } from "../db/prisma-errors.js";
import { Prisma, type Artifact } from "../db/prisma.js";
import { NotFoundError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { missingOwner } from "./chats.js";
import { id, jsonObject, text } from "./fields.js";
import { ensureOwners } from "./owners.js";
import { afterCursor, pageInput, toPage, type Page } from "./pagination.js";
import { listOwner, ownerForWrite, type DatabaseClient, type RepositoryContext, type Scope } from "./scope.js";

export const artifactTypes = ["code", "json", "html", "markdown", "diagram", "image", "latex", "table"] as const;
export type ArtifactType = (typeof artifactTypes)[number];

/** Inline content limit (ADR-002: larger content goes to blob storage and is referenced by blobUrl). */
export const MAX_INLINE_ARTIFACT_BYTES = 1024 * 1024;

const inlineContent = text().refine((value) => Buffer.byteLength(value, "utf8") <= MAX_INLINE_ARTIFACT_BYTES, {
  message: `must be at most ${MAX_INLINE_ARTIFACT_BYTES} bytes; store larger content in blob storage and pass blobUrl`,
});

const blobUrl = text({ max: 2_000 }).pipe(z.url({ protocol: /^https?$/ }));

const artifactFields = {
  type: z.enum(artifactTypes),
  title: text({ max: 500 }).nullish(),
  language: text({ min: 1, max: 50 }).nullish(),
  metadata: jsonObject.nullish(),
  messageId: id.nullish(),
  /** Bytes; the column is a 32-bit integer (blobs up to 2 GiB - 1). */
  blobSize: z.number().int().min(0).max(2_147_483_647).nullish(),
};

const createArtifactInput = z
  .strictObject({
    userId: id.optional(),
    ...artifactFields,
    /** The content; with a blobUrl it may be a preview (or empty). */
    content: text(),
    blobUrl: blobUrl.nullish(),
  })
  .superRefine((value, issues) => checkContent(value, issues));

const updateArtifactInput = z
  .strictObject({ ...artifactFields, content: text(), blobUrl: blobUrl.nullish() })
  .partial()
  .superRefine((value, issues) => {
    if (value.content !== undefined) checkContent(value, issues);
  });

const listArtifactsInput = z.strictObject({
  userId: id.optional(),
  type: z.enum(artifactTypes).optional(),
  messageId: id.optional(),
  ...pageInput,
});

function checkContent(value: { content?: string | undefined; blobUrl?: string | null | undefined }, ctx: z.RefinementCtx) {
  if (value.blobUrl || value.content === undefined) return;
  const result = inlineContent.safeParse(value.content);
  if (!result.success) ctx.addIssue({ code: "custom", path: ["content"], message: result.error.issues[0]!.message });
}

export type CreateArtifactInput = z.input<typeof createArtifactInput>;
export type UpdateArtifactInput = z.input<typeof updateArtifactInput>;
export type ListArtifactsInput = z.input<typeof listArtifactsInput>;

export class ArtifactsRepository {
  /** @internal Repositories come from createDualstore(). */
  constructor(private readonly ctx: RepositoryContext) {}

  /** Creates an artifact, optionally linked to a message of one of the owner's chats. */
  async create(input: CreateArtifactInput): Promise<Artifact> {
    const data = parseInput(createArtifactInput, input, "artifact");
    const userId = ownerForWrite(this.ctx.scope, data.userId, "artifacts.create");
    if (!userId) throw missingOwner("artifacts.create");
    return this.ctx.transaction(async (tx) => {
      if (data.messageId) await requireOwnedMessage(tx, data.messageId, userId);
      await ensureOwners(tx, this.ctx.owners, [userId]);
      try {
        return await tx.artifact.create({ data: { ...data, userId, metadata: data.metadata ?? Prisma.DbNull } });
      } catch (error) {
        throw fromPrismaError(error, { entity: "Artifact", refs: { userId: ["User", userId], messageId: ["Message", data.messageId] } });
      }
    });
  }

  async get(artifactId: string): Promise<Artifact> {
    const key = parseInput(id, artifactId, "artifact id");
    const artifact = await this.ctx.client.artifact.findFirst({ where: { id: key, ...ownedBy(this.ctx.scope) } });
    if (!artifact) throw new NotFoundError("Artifact", key);
    return artifact;
  }

  /** An owner's artifacts, newest first, optionally of one type or one message. */
  async list(filter: ListArtifactsInput = {}): Promise<Page<Artifact>> {
    const query = parseInput(listArtifactsInput, filter, "artifact filter");
    const userId = listOwner(this.ctx.scope, query.userId);
    if (userId === undefined) throw missingOwner("artifacts.list");
    // Another user's id through a scope lists nothing: not an error, so nothing leaks either way.
    if (userId === null) return { items: [], nextCursor: null };
    const rows = await this.ctx.client.artifact.findMany({
      where: {
        AND: [
          { userId },
          query.type ? { type: query.type } : {},
          query.messageId ? { messageId: query.messageId } : {},
          afterCursor("createdAt", query.cursor, "desc") ?? {},
        ],
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, (row) => row.createdAt);
  }

  async update(artifactId: string, patch: UpdateArtifactInput): Promise<Artifact> {
    const key = parseInput(id, artifactId, "artifact id");
    const data = parseInput(updateArtifactInput, patch, "artifact update");
    return this.ctx.transaction(async (tx) => {
      const current = await tx.artifact.findFirst({ where: { id: key, ...ownedBy(this.ctx.scope) } });
      if (!current) throw new NotFoundError("Artifact", key);
      if (data.messageId) await requireOwnedMessage(tx, data.messageId, current.userId);
      if (data.content === undefined && data.blobUrl === null) {
        // Dropping the blob makes the stored content the whole artifact again: it must fit inline.
        parseInput(z.object({ content: inlineContent }), { content: current.content }, "artifact update");
      }
      try {
        const { metadata, ...columns } = data;
        const changes: Prisma.ArtifactUncheckedUpdateInput = {
          ...columns,
          ...(metadata === undefined ? {} : { metadata: metadata ?? Prisma.DbNull }),
        };
        return await tx.artifact.update({ where: { id: key }, data: changes });
      } catch (error) {
        throw fromPrismaError(error, { entity: "Artifact", id: key, refs: { messageId: ["Message", data.messageId] } });
      }
    });
  }

  async delete(artifactId: string): Promise<void> {
    const key = parseInput(id, artifactId, "artifact id");
    const { count } = await this.ctx.client.artifact.deleteMany({ where: { id: key, ...ownedBy(this.ctx.scope) } });
    if (count === 0) throw new NotFoundError("Artifact", key);
  }
}

/** An artifact may only point at a message in one of its owner's chats: no cross-tenant links. */
async function requireOwnedMessage(client: DatabaseClient, messageId: string, userId: string): Promise<void> {
  const message = await client.message.findFirst({ where: { id: messageId, chat: { userId } }, select: { id: true } });
  if (!message) throw new NotFoundError("Message", messageId);
}

function ownedBy(scope: Scope): { userId?: string } {
  return scope === null ? {} : { userId: scope.userId };
}
