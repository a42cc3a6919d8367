import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigurationError } from "../errors.js";

/** One Prisma-format migration: the folder name and the text of its migration.sql. */
export interface MigrationSource {
  readonly name: string;
  readonly sql: string;
}

/** Prisma's migration checksum: the hex sha256 of the script exactly as written. */
export function migrationChecksum(sql: string): string {
  return createHash("sha256").update(sql, "utf8").digest("hex");
}

/**
 * Whether `sql` is the script a recorded checksum was taken from. Like Prisma, this accepts the
 * script with either line ending (git rewrites them) and the unpadded hex of old Prisma releases.
 */
export function checksumMatches(sql: string, recorded: string): boolean {
  const variants = [sql, sql.replace(/\r\n/g, "\n"), sql.replace(/\r?\n/g, "\r\n")];
  return variants.some((variant) => {
    const digest = createHash("sha256").update(variant, "utf8").digest();
    const padded = digest.toString("hex");
    const unpadded = Array.from(digest, (byte) => byte.toString(16)).join("");
    return recorded === padded || (recorded.length !== 64 && recorded === unpadded);
  });
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, ordered as Prisma orders them. */
export function readMigrationsDir(dir: string): MigrationSource[] {
  if (!existsSync(join(dir, "migration_lock.toml"))) {
    throw new ConfigurationError(`migrationsDir: ${dir} is not a Prisma migrations folder (no migration_lock.toml)`);
  }
  const lock = readFileSync(join(dir, "migration_lock.toml"), "utf8");
  if (!/provider\s*=\s*"postgresql"/.test(lock)) {
    throw new ConfigurationError(`migrationsDir: ${dir}/migration_lock.toml is not for provider "postgresql"`);
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b))
    .map((name) => ({ name, sql: readFileSync(join(dir, name, "migration.sql"), "utf8") }));
}
