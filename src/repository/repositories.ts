import { showAs } from "../core/inspect.js";
import type { PrismaClient, TransactionClient } from "../db/prisma.js";
import { ArtifactsRepository } from "./artifacts.js";
import { ChatsRepository } from "./chats.js";
import { DocumentsRepository } from "./documents.js";
import type { DocumentSync } from "./hooks.js";
import type { OwnerMode } from "./owners.js";
import type { RepositoryContext, Scope } from "./scope.js";
import { SettingsRepository } from "./settings.js";
import { UsersRepository } from "./users.js";

/** The typed data-access half of dualstore, bound to one scope and one client or transaction. */
export interface Repositories {
  readonly users: UsersRepository;
  readonly documents: DocumentsRepository;
  readonly chats: ChatsRepository;
  readonly artifacts: ArtifactsRepository;
  readonly settings: SettingsRepository;
}

export interface TransactionOptions {
  /** Longest a transaction may run, in ms. Default 15,000. */
  timeoutMs?: number;
  /** Longest to wait for a connection to start it, in ms. Default 5,000. */
  maxWaitMs?: number;
}

export function createRepositories(ctx: RepositoryContext, sync: DocumentSync): Repositories {
  // util.inspect of a repository shows its scope, not its database client (which holds credentials).
  const shown = <T extends object>(repository: T, name: string) => showAs(repository, name, () => ({ userId: ctx.scope?.userId ?? null }));
  const chats = new ChatsRepository(ctx);
  shown(chats.messages, "MessagesRepository");
  return {
    users: shown(new UsersRepository(ctx, sync), "UsersRepository"),
    documents: shown(new DocumentsRepository(ctx, sync), "DocumentsRepository"),
    chats: shown(chats, "ChatsRepository"),
    artifacts: shown(new ArtifactsRepository(ctx), "ArtifactsRepository"),
    settings: shown(new SettingsRepository(ctx), "SettingsRepository"),
  };
}

/** How repositories behave, the same for every scope. */
export interface RepositoryOptions {
  readonly transactions: TransactionOptions;
  readonly owners: OwnerMode;
}

function prismaTransactionOptions(options: TransactionOptions) {
  return { timeout: options.timeoutMs ?? 15_000, maxWait: options.maxWaitMs ?? 5_000 };
}

/** Repositories outside any transaction: each multi-step write opens its own. */
export function standaloneContext(prisma: PrismaClient, scope: Scope, options: RepositoryOptions): RepositoryContext {
  return {
    client: prisma,
    scope,
    owners: options.owners,
    inTransaction: false,
    transaction: (work) => prisma.$transaction(work, prismaTransactionOptions(options.transactions)),
    afterCommit: (work) => work(),
  };
}

/**
 * Runs `work` with repositories bound to one database transaction: everything it writes
 * commits together or not at all. Work that must follow the commit (indexing, vector purges)
 * runs after it, in order.
 */
export async function inTransaction<T>(
  prisma: PrismaClient,
  scope: Scope,
  sync: DocumentSync,
  options: RepositoryOptions,
  work: (repositories: Repositories) => Promise<T>,
): Promise<T> {
  const afterCommit: Array<() => Promise<void>> = [];
  const result = await prisma.$transaction(async (tx: TransactionClient) => {
    const ctx: RepositoryContext = {
      client: tx,
      scope,
      owners: options.owners,
      inTransaction: true,
      transaction: (inner) => inner(tx),
      afterCommit: async (next) => {
        afterCommit.push(next);
      },
    };
    return work(createRepositories(ctx, sync));
  }, prismaTransactionOptions(options.transactions));
  for (const next of afterCommit) await next();
  return result;
}
