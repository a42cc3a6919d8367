// Stands in for `npx prisma migrate deploy` of the app's migrations (the Prisma 7 CLI downloads a
// schema engine, which this offline example cannot): applies prisma/migrations once, in order.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface RawClient {
  $queryRawUnsafe<T>(sql: string): Promise<T>;
  $executeRawUnsafe(sql: string): Promise<number>;
}

export async function applyAppMigrations(prisma: RawClient): Promise<void> {
  const [row] = await prisma.$queryRawUnsafe<Array<{ present: boolean }>>(`SELECT to_regclass('public."Product"') IS NOT NULL AS present`);
  if (row?.present) return;
  const dir = fileURLToPath(new URL("prisma/migrations/", import.meta.url));
  for (const name of readdirSync(dir).filter((entry) => /^\d+_/.test(entry)).sort()) {
    const script = readFileSync(`${dir}${name}/migration.sql`, "utf8");
    for (const statement of script.split(/;\s*\n/).map((s) => s.replace(/^\s*--.*$/gm, "").trim()).filter(Boolean)) {
      await prisma.$executeRawUnsafe(statement);
    }
  }
}
