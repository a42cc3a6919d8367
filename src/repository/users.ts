import { z } from "zod";
import { fromPrismaError } from "../db/prisma-errors.js";
import type { User } from "../db/prisma.js";
import { NotFoundError, PermissionError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { dateInput, id, text } from "./fields.js";
import type { DocumentSync } from "./hooks.js";
import type { RepositoryContext } from "./scope.js";

const email = text({ max: 320 }).pipe(z.email()).transform((value) => value.toLowerCase());

const createUserInput = z.strictObject({
  email,
  name: text({ max: 200 }).nullish(),
  image: text({ max: 2_000 }).nullish(),
  emailVerified: dateInput.nullish(),
});

const updateUserInput = z.strictObject({
  email: email.optional(),
  name: text({ max: 200 }).nullish(),
  image: text({ max: 2_000 }).nullish(),
  emailVerified: dateInput.nullish(),
});

export type CreateUserInput = z.input<typeof createUserInput>;
export type UpdateUserInput = z.input<typeof updateUserInput>;

export class UsersRepository {
  /** @internal Repositories come from createDualstore(). */
  constructor(
    private readonly ctx: RepositoryContext,
    private readonly sync: DocumentSync,
  ) {}

  /** Creates a user; emails are stored lower-cased and must be unique (ConflictError). Not available through a user scope. */
  async create(input: CreateUserInput): Promise<User & { email: string }> {
    if (this.ctx.scope) throw new PermissionError("users.create: a user scope cannot create users");
    const data = parseInput(createUserInput, input, "user");
    try {
      // Only owner rows made for external owners lack an email; this one has the one just validated.
      return { ...(await this.ctx.client.user.create({ data })), email: data.email };
    } catch (error) {
      throw fromPrismaError(error, { entity: "User" });
    }
  }

  async get(userId: string): Promise<User> {
    const key = parseInput(id, userId, "user id");
    const user = this.visible(key) ? await this.ctx.client.user.findUnique({ where: { id: key } }) : null;
    if (!user) throw new NotFoundError("User", key);
    return user;
  }

  async getByEmail(address: string): Promise<User> {
    const key = parseInput(email, address, "email");
    const user = await this.ctx.client.user.findUnique({ where: { email: key } });
    if (!user || !this.visible(user.id)) throw new NotFoundError("User", key);
    return user;
  }

  async update(userId: string, patch: UpdateUserInput): Promise<User> {
    const key = parseInput(id, userId, "user id");
    const data = parseInput(updateUserInput, patch, "user update");
    if (!this.visible(key)) throw new NotFoundError("User", key);
    try {
      return await this.ctx.client.user.update({ where: { id: key }, data });
    } catch (error) {
      throw fromPrismaError(error, { entity: "User", id: key });
    }
  }

  /**
   * Deletes the user and everything it owns (accounts, sessions, chats and their messages,
   * artifacts, settings, documents). The documents' vectors leave the vector index too: the
   * purge is recorded in the same transaction as the delete, so it cannot be lost. Mirrors of
   * source rows the user owns stay: they follow the app's rows, not dualstore's users.
   */
  async delete(userId: string): Promise<void> {
    const key = parseInput(id, userId, "user id");
    if (!this.visible(key)) throw new NotFoundError("User", key);
    await this.ctx.transaction(async (tx) => {
      const existing = await tx.user.findUnique({ where: { id: key }, select: { id: true } });
      if (!existing) throw new NotFoundError("User", key);
      await this.sync.userDeleting(tx, key);
      // Documents name their owner without a foreign key (an owner need not be a dualstore user).
      await tx.document.deleteMany({ where: { userId: key, sourceName: null } });
      await tx.user.delete({ where: { id: key } });
    });
    await this.ctx.afterCommit(() => this.sync.userDeleted(key));
  }

  private visible(userId: string): boolean {
    return this.ctx.scope === null || this.ctx.scope.userId === userId;
  }
}
