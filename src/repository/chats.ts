import { z } from "zod";
import { fromPrismaError } from "../db/prisma-errors.js";
import type { Chat, Message, Prisma } from "../db/prisma.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { id, text } from "./fields.js";
import { afterCursor, pageInput, toPage, type Page } from "./pagination.js";
import { writeAsOwner } from "./owners.js";
import { listOwner, ownerForWrite, type RepositoryContext, type Scope } from "./scope.js";

export const messageRoles = ["user", "assistant", "system"] as const;
export type MessageRole = (typeof messageRoles)[number];

const title = text({ min: 1, max: 500 });

const createChatInput = z.strictObject({ userId: id.optional(), title });

const listChatsInput = z.strictObject({
  /** Whose chats; required unscoped, implied by a user scope. */
  userId: id.optional(),
  /** Only archived (true) or only active (false) chats. Absent: both. */
  archived: z.boolean().optional(),
  ...pageInput,
});

const messageInput = z.strictObject({
  role: z.enum(messageRoles),
  content: text({ max: 1_000_000 }),
  model: text({ min: 1, max: 200 }).nullish(),
  tokensUsed: z.number().int().min(0).max(100_000_000).nullish(),
  latencyMs: z.number().int().min(0).max(86_400_000).nullish(),
});

const getChatOptions = z
  .strictObject({ withMessages: z.boolean().default(false), messageLimit: z.number().int().min(1).max(10_000).default(1_000) })
  .default({ withMessages: false, messageLimit: 1_000 });

const appendManyInput = z.array(messageInput).min(1).max(1_000);
const listMessagesInput = z.strictObject({ ...pageInput, limit: pageInput.limit.unwrap().max(500).default(50) });

export type CreateChatInput = z.input<typeof createChatInput>;
export type ListChatsInput = z.input<typeof listChatsInput>;
export type AppendMessageInput = z.input<typeof messageInput>;
export type ListMessagesInput = z.input<typeof listMessagesInput>;
export type ChatWithMessages = Chat & { messages: Message[] };

export class ChatsRepository {
  readonly messages: MessagesRepository;

  /** @internal Repositories come from createDualstore(). */
  constructor(private readonly ctx: RepositoryContext) {
    this.messages = new MessagesRepository(ctx);
  }

  async create(input: CreateChatInput): Promise<Chat> {
    const data = parseInput(createChatInput, input, "chat");
    const userId = ownerForWrite(this.ctx.scope, data.userId, "chats.create");
    if (!userId) throw missingOwner("chats.create");
    try {
      return await writeAsOwner(this.ctx, userId, (client) => client.chat.create({ data: { title: data.title, userId } }));
    } catch (error) {
      throw fromPrismaError(error, { entity: "Chat", refs: { userId: ["User", userId] } });
    }
  }

  /** The chat, with its messages in order when `withMessages` is set (up to `messageLimit`, default 1,000). */
  async get(chatId: string): Promise<Chat>;
  async get(chatId: string, options: { withMessages: true; messageLimit?: number }): Promise<ChatWithMessages>;
  async get(chatId: string, options?: { withMessages?: boolean; messageLimit?: number }): Promise<Chat | ChatWithMessages> {
    const key = parseInput(id, chatId, "chat id");
    const { withMessages, messageLimit: take } = parseInput(getChatOptions, options, "chat options");
    const chat = await this.ctx.client.chat.findFirst({
      where: { id: key, ...ownedBy(this.ctx.scope) },
      ...(withMessages ? { include: { messages: { orderBy: [{ createdAt: "asc" }, { id: "asc" }], take } } } : {}),
    });
    if (!chat) throw new NotFoundError("Chat", key);
    return chat;
  }

  /** A user's chats, newest first. */
  async list(filter: ListChatsInput = {}): Promise<Page<Chat>> {
    const query = parseInput(listChatsInput, filter, "chat filter");
    const userId = listOwner(this.ctx.scope, query.userId);
    if (userId === undefined) throw missingOwner("chats.list");
    // Another user's id through a scope lists nothing: not an error, so nothing leaks either way.
    if (userId === null) return { items: [], nextCursor: null };
    const rows = await this.ctx.client.chat.findMany({
      where: {
        AND: [
          { userId },
          query.archived === undefined ? {} : { archived: query.archived },
          afterCursor("createdAt", query.cursor, "desc") ?? {},
        ],
      },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, (row) => row.createdAt);
  }

  async rename(chatId: string, newTitle: string): Promise<Chat> {
    const value = parseInput(title, newTitle, "chat title");
    return this.change(chatId, { title: value });
  }

  async archive(chatId: string, archived = true): Promise<Chat> {
    return this.change(chatId, { archived: parseInput(z.boolean(), archived, "archived") });
  }

  /** Deletes the chat and its messages; artifacts that referred to them stay, unlinked. */
  async delete(chatId: string): Promise<void> {
    const key = parseInput(id, chatId, "chat id");
    const { count } = await this.ctx.client.chat.deleteMany({ where: { id: key, ...ownedBy(this.ctx.scope) } });
    if (count === 0) throw new NotFoundError("Chat", key);
  }

  private async change(chatId: string, data: Prisma.ChatUpdateManyMutationInput): Promise<Chat> {
    const key = parseInput(id, chatId, "chat id");
    const rows = await this.ctx.client.chat.updateManyAndReturn({ where: { id: key, ...ownedBy(this.ctx.scope) }, data });
    if (!rows[0]) throw new NotFoundError("Chat", key);
    return rows[0];
  }
}

export class MessagesRepository {
  /** @internal Repositories come from createDualstore(). */
  constructor(private readonly ctx: RepositoryContext) {}

  /** Appends one message and touches the chat's updatedAt. */
  async append(chatId: string, input: AppendMessageInput): Promise<Message> {
    // Checked alone first, so a bad field is named `role`, not `0.role`.
    parseInput(messageInput, input, "message");
    const [message] = await this.appendMany(chatId, [input]);
    return message!;
  }

  /**
   * Appends messages in order, all or none, in one transaction. Each message gets a createdAt
   * strictly after the chat's previous one (a millisecond apart within a batch), so reading a
   * chat back in (createdAt, id) order returns messages exactly in the order they were appended.
   */
  async appendMany(chatId: string, inputs: AppendMessageInput[]): Promise<Message[]> {
    const key = parseInput(id, chatId, "chat id");
    const data = parseInput(appendManyInput, inputs, "messages");
    return this.ctx.transaction(async (tx) => {
      const chat = await tx.chat.findFirst({
        where: { id: key, ...ownedBy(this.ctx.scope) },
        select: { messages: { select: { createdAt: true }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 1 } },
      });
      if (!chat) throw new NotFoundError("Chat", key);
      const first = Math.max(Date.now(), (chat.messages[0]?.createdAt.getTime() ?? 0) + 1);
      try {
        const created = await tx.message.createManyAndReturn({
          data: data.map((message, i) => ({ ...message, chatId: key, createdAt: new Date(first + i) })),
        });
        await tx.chat.update({ where: { id: key }, data: { updatedAt: new Date() } });
        return created.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      } catch (error) {
        throw fromPrismaError(error, { entity: "Message", refs: { chatId: ["Chat", key] } });
      }
    });
  }

  /** A chat's messages, oldest first. */
  async list(chatId: string, options: ListMessagesInput = {}): Promise<Page<Message>> {
    const key = parseInput(id, chatId, "chat id");
    const query = parseInput(listMessagesInput, options, "message page");
    const chat = await this.ctx.client.chat.findFirst({ where: { id: key, ...ownedBy(this.ctx.scope) }, select: { id: true } });
    if (!chat) throw new NotFoundError("Chat", key);
    const rows = await this.ctx.client.message.findMany({
      where: { AND: [{ chatId: key }, afterCursor("createdAt", query.cursor, "asc") ?? {}] },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, (row) => row.createdAt);
  }
}

function ownedBy(scope: Scope): { userId?: string } {
  return scope === null ? {} : { userId: scope.userId };
}

export function missingOwner(operation: string): ValidationError {
  return new ValidationError(operation, [{ path: "userId", message: "required unless the call goes through a user scope" }]);
}
