// Adopted: an app with Auth.js's User, Account and Session writes dualstore's models into its
// own Prisma schema folder (`dualstore schema`), migrates them with its own migrations, and
// passes its own generated PrismaClient to dualstore, which migrates nothing and checks the
// database instead. Prisma's schema engine, looking at the app's schema, must see no drift,
// even after dualstore made what Prisma cannot express (pgvector's table).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SchemaContainer } from "@prisma/schema-engine-wasm";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError, createDualstore, SchemaMismatchError, type DualstoreOptions, type DualstorePrismaClient } from "../../src/index.js";
import {
  afterTestFile,
  appMigrations,
  appProjectDir,
  appSchemaHeader,
  deployAppMigrations,
  freshServerDatabase,
  generateAppClient,
  migrateView,
  schemaFolderFiles,
  type AppDatabase,
} from "../helpers/app-database.js";
import { ensureBuilt } from "../helpers/build.js";
import { postgresAvailable } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import { repoRoot } from "../helpers/paths.js";

const appSchema = `${appSchemaHeader}
// Auth.js's models, as its Prisma adapter documents them.
model User {
  id            String    @id @default(cuid())
  name          String?
  email         String    @unique
  emailVerified DateTime?
  image         String?
  accounts      Account[]
  sessions      Session[]
  products      Product[]

  createdAt DateTime @default(now())
  updatedAt DateTime @updatedAt
}

model Account {
  userId            String
  type              String
  provider          String
  providerAccountId String
  refresh_token     String?
  access_token      String?
  expires_at        Int?
  token_type        String?
  scope             String?
  id_token          String?
  session_state     String?

  createdAt DateTime @default(now())
  updatedAt DateTime @updatedAt

  user User @relation(fields: [userId], references: [id], onDelete: Cascade)

  @@id([provider, providerAccountId])
}

model Session {
  sessionToken String   @unique
  userId       String
  expires      DateTime
  user         User     @relation(fields: [userId], references: [id], onDelete: Cascade)

  createdAt DateTime @default(now())
  updatedAt DateTime @updatedAt
}

// The app's own model, with a relation to one of dualstore's.
model Product {
  id         String    @id @default(cuid())
  name       String
  ownerId    String
  owner      User      @relation(fields: [ownerId], references: [id])
  documentId String?   @unique
  document   Document? @relation(fields: [documentId], references: [id], onDelete: SetNull)
}
`;

// The generated client's module: typed loosely here, as the test generates it at run time.
type AppClient = DualstorePrismaClient & {
  user: { create(args: { data: { email: string } }): Promise<{ id: string }> };
  product: { create(args: { data: { name: string; ownerId: string; documentId: string } }): Promise<{ id: string }> };
  document: { findUniqueOrThrow(args: { where: { id: string }; include: { product: true } }): Promise<{ product: { name: string } | null }> };
};
type AppClientClass = new (options: { adapter: unknown }) => AppClient;

let schemaFolder: string;
let files: SchemaContainer[];
let PrismaClient: AppClientClass;
let written: { wrote: string[]; kept: string[]; userFieldsAdded: string[] };

beforeAll(async () => {
  ensureBuilt();
  const project = appProjectDir();
  schemaFolder = join(project, "prisma", "schema");
  mkdirSync(schemaFolder, { recursive: true });
  writeFileSync(join(schemaFolder, "schema.prisma"), appSchema);
  const cli = (...args: string[]) => execFileSync(process.execPath, [join(repoRoot, "dist", "cli.js"), "schema", "--out", schemaFolder, ...args], { encoding: "utf8" });
  written = JSON.parse(cli("--json")) as typeof written;
  // Up to date now: a CI step can check that the app regenerated it after an upgrade.
  expect(JSON.parse(cli("--check", "--json"))).toMatchObject({ upToDate: true });
  files = schemaFolderFiles(schemaFolder);
  generateAppClient(project, schemaFolder);
  ({ PrismaClient } = (await import(join(project, "prisma", "generated", "client.ts"))) as { PrismaClient: AppClientClass });
});

it("writes dualstore's models beside the app's and keeps the app's own User, Account and Session", () => {
  expect(written.wrote.map((path) => path.split("/").at(-1)).sort()).toEqual(["dualstore.prisma", "schema.prisma"]);
  expect(written.kept).toEqual(["User", "Account", "Session"]);
  expect(written.userFieldsAdded).toEqual(expect.arrayContaining(["chats", "artifacts", "settings"]));
  const fragment = files.find((file) => file.path === "dualstore.prisma")!.content;
  expect(fragment).toMatch(/^model Document \{/m);
  expect(fragment).not.toMatch(/^model (User|Account|Session) \{/m);
  // The other end of the app's Product.document relation.
  expect(fragment).toMatch(/^\s+product Product\?/m);
});

it("refuses options that would migrate, or make users in, the tables the app manages", async () => {
  const database = { managedBy: "app" as const };
  await expect(createDualstore({ database, migrate: true, env: {} })).rejects.toThrow(/^migrate: .*managedBy: "app"/);
  await expect(createDualstore({ database, migrationsDir: "prisma/migrations", env: {} })).rejects.toThrow(/^migrationsDir: /);
  await expect(createDualstore({ database, owners: "external", env: {} })).rejects.toThrow(/^owners: "external"/);
  await expect(createDualstore({ database: { managedBy: "someone" as "app" }, env: {} })).rejects.toThrow(/database\.managedBy/);
});

const targets: Array<{
  name: string;
  available: boolean;
  open(): Promise<{ app: AppDatabase; adapter: unknown; vectorStore?: DualstoreOptions["vectorStore"] }>;
}> = [
  {
    name: "pglite",
    available: true,
    async open() {
      const pglite = await PGlite.create({ extensions: { vector } });
      afterTestFile(() => pglite.close());
      return { app: { pglite }, adapter: new PrismaPGlite(pglite) };
    },
  },
  {
    name: "postgres",
    available: postgresAvailable,
    async open() {
      const url = await freshServerDatabase();
      // The server has no pgvector: the in-memory store stands in.
      return { app: { url }, adapter: new PrismaPg({ connectionString: url, max: 2 }), vectorStore: { provider: "memory" } };
    },
  },
];

for (const target of targets) {
  (target.available ? describe : describe.skip)(`an app that adopted dualstore's models [${target.name}]`, () => {
    it("migrates them with its own migrations, passes its own client, and its migrate sees no drift", async () => {
      const { app, adapter, vectorStore } = await target.open();
      const migrationsDir = await appMigrations(files, app);
      await deployAppMigrations(files, app, migrationsDir);
      const prisma = new PrismaClient({ adapter });
      const ds = await createDualstore({ database: { prisma, managedBy: "app" }, vectorStore, env: {} });
      try {
        // The app's own user (Auth.js's table) owns dualstore's rows.
        const user = await prisma.user.create({ data: { email: "ada@example.com" } });
        const chat = await ds.as(user.id).chats.create({ title: "Orders" });
        expect(chat.userId).toBe(user.id);
        const doc = await ds.documents.create({ userId: user.id, title: "Kettle", source: "api", content: "A kettle that boils water in ninety seconds." });
        await ds.sync.drain();
        const [hit] = await ds.as(user.id).search("how fast does it boil", { minScore: 0 });
        expect(hit?.document.id).toBe(doc.id);
        // The app's model points at dualstore's, through the app's client.
        await prisma.product.create({ data: { name: "Kettle", ownerId: user.id, documentId: doc.id } });
        expect((await prisma.document.findUniqueOrThrow({ where: { id: doc.id }, include: { product: true } })).product?.name).toBe("Kettle");

        await rejectsWith(ds.migrate(), ConfigurationError);
        expect(await migrateView(files, app, migrationsDir)).toEqual({ drift: "", devAction: "createMigration", history: null });
      } finally {
        await ds.close();
        await prisma.$disconnect();
      }
    });

    it("refuses to start when a column, an index or an enum value it needs is missing or different, naming each and the migration that makes it", async () => {
      const { app, adapter } = await target.open();
      await deployAppMigrations(files, app, await appMigrations(files, app));
      const prisma = new PrismaClient({ adapter });
      try {
        await prisma.$executeRawUnsafe(`ALTER TABLE "Document" DROP COLUMN "syncToken"`);
        await prisma.$executeRawUnsafe(`DROP INDEX "Document_userId_sourceUrl_idx"`);
        await prisma.$executeRawUnsafe(`ALTER TABLE "Chat" ALTER COLUMN "archived" DROP DEFAULT, ALTER COLUMN "archived" TYPE text`);
        await prisma.$executeRawUnsafe(`ALTER TYPE "IndexStatus" RENAME VALUE 'DELETING' TO 'REMOVING'`);
        const error = await rejectsWith(createDualstore({ database: { prisma, managedBy: "app" }, vectorStore: null, env: {} }), SchemaMismatchError);
        expect(error.code).toBe("SCHEMA_MISMATCH");
        expect(error.problems).toEqual([
          { object: 'column "Chat"."archived"', expected: "bool", found: "text", migration: "20261121045518_init" },
          { object: 'column "Document"."syncToken"', expected: "text", found: undefined, migration: "20261121051355_sync_pipeline" },
          { object: 'index "Document_userId_sourceUrl_idx" on "Document"', expected: 'btree ("userId", "sourceUrl")', found: undefined, migration: "20261121060255_document_source_index" },
          { object: 'enum value "IndexStatus".DELETING', expected: "DELETING", found: undefined, migration: "20261121045518_init" },
        ]);
        expect(error.message).toContain('column "Document"."syncToken" (text, from migration 20261121051355_sync_pipeline)');
        expect(error.message).toContain('column "Chat"."archived" is text, expected bool (from migration 20261121045518_init)');
        expect(error.message).toMatch(/dualstore \d+\.\d+\.\d+/);
      } finally {
        await prisma.$disconnect();
      }
    });
  });
}
