import { ConfigurationError } from "../errors.js";
import { parsePrismaSchema, type PrismaBlock, type PrismaField } from "./prisma-schema.js";
import { APP_OWNABLE_MODELS } from "./schema-check.js";

/** One file of an app's Prisma schema folder. */
export interface SchemaFile {
  readonly path: string;
  readonly content: string;
}

/** What adopting dualstore's models means for an app's schema folder. */
export interface FragmentPlan {
  /** dualstore's models and enums, as a schema file of their own. */
  readonly fragment: string;
  /** dualstore models the app keeps as its own (its User, Account and Session). */
  readonly kept: readonly string[];
  /** The app's files that change: its User model gains the relation fields dualstore's models need. */
  readonly edits: ReadonlyArray<{ readonly path: string; readonly content: string; readonly added: readonly string[] }>;
}

export interface FragmentSource {
  /** dualstore's prisma/schema.prisma. */
  readonly schema: string;
  readonly version: string;
  /** The fragment's own file name, left out of the app's files when they are read. */
  readonly fileName: string;
}

/**
 * Plans dualstore's models as a Prisma schema file in an app's schema folder, from dualstore's
 * own schema.prisma (so it follows the schema as it grows). An app that has its own User keeps
 * it, with Account and Session: dualstore's relations to User then point at the app's, which
 * gains the relation fields Prisma requires on both ends. Relations from the app's models to
 * dualstore's get their opposite fields in the fragment. Names both schemas define are refused.
 */
export function planFragment(appFiles: readonly SchemaFile[], source: FragmentSource): FragmentPlan {
  const ours = parsePrismaSchema(source.schema).filter((block) => block.kind === "model" || block.kind === "enum");
  const theirs = appFiles
    .filter((file) => !file.path.endsWith(source.fileName))
    .flatMap((file) => parsePrismaSchema(file.content).map((block) => ({ file, block })));
  if (!theirs.some(({ block }) => block.kind === "datasource")) {
    throw new ConfigurationError("schema: no datasource block in the app's schema files: is this the folder your Prisma schema lives in?");
  }
  const appBlocks = new Map(theirs.filter(({ block }) => block.kind !== "generator" && block.kind !== "datasource").map((entry) => [entry.block.name, entry]));
  const appUser = appBlocks.get("User");
  const kept = appUser ? APP_OWNABLE_MODELS.filter((name) => ours.some((block) => block.name === name)) : [];
  const adopted = ours.filter((block) => !kept.includes(block.name));
  for (const block of adopted) {
    const clash = appBlocks.get(block.name);
    if (clash) {
      throw new ConfigurationError(
        `schema: ${clash.file.path} defines ${clash.block.kind} ${block.name}, which dualstore's schema defines too; rename yours (dualstore's names are fixed)`,
      );
    }
  }

  const adoptedModels = new Set(adopted.filter((block) => block.kind === "model").map((block) => block.name));
  const extraFields = backRelations(theirs.map(({ block }) => block), adopted);
  const edits = appUser ? userEdits(appUser, ours, adoptedModels) : [];
  const header = [
    `// dualstore ${source.version}: its models, adopted into this schema by \`npx dualstore schema\`.`,
    "// Regenerate it after upgrading dualstore, then migrate (`npx prisma migrate dev`); do not edit it:",
    "// dualstore checks at startup that the database has every table, column and index it needs.",
    ...(kept.length > 0 ? [`// Kept from your schema: ${kept.join(", ")}.`] : []),
    "",
  ];
  const blocks = adopted.map((block) => withFields(block.text, extraFields.get(block.name) ?? []));
  return { fragment: `${header.join("\n")}\n${blocks.join("\n\n")}\n`, kept, edits };
}

/**
 * For each app relation that holds a foreign key to one of dualstore's models, the field
 * Prisma requires at the other end, named after the app's model (`Ticket.document` gives
 * `Document.tickets Ticket[]`, or `ticket Ticket?` when the key is unique).
 */
function backRelations(appBlocks: readonly PrismaBlock[], adopted: readonly PrismaBlock[]): Map<string, string[]> {
  const extra = new Map<string, string[]>();
  for (const model of appBlocks.filter((block) => block.kind === "model")) {
    const pointers = model.fields.filter((field) => adopted.some((block) => block.kind === "model" && block.name === field.type));
    for (const field of pointers) {
      const relation = /@relation\(([^)]*)\)/.exec(field.attributes)?.[1] ?? "";
      const keys = /fields:\s*\[([^\]]*)\]/.exec(relation)?.[1]?.split(",").map((key) => key.trim());
      // The other end of one of dualstore's relations (User.chats, say): dualstore's model holds the key.
      const theirKey = adopted.find((block) => block.name === field.type)?.fields.some((f) => f.type === model.name);
      if (!keys && theirKey) continue;
      if (!keys) {
        throw new ConfigurationError(
          `schema: ${model.name}.${field.name} would need a foreign key in dualstore's ${field.type}; hold the key in ${model.name} instead (fields: [...], references: [id])`,
        );
      }
      const name = /^\s*(?:name:\s*)?("(?:[^"\\]|\\.)*")/.exec(relation)?.[1];
      const unique = keys.length === 1 && model.fields.some((f) => f.name === keys[0] && /@unique\b/.test(f.attributes));
      const base = model.name.charAt(0).toLowerCase() + model.name.slice(1);
      const same = pointers.filter((f) => f.type === field.type).length > 1;
      const fieldName = `${base}${unique ? "" : "s"}${same ? field.name.charAt(0).toUpperCase() + field.name.slice(1) : ""}`;
      const line = `  ${fieldName} ${model.name}${unique ? "?" : "[]"}${name ? ` @relation(${name})` : ""} // the other end of ${model.name}.${field.name}, in your schema`;
      extra.set(field.type, [...(extra.get(field.type) ?? []), line]);
    }
  }
  return extra;
}

/** The app's User gains dualstore's relation fields to the models it adopts, unless it has them. */
function userEdits(
  appUser: { file: SchemaFile; block: PrismaBlock },
  ours: readonly PrismaBlock[],
  adopted: ReadonlySet<string>,
): FragmentPlan["edits"] {
  const { file, block } = appUser;
  if (block.kind !== "model") throw new ConfigurationError(`schema: ${file.path} defines User as a ${block.kind}; dualstore needs a model`);
  const id = block.fields.find((field) => field.name === "id");
  if (!id || id.type !== "String" || !/@id\b/.test(id.attributes)) {
    throw new ConfigurationError(`schema: ${file.path}: model User needs \`id String @id\`, the key dualstore's userId columns refer to`);
  }
  const ourUser = ours.find((candidate) => candidate.name === "User");
  const needed = (ourUser?.fields ?? []).filter((field) => adopted.has(field.type));
  const missing = needed.filter((field) => !block.fields.some((theirs) => sameShape(theirs, field)));
  for (const field of missing) {
    if (block.fields.some((theirs) => theirs.name === field.name)) {
      throw new ConfigurationError(`schema: ${file.path}: User.${field.name} exists with another type; dualstore needs a field ${field.type}${field.list ? "[]" : "?"} there`);
    }
  }
  if (missing.length === 0) return [];
  const added = missing.map((field) => `  ${field.name} ${field.type}${field.list ? "[]" : field.optional ? "?" : ""} // dualstore`);
  // Blocks are read with \n line ends; a file written with \r\n keeps them.
  const crlf = file.content.includes("\r\n");
  const content = file.content.replace(/\r\n/g, "\n").replace(block.text, withFields(block.text, added));
  return [{ path: file.path, content: crlf ? content.replace(/\n/g, "\r\n") : content, added: missing.map((field) => field.name) }];
}

function sameShape(a: PrismaField, b: PrismaField): boolean {
  return a.type === b.type && a.list === b.list && a.optional === b.optional;
}

/** `block` with `lines` added before its closing brace. */
function withFields(block: string, lines: readonly string[]): string {
  if (lines.length === 0) return block;
  const end = block.lastIndexOf("}");
  return `${block.slice(0, end).trimEnd()}\n\n${lines.join("\n")}\n${block.slice(end)}`;
}
