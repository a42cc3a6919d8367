import { existsSync, statSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { dualstoreSchema, dualstoreVersion } from "../../generated/schema-catalog.js";
import { planFragment, type SchemaFile } from "../../schema/fragment.js";
import { UsageError } from "../args.js";
import { ExitCode } from "../output.js";
import type { Command } from "./command.js";

const FRAGMENT_FILE = "dualstore.prisma";

export const schemaCommand: Command = {
  name: "schema",
  summary: "write dualstore's models into your app's Prisma schema folder (adopted mode)",
  usage: "dualstore schema [--out <folder>] [--check]",
  help: [
    "  Writes dualstore's models as dualstore.prisma into your Prisma schema folder, so that your",
    "  own `prisma migrate` creates and evolves dualstore's tables and your generated PrismaClient",
    "  has its models; pass that client as database.prisma with database.managedBy: \"app\".",
    "  A User model of your own is kept (with Account and Session): it gains the relation fields",
    "  dualstore's models need. Run it again after upgrading dualstore, then `prisma migrate dev`.",
    "  --out <folder>   your schema folder (default prisma/schema if it exists, else prisma)",
    "  --check          write nothing; exit 1 when the folder is not up to date",
  ],
  options: { out: { type: "string" }, check: { type: "boolean" } },
  async run({ flags, out, cwd }) {
    const folder = resolve(cwd, flags.string("out") ?? (isFolder(resolve(cwd, "prisma/schema")) ? "prisma/schema" : "prisma"));
    if (!isFolder(folder)) throw new UsageError(`--out: ${folder} is not a folder`, "schema");
    const files = await schemaFiles(folder);
    const plan = planFragment(files, { schema: dualstoreSchema, version: dualstoreVersion, fileName: FRAGMENT_FILE });
    const target = join(folder, FRAGMENT_FILE);
    const writes: Array<{ path: string; content: string }> = [{ path: target, content: plan.fragment }, ...plan.edits];
    const stale: typeof writes = [];
    for (const write of writes) {
      const current = existsSync(write.path) ? await readFile(write.path, "utf8") : undefined;
      if (current !== write.content) stale.push(write);
    }
    const shown = (path: string) => relative(cwd, path) || path;
    if (flags.boolean("check")) {
      out.result({ upToDate: stale.length === 0, stale: stale.map((write) => shown(write.path)) }, () =>
        stale.length === 0 ? [`${shown(folder)} holds dualstore ${dualstoreVersion}'s models.`] : stale.map((write) => `out of date: ${shown(write.path)}`),
      );
      return stale.length === 0 ? ExitCode.OK : ExitCode.PROBLEMS;
    }
    for (const write of stale) await writeFile(write.path, write.content);
    out.result(
      { wrote: stale.map((write) => shown(write.path)), kept: plan.kept, userFieldsAdded: plan.edits.flatMap((edit) => edit.added) },
      () => [
        stale.length === 0 ? `${shown(folder)} already holds dualstore ${dualstoreVersion}'s models.` : `Wrote ${stale.map((write) => shown(write.path)).join(", ")}.`,
        ...(plan.kept.length > 0 ? [`Kept your models: ${plan.kept.join(", ")}.`] : []),
        ...plan.edits.map((edit) => `Added to your User model in ${shown(edit.path)}: ${edit.added.join(", ")}.`),
        "Next: make sure your Prisma schema setting names this folder, run `npx prisma migrate dev`,",
        'then createDualstore({ database: { prisma, managedBy: "app" } }).',
      ],
    );
    return ExitCode.OK;
  },
};

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Every .prisma file under `folder`, as Prisma reads a schema folder (migrations hold none). */
async function schemaFiles(folder: string): Promise<SchemaFile[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const paths = entries.filter((entry) => entry.isFile() && entry.name.endsWith(".prisma")).map((entry) => join(entry.parentPath, entry.name));
  return Promise.all(paths.sort().map(async (path) => ({ path, content: await readFile(path, "utf8") })));
}
