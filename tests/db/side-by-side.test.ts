// Side by side: an app with its own Prisma schema and migrations shares its database with
// dualstore, which keeps its tables and migration history in a schema of its own. Prisma's own
// schema engine, looking at the app's schema, must see nothing to change and nothing to reset.
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { describe, expect, it } from "vitest";
import { createDualstore, type DualstoreOptions, type Logger } from "../../src/index.js";
import { afterTestFile, appMigrations, deployAppMigrations, freshServerDatabase, migrateView, type AppDatabase } from "../helpers/app-database.js";
import { postgresAvailable } from "../helpers/db.js";

// The app's own models: its User (not dualstore's) and a Product.
const appSchema = [
  {
    path: "schema.prisma",
    content: `datasource db {
  provider = "postgresql"
}

model User {
  id       String    @id
  email    String    @unique
  products Product[]
}

model Product {
  id          Int    @id @default(autoincrement())
  name        String
  description String
  ownerId     String
  owner       User   @relation(fields: [ownerId], references: [id])
}
`,
  },
];

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} };
}

/** One app database per test: PGlite (shared with the app as an instance) or a database on the server. */
const targets: Array<{
  name: string;
  available: boolean;
  /** `withVectors`: a database where pgvector is available (PGlite), so the default vector store is used. */
  open(withVectors?: boolean): Promise<{ app: AppDatabase; database: NonNullable<DualstoreOptions["database"]>; vectorStore?: DualstoreOptions["vectorStore"] }>;
}> = [
  {
    name: "pglite",
    available: true,
    async open(withVectors = true) {
      const pglite = await PGlite.create(withVectors ? { extensions: { vector } } : {});
      afterTestFile(() => pglite.close());
      return { app: { pglite }, database: { pglite } };
    },
  },
  {
    name: "postgres",
    available: postgresAvailable,
    async open() {
      const url = await freshServerDatabase();
      // The server has no pgvector: the in-memory store stands in.
      return { app: { url }, database: { url, poolSize: 2 }, vectorStore: { provider: "memory" } };
    },
  },
];

for (const target of targets) {
  (target.available ? describe : describe.skip)(`dualstore beside an app's Prisma schema [${target.name}]`, () => {
    it("leaves the app's migrations nothing to change, nothing to reset and nothing to drop", async () => {
      const { app, database, vectorStore } = await target.open();
      const migrationsDir = await appMigrations(appSchema, app);
      expect(await deployAppMigrations(appSchema, app, migrationsDir)).toEqual(["20250101000000_init"]);

      const ds = await createDualstore({ database, vectorStore, owners: "external", env: {} });
      try {
        expect(ds.database.schema).toBe("dualstore");
        // The app's own user, in the app's own User table, owns a chat: never copied by hand.
        await ds.prisma.$executeRawUnsafe(`INSERT INTO public."User" (id, email) VALUES ('app-user-1', 'ada@example.com')`);
        const chat = await ds.as("app-user-1").chats.create({ title: "Where is order 42?" });
        expect(chat.userId).toBe("app-user-1");
        const doc = await ds.documents.create({ title: "Shipping", source: "api", content: "Orders ship within two days." });
        await ds.indexDocument(doc.id);
        expect(await ds.search("when do orders ship", { userId: null, minScore: 0 })).toHaveLength(1);

        const view = await migrateView(appSchema, app, migrationsDir);
        expect(view).toEqual({ drift: "", devAction: "createMigration", history: null });

        // dualstore's rows are still there, in its own schema, with its own migration history.
        expect((await ds.documents.get(doc.id)).title).toBe("Shipping");
        // What the app installed in public (pgvector's vector type, say) still resolves.
        await ds.prisma.$executeRawUnsafe(`CREATE DOMAIN public.app_label AS text`);
        expect(await ds.prisma.$queryRawUnsafe(`SELECT 'x'::app_label AS label`)).toEqual([{ label: "x" }]);
        const histories = await ds.prisma.$queryRawUnsafe<Array<{ schema: string; names: string[] }>>(
          `SELECT 'public' AS schema, array_agg(migration_name ORDER BY migration_name) AS names FROM public._prisma_migrations
           UNION ALL SELECT 'dualstore', array_agg(migration_name ORDER BY migration_name) FROM dualstore._prisma_migrations`,
        );
        expect(histories[0]).toEqual({ schema: "public", names: ["20250101000000_init"] });
        expect(histories[1]!.names.length).toBeGreaterThanOrEqual(4);
        expect(histories[1]!.names).not.toContain("20250101000000_init");
      } finally {
        await ds.close();
      }
    });

    it("is what keeps the app's migrate from dropping dualstore's tables: in public they would go", async () => {
      const { app, database } = await target.open(false);
      const migrationsDir = await appMigrations(appSchema, app);
      await deployAppMigrations(appSchema, app, migrationsDir);
      // dualstore refuses to add its history to the app's in the app's schema...
      await expect(createDualstore({ database: { ...database, schema: "public" }, vectorStore: null, env: {} })).rejects.toMatchObject({
        code: "MIGRATION_SCHEMA_NOT_EMPTY",
      });
      // ...because beside tables the app's Prisma does not know, its migrate would drop them all.
      const { app: bare, database: bareDatabase } = await target.open(false);
      const ds = await createDualstore({ database: { ...bareDatabase, schema: "public" }, vectorStore: null, env: {} });
      await ds.close();
      const view = await migrateView(appSchema, bare, migrationsDir);
      expect(view.drift).toContain('DROP TABLE "Document"');
      expect(view.drift).toContain('DROP TABLE "SyncJob"');
    });

    it("keeps using dualstore tables made in public before it had a schema of its own, and says so", async () => {
      const { database } = await target.open(false);
      const before = await createDualstore({ database: { ...database, schema: "public" }, vectorStore: null, env: {} });
      const user = await before.users.create({ email: "kept@example.com" });
      await before.close();

      const logger = capturingLogger();
      const after = await createDualstore({ database, vectorStore: null, env: {}, logger });
      try {
        expect(after.database.schema).toBe("public");
        expect((await after.users.get(user.id)).email).toBe("kept@example.com");
        expect(logger.warnings.join("\n")).toMatch(/schema "public".*database\.schema/s);
      } finally {
        await after.close();
      }
    });
  });
}
