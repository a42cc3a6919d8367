// Types for scripts/schema-catalog.mjs, which tests import.
import type { SchemaCatalog } from "../src/schema/catalog.ts";

export function buildSchemaCatalog(migrations: ReadonlyArray<{ name: string; sql: string }>): Promise<SchemaCatalog>;
