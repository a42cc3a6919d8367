import { expect, it } from "vitest";
import { bundledMigrations } from "../../src/generated/migrations.js";
import { readMigrationsDir } from "../../src/db/migrations.js";
import { diffMigrationsToSchema } from "../../scripts/schema-engine.mjs";
import { describeEachDatabase } from "../helpers/db.js";
import { migrationsDir, schemaPath } from "../helpers/paths.js";

it("prisma/migrations builds exactly the schema prisma/schema.prisma describes (Prisma's schema engine diff)", async () => {
  const diff = await diffMigrationsToSchema({ migrationsDir, schemaPath });
  expect(diff.sql.trim()).toBe("-- This is an empty migration.");
  expect(diff.changed).toBe(false);
});

it("ships the migrations folder byte for byte inside the package", () => {
  expect(bundledMigrations).toEqual(readMigrationsDir(migrationsDir));
});

describeEachDatabase("schema on a freshly migrated database", (target) => {
  it("supports create, read, update and delete on every model through the generated client", async () => {
    const { prisma } = await target.open();
    const user = await prisma.user.create({ data: { email: "ada@example.com", name: "Ada" } });
    expect(user.id).toMatch(/^c[a-z0-9]{20,}$/);

    const account = await prisma.account.create({
      data: { userId: user.id, type: "oauth", provider: "github", providerAccountId: "42", access_token: "t" },
    });
    const session = await prisma.session.create({
      data: { userId: user.id, sessionToken: "s1", expires: new Date(Date.now() + 60_000) },
    });
    const chat = await prisma.chat.create({ data: { userId: user.id, title: "First" } });
    const message = await prisma.message.create({
      data: { chatId: chat.id, role: "assistant", content: "hi", model: "m", tokensUsed: 3, latencyMs: 40 },
    });
    const artifact = await prisma.artifact.create({
      data: { userId: user.id, messageId: message.id, type: "code", content: "x = 1", language: "python", metadata: { lines: 1 } },
    });
    const settings = await prisma.userSettings.create({ data: { userId: user.id } });
    expect(settings).toMatchObject({
      defaultModel: "gemini-2.0-flash",
      temperature: 0.7,
      maxTokens: 4096,
      theme: "system",
      language: "es",
      codeTheme: "vs-dark",
      ragEnabled: true,
      ragTopK: 5,
      ragMinScore: 0.7,
      emailNotifications: true,
    });
    const document = await prisma.document.create({
      data: { userId: user.id, title: "Doc", source: "upload", tags: ["a", "b"], metadata: { nested: { ok: true } }, content: "text" },
    });
    expect(document).toMatchObject({ indexed: false, vectorIds: [], chunkCount: 0, indexStatus: "PENDING", tags: ["a", "b"] });
    await prisma.documentChunk.create({
      data: { documentId: document.id, index: 0, vectorId: `${document.id}#0`, hash: "h", metadataHash: "m", text: "text", start: 0, end: 4, tokenCount: 1, embedder: "local" },
    });

    await prisma.chat.update({ where: { id: chat.id }, data: { archived: true } });
    await prisma.document.update({ where: { id: document.id }, data: { vectorIds: { push: `${document.id}#0` }, indexStatus: "INDEXED" } });
    expect((await prisma.document.findUniqueOrThrow({ where: { id: document.id } })).vectorIds).toEqual([`${document.id}#0`]);
    expect(await prisma.document.findMany({ where: { tags: { has: "b" } } })).toHaveLength(1);
    expect(await prisma.account.findUnique({ where: { provider_providerAccountId: { provider: "github", providerAccountId: "42" } } })).toMatchObject({ id: account.id });
    expect(await prisma.session.findUnique({ where: { sessionToken: "s1" } })).toMatchObject({ id: session.id });

    // Deleting a message keeps its artifacts, unlinked (onDelete: SetNull).
    await prisma.message.delete({ where: { id: message.id } });
    expect(await prisma.artifact.findUniqueOrThrow({ where: { id: artifact.id } })).toMatchObject({ messageId: null });

    // Deleting the user removes everything it owns through a foreign key (onDelete: Cascade);
    // documents name their owner by key only, so ds.users.delete deletes them itself.
    await prisma.user.delete({ where: { id: user.id } });
    expect(await prisma.document.count()).toBe(1);
    await prisma.document.delete({ where: { id: document.id } });
    const counts = await Promise.all([
      prisma.account.count(),
      prisma.session.count(),
      prisma.chat.count(),
      prisma.message.count(),
      prisma.artifact.count(),
      prisma.userSettings.count(),
      prisma.document.count(),
      prisma.documentChunk.count(),
    ]);
    expect(counts).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("enforces the unique and foreign keys the schema declares", async () => {
    const { prisma } = await target.open();
    await prisma.user.create({ data: { email: "dup@example.com" } });
    await expect(prisma.user.create({ data: { email: "dup@example.com" } })).rejects.toMatchObject({ code: "P2002" });
    await expect(prisma.chat.create({ data: { userId: "no-such-user", title: "x" } })).rejects.toMatchObject({ code: "P2003" });
    // A document's owner is any owner key (an app's user or tenant id), not a foreign key.
    await expect(prisma.document.create({ data: { userId: "app-user-42", title: "x", source: "api" } })).resolves.toMatchObject({ userId: "app-user-42" });
    await prisma.document.create({ data: { title: "a", source: "api", sourceName: "products", sourceKey: "1" } });
    await expect(prisma.document.create({ data: { title: "b", source: "api", sourceName: "products", sourceKey: "1" } })).rejects.toMatchObject({ code: "P2002" });
  });
});
