// The published declarations as an app's strict type check sees them: small, readable names,
// clean with skipLibCheck: false, and database.prisma typed by shape so that the app's own
// PrismaClient (generated from a schema that adopted dualstore's models) is accepted and keeps
// its type as ds.prisma.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { appProjectDir, appSchemaHeader, generateAppClient } from "../helpers/app-database.js";
import { ensureBuilt } from "../helpers/build.js";
import { repoRoot } from "../helpers/paths.js";

beforeAll(() => ensureBuilt());

const declarations = () => readFileSync(join(repoRoot, "dist", "index.d.ts"), "utf8");

it("publishes declarations without Prisma's generated client or PGlite's types", () => {
  const text = declarations();
  expect(text.length).toBeLessThan(150_000);
  // Names the bundler had to rename (LogLevel$1) would reach an app's error messages.
  expect(text.match(/\b\w+\$\d+\b/g) ?? []).toEqual([]);
  expect(text).not.toMatch(/from ['"]@electric-sql\/pglite['"]/);
  expect(text).not.toMatch(/from ['"]@prisma\/client/);
  expect(readFileSync(join(repoRoot, "dist", "index.d.cts"), "utf8")).toBe(text);
});

const appSchema = `${appSchemaHeader}
model User {
  id    String @id @default(cuid())
  email String @unique
}

model Product {
  id   Int    @id @default(autoincrement())
  name String
}
`;

const app = `import { PrismaPg } from "@prisma/adapter-pg";
import {
  createDualstore,
  IndexStatus,
  SchemaMismatchError,
  type Document,
  type DualstoreOptions,
  type SearchHit,
  type User,
} from "dualstore";
import { PrismaClient } from "./prisma/generated/client.js";
import type { PrismaClient as OwnPrismaClient } from "dualstore/prisma";

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: "postgresql://localhost/app" }) });

export async function main(): Promise<void> {
  // The app's own client, from its schema with dualstore's models adopted.
  const ds = await createDualstore({ database: { prisma, managedBy: "app" } });
  const same: PrismaClient = ds.prisma;
  await same.product.findMany({ where: { name: "kettle" } });
  const user: User = await ds.users.get("u1");
  const doc: Document = await ds.documents.create({ userId: user.id, title: "t", source: "api", content: "c", metadata: { a: [1, "b"] } });
  const pending: IndexStatus = IndexStatus.PENDING;
  const hits: SearchHit[] = await ds.as(user.id).search("q");
  console.log(doc.indexStatus === pending, hits.length);

  // dualstore's own client by default; a PGlite instance of the app's, typed by shape.
  const own = await createDualstore({ database: { schema: "dualstore" }, owners: "external" });
  await own.prisma.$queryRawUnsafe<Array<{ n: number }>>("SELECT 1 AS n");
  // Typed as dualstore's own client (from "dualstore/prisma"), model methods included, without a cast.
  const pendingDocs: Array<{ id: string; title: string }> = await own.prisma.document.findMany({ where: { indexStatus: "PENDING" }, select: { id: true, title: true } });
  const ownClient: OwnPrismaClient = own.prisma;
  console.log(pendingDocs.length, typeof ownClient);

  // A client without dualstore's models is refused.
  const notOurs = { $transaction: async () => {}, $queryRawUnsafe: async () => [], $executeRawUnsafe: async () => 0, $disconnect: async () => {}, product: prisma.product };
  // @ts-expect-error it has no document, chat, ... delegates
  const options: DualstoreOptions<typeof notOurs> = { database: { prisma: notOurs } };
  void options;

  try {
    await ds.close();
  } catch (error) {
    if (error instanceof SchemaMismatchError) console.log(error.problems.map((problem) => problem.object), error.expectedVersion);
  }
}
`;

// tsc reads dualstore/prisma's declarations (Prisma's generated client) with skipLibCheck: false: a minute on a busy machine.
it("type-checks an app with skipLibCheck: false that passes its own generated PrismaClient, and uses the default client's models", { timeout: 240_000 }, () => {
  const project = appProjectDir();
  const schemaFolder = join(project, "prisma", "schema");
  mkdirSync(schemaFolder, { recursive: true });
  writeFileSync(join(schemaFolder, "schema.prisma"), appSchema);
  execFileSync(process.execPath, [join(repoRoot, "dist", "cli.js"), "schema", "--out", schemaFolder], { stdio: "pipe" });
  generateAppClient(project, schemaFolder);
  // The app imports "dualstore" as installed: its package.json, exports map and dist/.
  mkdirSync(join(project, "node_modules"), { recursive: true });
  symlinkSync(repoRoot, join(project, "node_modules", "dualstore"), "dir");
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  writeFileSync(join(project, "app.ts"), app);
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        types: ["node"],
        typeRoots: [join(repoRoot, "node_modules", "@types")],
      },
      files: ["app.ts"],
    }),
  );
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const errors = (() => {
    try {
      return execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
    } catch (error) {
      return String((error as { stdout?: string }).stdout);
    }
  })();
  expect(errors).toBe("");
});
