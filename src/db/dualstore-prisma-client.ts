import type { DualstoreModelName } from "../generated/models.js";

/** Enough of a Prisma model delegate (`prisma.document`, ...) to tell that the client has the model. */
export interface PrismaModelDelegate {
  findMany(...args: never[]): PromiseLike<unknown>;
}

/**
 * Any PrismaClient whose schema holds dualstore's models: dualstore's own, or an app's generated
 * from a schema that adopted them (`npx dualstore schema`), with or without extensions. Only its
 * shape is checked, so a client generated into the app's own folder is accepted. Account and
 * Session may be missing: an app may keep its own auth models, and dualstore reads neither.
 */
export type DualstorePrismaClient = {
  $transaction(...args: never[]): Promise<unknown>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $disconnect(): Promise<void>;
} & { readonly [Model in Uncapitalize<Exclude<DualstoreModelName, "Account" | "Session">>]: PrismaModelDelegate };
