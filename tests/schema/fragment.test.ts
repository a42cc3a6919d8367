import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../src/index.js";
import { dualstoreSchema } from "../../src/generated/schema-catalog.js";
import { planFragment, type SchemaFile } from "../../src/schema/fragment.js";
import { parsePrismaSchema } from "../../src/schema/prisma-schema.js";

const source = { schema: dualstoreSchema, version: "9.9.9", fileName: "dualstore.prisma" };
const datasource = `datasource db {\n  provider = "postgresql"\n}\n`;
const file = (content: string, path = "prisma/schema/schema.prisma"): SchemaFile => ({ path, content: `${datasource}\n${content}` });
const names = (text: string) => parsePrismaSchema(text).map((block) => `${block.kind} ${block.name}`);
const ours = names(dualstoreSchema).filter((name) => name.startsWith("model") || name.startsWith("enum"));

describe("dualstore schema's fragment", () => {
  it("holds every model and enum of dualstore's schema.prisma, and nothing else, for an app without a User", () => {
    const plan = planFragment([file("model Product {\n  id Int @id\n}\n")], source);
    expect(names(plan.fragment)).toEqual(ours);
    expect(plan.kept).toEqual([]);
    expect(plan.edits).toEqual([]);
    expect(plan.fragment).toContain("dualstore 9.9.9");
  });

  it("keeps the app's User, Account and Session, and gives its User the relation fields dualstore's models need", () => {
    const plan = planFragment([file("model User {\n  id    String @id\n  email String @unique\n}\n")], source);
    expect(plan.kept).toEqual(["User", "Account", "Session"]);
    expect(names(plan.fragment)).toEqual(ours.filter((name) => !["model User", "model Account", "model Session"].includes(name)));
    const [edit] = plan.edits;
    expect(edit?.added).toEqual(expect.arrayContaining(["chats", "artifacts", "settings"]));
    const user = parsePrismaSchema(edit!.content).find((block) => block.name === "User")!;
    expect(user.fields.map((f) => `${f.name} ${f.type}${f.list ? "[]" : f.optional ? "?" : ""}`)).toEqual(
      expect.arrayContaining(["id String", "email String", "chats Chat[]", "artifacts Artifact[]", "settings UserSettings?"]),
    );
  });

  it("plans nothing more once applied: the app's files and the fragment are a fixed point", () => {
    const app = file("model User {\n  id String @id\n}\n\nmodel Ticket {\n  id         Int       @id\n  documentId String\n  document   Document @relation(fields: [documentId], references: [id])\n}\n");
    const first = planFragment([app], source);
    const applied = [{ ...app, content: first.edits[0]!.content }, { path: "prisma/schema/dualstore.prisma", content: first.fragment }];
    const second = planFragment(applied, source);
    expect(second.edits).toEqual([]);
    expect(second.fragment).toBe(first.fragment);
  });

  it("writes the other end of a relation from the app's model to dualstore's", () => {
    const app = file(
      'model Ticket {\n  id         Int      @id\n  documentId String\n  document   Document @relation("TicketDoc", fields: [documentId], references: [id])\n}\n\n' +
        "model Product {\n  id         Int       @id\n  documentId String?   @unique\n  document   Document? @relation(fields: [documentId], references: [id])\n}\n",
    );
    const document = parsePrismaSchema(planFragment([app], source).fragment).find((block) => block.name === "Document")!;
    const added = document.fields.filter((f) => f.type === "Ticket" || f.type === "Product");
    expect(added.map((f) => [f.name, f.type, f.list, f.optional, f.attributes])).toEqual([
      ["tickets", "Ticket", true, false, '@relation("TicketDoc")'],
      ["product", "Product", false, true, ""],
    ]);
  });

  it("keeps a file's \\r\\n line ends when it edits the app's User", () => {
    const app = file("model User {\n  id String @id\n}\n");
    const crlf = { ...app, content: app.content.replace(/\n/g, "\r\n") };
    const [edit] = planFragment([crlf], source).edits;
    expect(edit!.content).toContain("\r\n  chats Chat[]");
    expect(edit!.content.replace(/\r\n/g, "")).not.toContain("\n");
  });

  it.each([
    ["a model name dualstore uses", "model Document {\n  id Int @id\n}\n", /prisma\/schema\/schema\.prisma defines model Document/],
    ["an enum name dualstore uses", "enum IndexStatus {\n  A\n}\n", /defines enum IndexStatus/],
    ["a User whose id is not a String", "model User {\n  id Int @id\n}\n", /model User needs `id String @id`/],
    ["a User field dualstore needs, with another type", "model User {\n  id    String @id\n  chats String\n}\n", /User\.chats exists with another type/],
    ["a relation whose key would be in dualstore's model", "model Folder {\n  id        Int        @id\n  documents Document[]\n}\n", /Folder\.documents would need a foreign key in dualstore's Document/],
  ])("refuses %s, naming it", (_, content, message) => {
    expect(() => planFragment([file(content)], source)).toThrow(ConfigurationError);
    expect(() => planFragment([file(content)], source)).toThrow(message);
  });

  it("refuses a folder without a datasource: not a Prisma schema folder", () => {
    expect(() => planFragment([{ path: "x.prisma", content: "model A {\n  id Int @id\n}\n" }], source)).toThrow(/no datasource/);
  });
});
