// Types for scripts/schema-engine.mjs, which tests import.
import type { PGlite } from "@electric-sql/pglite";
import type { SchemaEngine, MigrationList } from "@prisma/schema-engine-wasm";

export function readMigrationList(migrationsDir: string): MigrationList;
export function withSchemaEngine<T>(
  target: { schemaPath: string; pglite?: PGlite },
  use: (engine: SchemaEngine, schema: string) => Promise<T>,
): Promise<T>;
export function diffMigrationsToSchema(paths: { migrationsDir: string; schemaPath: string }): Promise<{ changed: boolean; sql: string }>;
