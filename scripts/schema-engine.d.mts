// Types for scripts/schema-engine.mjs, which tests import.
import type { PGlite } from "@electric-sql/pglite";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SchemaEngine, MigrationList, SchemaContainer } from "@prisma/schema-engine-wasm";

export function readMigrationList(migrationsDir: string): MigrationList;
export function withSchemaEngine<T>(
  target: { pglite?: PGlite; schema?: string; adapter?: SqlDriverAdapterFactory } & ({ schemaPath: string } | { files: SchemaContainer[] }),
  use: (engine: SchemaEngine, files: SchemaContainer[]) => Promise<T>,
): Promise<T>;
export function diffMigrationsToSchema(paths: { migrationsDir: string; schemaPath: string }): Promise<{ changed: boolean; sql: string }>;
