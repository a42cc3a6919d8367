import type { Logger } from "../core/logger.js";
import { quoteIdentifier, qualifiedName } from "../db/driver.js";
import { PRISMA_MIGRATE_LOCK_KEY } from "../db/migrate.js";
import { fromPrismaError } from "../db/prisma-errors.js";
import type { PrismaClient } from "../db/prisma.js";
import type { CatalogExtra } from "./catalog.js";

/**
 * Runs, for an app that migrates dualstore's tables itself, the parts of dualstore's migrations
 * its Prisma schema cannot express (functions, triggers, their backfills), each migration's in
 * one transaction. They live beside the tables, where the app's `prisma migrate` does not look:
 * Prisma diffs neither functions nor triggers. Holding Prisma Migrate's advisory lock, processes
 * take turns; each step can run again (functions are replaced, triggers dropped and re-created).
 */
export async function installExtras(
  prisma: PrismaClient,
  target: { readonly schema: string | undefined; readonly extras: readonly CatalogExtra[]; readonly logger: Logger },
): Promise<void> {
  for (const extra of target.extras) {
    const install = prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${PRISMA_MIGRATE_LOCK_KEY})`);
      if (target.schema !== undefined) await tx.$executeRawUnsafe(`SET LOCAL search_path TO ${quoteIdentifier(target.schema)}`);
      for (const trigger of extra.triggers) {
        await tx.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${quoteIdentifier(trigger.name)} ON ${qualifiedName(target.schema, trigger.table)}`);
      }
      for (const statement of extra.statements) await tx.$executeRawUnsafe(statement);
    });
    await install.catch((error: unknown) => {
      throw fromPrismaError(error, { entity: `the functions and triggers of dualstore migration ${extra.migration}` });
    });
    target.logger.info("installed the functions and triggers of a dualstore migration (your Prisma schema cannot hold them)", {
      migration: extra.migration,
    });
  }
}
