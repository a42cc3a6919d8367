import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const migrationsDir = join(repoRoot, "prisma", "migrations");
export const schemaPath = join(repoRoot, "prisma", "schema.prisma");

export function tempDir(prefix = "dualstore-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A writable copy of prisma/migrations, for tests that edit or extend it. */
export function copyOfMigrations(): string {
  const dir = join(tempDir(), "migrations");
  cpSync(migrationsDir, dir, { recursive: true });
  return dir;
}
