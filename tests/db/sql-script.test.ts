import { describe, expect, it } from "vitest";
import { splitSqlStatements } from "../../src/db/sql-script.js";

describe("splitSqlStatements", () => {
  it("splits on top-level semicolons and drops comment-only statements", () => {
    const script = `-- CreateTable\nCREATE TABLE "a" ("id" TEXT);\n\n-- CreateIndex\nCREATE INDEX "a_i" ON "a"("id");\n-- trailing comment\n`;
    expect(splitSqlStatements(script)).toEqual([
      `-- CreateTable\nCREATE TABLE "a" ("id" TEXT)`,
      `-- CreateIndex\nCREATE INDEX "a_i" ON "a"("id")`,
    ]);
  });

  it("keeps semicolons inside strings, quoted identifiers and comments", () => {
    const script = `INSERT INTO "x;y" VALUES ('a;b', 'it''s; fine', E'back\\'s;lash');\n/* a; /* nested; */ b; */ SELECT 1;`;
    expect(splitSqlStatements(script)).toEqual([
      `INSERT INTO "x;y" VALUES ('a;b', 'it''s; fine', E'back\\'s;lash')`,
      `/* a; /* nested; */ b; */ SELECT 1`,
    ]);
  });

  it("keeps dollar-quoted bodies whole but treats $1 as a parameter", () => {
    const script = `CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; SELECT 2; $body$ LANGUAGE sql;\nDO $$ BEGIN PERFORM 1; END $$;\nSELECT $1;`;
    expect(splitSqlStatements(script)).toEqual([
      `CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; SELECT 2; $body$ LANGUAGE sql`,
      `DO $$ BEGIN PERFORM 1; END $$`,
      `SELECT $1`,
    ]);
  });

  it("returns the last statement even without a final semicolon", () => {
    expect(splitSqlStatements("SELECT 1; SELECT 2")).toEqual(["SELECT 1", "SELECT 2"]);
    expect(splitSqlStatements("  \n-- nothing\n")).toEqual([]);
  });
});
