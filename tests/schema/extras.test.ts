// What a Prisma schema cannot express (functions, triggers and their backfills) reaches an app
// that migrates dualstore's tables itself from dualstore, at startup: checkSchema finds what is
// missing, installExtras installs it, and Prisma's schema engine sees no drift afterwards.
import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { beforeAll, describe, expect, it } from "vitest";
import { buildSchemaCatalog } from "../../scripts/schema-catalog.mjs";
import type { PrismaClient } from "../../src/db/prisma.js";
import { createDualstore, silentLogger } from "../../src/index.js";
import { bundledMigrations } from "../../src/generated/migrations.js";
import type { SchemaCatalog } from "../../src/schema/catalog.js";
import { installExtras } from "../../src/schema/extras.js";
import { checkSchema } from "../../src/schema/schema-check.js";
import { afterTestFile, freshServerDatabase, withAppEngine, type AppDatabase } from "../helpers/app-database.js";
import { postgresAvailable } from "../helpers/db.js";
import { schemaPath } from "../helpers/paths.js";

// A later migration of the kind hybrid search brings: a function, a trigger that calls it, a backfill.
const withTrigger = {
  name: "29990101000000_title_key",
  sql: `ALTER TABLE "Document" ADD COLUMN "titleKey" TEXT;
CREATE OR REPLACE FUNCTION "dualstore_title_key"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."titleKey" := lower(NEW.title);
  RETURN NEW;
END
$$;
CREATE TRIGGER "Document_titleKey" BEFORE INSERT OR UPDATE OF title ON "Document" FOR EACH ROW EXECUTE FUNCTION "dualstore_title_key"();
-- Rows written before the trigger.
UPDATE "Document" SET "titleKey" = lower(title);`,
};
// And one after it that changes the function's body.
const newBody = {
  name: "29990102000000_title_key_trimmed",
  sql: `CREATE OR REPLACE FUNCTION "dualstore_title_key"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."titleKey" := lower(trim(NEW.title));
  RETURN NEW;
END
$$;`,
};

let first: SchemaCatalog;
let second: SchemaCatalog;
beforeAll(async () => {
  first = await buildSchemaCatalog([...bundledMigrations, withTrigger]);
  second = await buildSchemaCatalog([...bundledMigrations, withTrigger, newBody]);
});

it("records which statements of a migration a Prisma schema cannot express, and what they make", () => {
  expect(first.extras).toEqual([
    {
      migration: withTrigger.name,
      statements: [expect.stringMatching(/^CREATE OR REPLACE FUNCTION "dualstore_title_key"/), expect.stringMatching(/^CREATE TRIGGER "Document_titleKey"/), 'UPDATE "Document" SET "titleKey" = lower(title)'],
      routines: [{ name: "dualstore_title_key", body: expect.stringMatching(/^[0-9a-f]{32}$/) }],
      triggers: [{ table: "Document", name: "Document_titleKey" }],
    },
  ]);
  expect(second.extras.map((extra) => extra.migration)).toEqual([withTrigger.name, newBody.name]);
});

const targets = [
  {
    name: "pglite",
    available: true,
    async open(): Promise<AppDatabase> {
      const pglite = await PGlite.create();
      afterTestFile(() => pglite.close());
      return { pglite };
    },
  },
  { name: "postgres", available: postgresAvailable, open: async (): Promise<AppDatabase> => ({ url: await freshServerDatabase() }) },
];

for (const target of targets) {
  (target.available ? describe : describe.skip)(`an app's database without dualstore's functions and triggers [${target.name}]`, () => {
    it("gets them at startup, once, with the backfill, and Prisma's engine sees no drift", async () => {
      const app = await target.open();
      // dualstore's tables in the app's schema, as the app's migrations would make them.
      const ds = await createDualstore<PrismaClient>({ database: { ...("pglite" in app ? { pglite: app.pglite } : { url: app.url }), schema: "public" }, vectorStore: null, env: {} });
      afterTestFile(() => ds.close());
      const { prisma } = ds;
      await prisma.$executeRawUnsafe(`ALTER TABLE "Document" ADD COLUMN "titleKey" TEXT`);
      const old = await ds.documents.create({ title: "Written Before", source: "api", content: "x" });
      const schema = "public";

      const missing = await checkSchema(prisma, { schema, catalog: first, version: "test" });
      expect(missing.map((extra) => extra.migration)).toEqual([withTrigger.name]);
      // Two processes starting at once take turns.
      await Promise.all([
        installExtras(prisma, { schema, extras: missing, logger: silentLogger }),
        installExtras(prisma, { schema, extras: missing, logger: silentLogger }),
      ]);
      expect(await checkSchema(prisma, { schema, catalog: first, version: "test" })).toEqual([]);

      const titleKey = async (id: string) =>
        (await prisma.$queryRawUnsafe<Array<{ titleKey: string }>>(`SELECT "titleKey" FROM "Document" WHERE id = $1`, id))[0]?.titleKey;
      expect(await titleKey(old.id)).toBe("written before");
      const fresh = await ds.documents.create({ title: "  Written After ", source: "api", content: "x" });
      expect(await titleKey(fresh.id)).toBe("  written after ");

      // A later migration's new function body is missing too, and replaces the old one.
      expect((await checkSchema(prisma, { schema, catalog: second, version: "test" })).map((extra) => extra.migration)).toEqual([newBody.name]);
      await installExtras(prisma, { schema, extras: [second.extras[1]!], logger: silentLogger });
      await ds.documents.update(fresh.id, { title: "  Renamed " });
      expect(await titleKey(fresh.id)).toBe("renamed");

      // Functions and triggers are no drift to Prisma: the schema with the column matches the database.
      const files = [{ path: "schema.prisma", content: readFileSync(schemaPath, "utf8").replace("model Document {\n", "model Document {\n  titleKey String?\n") }];
      const drift = await withAppEngine(files, app, (engine) =>
        engine.diff({
          from: { tag: "schemaDatasource", files, configDir: "." },
          to: { tag: "schemaDatamodel", files },
          script: true,
          exitCode: true,
          filters: { externalTables: [], externalEnums: [] },
        }),
      );
      expect(drift).toEqual({ exitCode: 0, stdout: expect.stringContaining("empty migration") });
    });
  });
}
