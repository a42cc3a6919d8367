// A reader for the parts of Prisma schema files dualstore works with: its own schema.prisma
// (to write it into an app's schema folder, and to derive its public model types) and an app's
// files (to see which models it already has). Blocks and fields, not a full grammar: the files
// it reads are ones Prisma itself accepts.
// No imports: scripts/generate.mjs loads this file as it is.

/** One field line of a model: `name Type[]? @attributes // comment`. */
export interface PrismaField {
  readonly name: string;
  /** The type as written: String, Int, DateTime, Json, an enum or model name, `Unsupported("...")`. */
  readonly type: string;
  readonly list: boolean;
  readonly optional: boolean;
  /** Everything after the type and its modifiers, comment excluded (e.g. `@id @default(cuid())`). */
  readonly attributes: string;
  /** The comment at the end of the line and the comment lines just above it, without `//`. */
  readonly comment: string;
  /** The line as written. */
  readonly line: string;
}

export interface PrismaBlock {
  readonly kind: "model" | "enum" | "generator" | "datasource" | "view" | "type";
  readonly name: string;
  /** The block as written, from its leading comment lines through its closing brace. */
  readonly text: string;
  /** Fields of a model; values of an enum (as fields with an empty type). */
  readonly fields: readonly PrismaField[];
  /** The comment lines above the block, without `//`. */
  readonly comment: string;
}

const BLOCK_START = /^(model|enum|generator|datasource|view|type)\s+(\w+)\s*\{\s*$/;

/** The blocks of one schema file, in order. */
export function parsePrismaSchema(text: string): PrismaBlock[] {
  const lines = text.split(/\r?\n/);
  const blocks: PrismaBlock[] = [];
  let comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = BLOCK_START.exec(lines[i]!.trim());
    if (!start) {
      const trimmed = lines[i]!.trim();
      comments = trimmed.startsWith("//") ? [...comments, lines[i]!] : [];
      continue;
    }
    const end = lines.findIndex((line, j) => j > i && line.trim() === "}");
    if (end < 0) throw new Error(`${start[1]} ${start[2]}: no closing brace`);
    const body = lines.slice(i + 1, end);
    blocks.push({
      kind: start[1] as PrismaBlock["kind"],
      name: start[2]!,
      text: [...comments, ...lines.slice(i, end + 1)].join("\n"),
      fields: start[1] === "model" || start[1] === "view" || start[1] === "type" ? fieldsOf(body) : start[1] === "enum" ? valuesOf(body) : [],
      comment: commentText(comments),
    });
    comments = [];
    i = end;
  }
  return blocks;
}

function fieldsOf(body: readonly string[]): PrismaField[] {
  const fields: PrismaField[] = [];
  let comments: string[] = [];
  for (const line of body) {
    const { code, comment } = splitComment(line);
    const trimmed = code.trim();
    if (trimmed === "") {
      comments = comment === undefined ? [] : [...comments, line];
      continue;
    }
    const match = /^(\w+)\s+(Unsupported\("(?:[^"\\]|\\.)*"\)|[\w.]+)(\[\])?(\?)?\s*(.*)$/.exec(trimmed);
    if (!match || trimmed.startsWith("@@")) {
      comments = [];
      continue;
    }
    fields.push({
      name: match[1]!,
      type: match[2]!,
      list: match[3] !== undefined,
      optional: match[4] !== undefined,
      attributes: match[5]!.trim(),
      comment: commentText([...comments, ...(comment === undefined ? [] : [`//${comment}`])]),
      line,
    });
    comments = [];
  }
  return fields;
}

function valuesOf(body: readonly string[]): PrismaField[] {
  return body.flatMap((line) => {
    const { code, comment } = splitComment(line);
    const value = /^\s*(\w+)\b/.exec(code)?.[1];
    if (!value || code.trim().startsWith("@@")) return [];
    return [{ name: value, type: "", list: false, optional: false, attributes: "", comment: (comment ?? "").trim(), line }];
  });
}

/** Splits a line at a `//` that is not inside a string literal. */
function splitComment(line: string): { code: string; comment: string | undefined } {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === "\\" && quoted) i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === "/" && line[i + 1] === "/") return { code: line.slice(0, i), comment: line.slice(i + 2).replace(/^\//, "") };
  }
  return { code: line, comment: undefined };
}

function commentText(lines: readonly string[]): string {
  return lines
    .map((line) => line.trim().replace(/^\/\/\/?\s?/, ""))
    .join("\n")
    .trim();
}
