/**
 * The benchmark's corpus: real text nobody working on dualstore wrote, read from this machine.
 *
 * In order of preference (a size takes from the first class until it runs out, then the next):
 *   1. README files of the packages installed under node_modules (the project's and bench/peer's);
 *   2. the other Markdown files there (CHANGELOG.md, docs/*.md, ...);
 *   3. Debian's package documentation in /usr/share/doc (READMEs, NEWS, changelogs, copyright
 *      notices; gzip-compressed ones decompressed);
 *   4. the English manual pages in /usr/share/man, with their roff markup stripped.
 * node_modules holds a few hundred distinct READMEs here, not thousands, hence classes 2-4.
 *
 * Texts under 1,000 characters are skipped, duplicates (same content) dropped, and texts over
 * 100,000 characters cut at the last paragraph break before that (a few Debian changelogs run to
 * megabytes). Within a class, documents are ordered by the hash of their content: stable for a
 * given machine, unrelated to package names, and each size is a prefix of the next.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { gunzipSync } from "node:zlib";

export const MIN_CHARS = 1_000;
/** Search queries per corpus: enough for a median and a 95th percentile that hold still. */
export const SEARCH_QUERIES = 250;
export const MAX_CHARS = 100_000;

export type CorpusClass = "readme" | "markdown" | "debian-doc" | "man";

export interface CorpusDocument {
  /** Stable key: the LangChain source id, and how results are matched across libraries. */
  readonly key: string;
  readonly title: string;
  readonly origin: string;
  readonly kind: CorpusClass;
  readonly content: string;
}

export interface Corpus {
  readonly documents: CorpusDocument[];
  /** The same edit for both libraries: one paragraph of each of 10% of the documents. */
  readonly edits: Array<{ key: string; content: string }>;
  /** Another 10%, deleted after the edit. */
  readonly deletes: string[];
  /** Search queries, taken from documents that are not deleted. */
  readonly queries: string[];
  readonly stats: CorpusStats;
}

export interface CorpusStats {
  readonly documents: number;
  readonly characters: number;
  readonly byClass: Record<CorpusClass, number>;
  /** Documents cut to MAX_CHARS. */
  readonly truncated: number;
  /** sha256 over the documents' contents, so two runs can tell whether they indexed the same text. */
  readonly fingerprint: string;
  /** Distinct texts available per class on this machine (after the size filter and dedupe). */
  readonly available: Record<CorpusClass, number>;
}

interface Candidate {
  readonly kind: CorpusClass;
  readonly origin: string;
  readonly title: string;
  readonly content: string;
  readonly hash: string;
  readonly truncated: boolean;
}

const CLASSES: CorpusClass[] = ["readme", "markdown", "debian-doc", "man"];

function filesUnder(root: string, accept: (name: string, path: string) => boolean): string[] {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && accept(entry.name, join(entry.parentPath, entry.name)))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
  } catch {
    return [];
  }
}

function readText(path: string): string | undefined {
  try {
    let bytes = readFileSync(path);
    if (path.endsWith(".gz")) bytes = gunzipSync(bytes);
    const text = bytes.toString("utf8");
    // Binary files and mostly-undecodable ones are not documents.
    if (text.includes("\0") || (text.match(/\uFFFD/g)?.length ?? 0) > text.length / 100) return undefined;
    return text.replace(/\r\n?/g, "\n");
  } catch {
    return undefined;
  }
}

/** Manual pages without roff: requests dropped (section headings kept as text), escapes resolved. */
export function stripRoff(source: string): string {
  const lines: string[] = [];
  let skipping = false;
  for (const line of source.split("\n")) {
    if (skipping) {
      if (line.startsWith("..")) skipping = false;
      continue;
    }
    if (/^[.'](de|ig|am)\b/.test(line)) {
      skipping = true;
      continue;
    }
    const request = /^[.'](\S+)\s*(.*)$/.exec(line);
    if (request) {
      const [, name = "", rest = ""] = request;
      if (["SH", "SS"].includes(name)) lines.push("", rest.replace(/"/g, ""), "");
      else if (["PP", "P", "LP", "sp", "br"].includes(name)) lines.push("");
      else if (["B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM", "TP", "IP", "Nm", "Nd", "Sh", "Ar", "Fl", "It"].includes(name) && rest) {
        lines.push(rest.replace(/"/g, ""));
      }
      continue;
    }
    lines.push(line);
  }
  return lines
    .join("\n")
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, "")
    .replace(/\\s[+-]?\d/g, "")
    .replace(/\\\((em|en)/g, "-")
    .replace(/\\\(aq/g, "'")
    .replace(/\\\((lq|rq|dq)/g, '"')
    .replace(/\\\(../g, "")
    .replace(/\\\*(\(..|\[[^\]]*\]|.)/g, "")
    .replace(/\\&|\\\//g, "")
    .replace(/\\-/g, "-")
    .replace(/\\e/g, "\\")
    .replace(/\\ /g, " ")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Cuts a text to `max` characters at the last paragraph break before it (else the last line break). */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  const at = Math.max(head.lastIndexOf("\n\n"), head.lastIndexOf("\n"));
  return at > max / 2 ? head.slice(0, at) : head;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Everything on this machine that could be a document, per class, in the corpus's order. */
export function collectCandidates(projectRoot: string): Map<CorpusClass, Candidate[]> {
  const seen = new Set<string>();
  const byClass = new Map<CorpusClass, Candidate[]>(CLASSES.map((kind) => [kind, []]));
  const add = (kind: CorpusClass, origin: string, title: string, raw: string | undefined) => {
    if (raw === undefined) return;
    const text = raw.trim();
    if (text.length < MIN_CHARS) return;
    const hash = sha256(text);
    if (seen.has(hash)) return;
    seen.add(hash);
    const content = cut(text, MAX_CHARS);
    byClass.get(kind)!.push({ kind, origin, title: title.slice(0, 200), content, hash, truncated: content.length < text.length });
  };
  const trees = [join(projectRoot, "node_modules"), join(projectRoot, "bench", "peer", "node_modules")];
  const packageOf = (path: string) => {
    const parts = path.split(sep);
    const at = parts.lastIndexOf("node_modules");
    const name = parts[at + 1] ?? "";
    return name.startsWith("@") ? `${name}/${parts[at + 2] ?? ""}` : name;
  };
  const isReadme = (name: string) => /^readme(\.md|\.markdown)?$/i.test(name);
  for (const tree of trees) {
    for (const path of filesUnder(tree, isReadme)) add("readme", relative(projectRoot, path), `${packageOf(path)} README`, readText(path));
  }
  for (const tree of trees) {
    for (const path of filesUnder(tree, (name) => /\.(md|markdown)$/i.test(name) && !isReadme(name))) {
      add("markdown", relative(projectRoot, path), `${packageOf(path)}: ${path.split(sep).at(-1)}`, readText(path));
    }
  }
  const skip = /\.(html?|png|jpe?g|gif|svg|pdf|css|js|json|ico|xml|py|pl|sh|c|h)(\.gz)?$/i;
  for (const path of filesUnder("/usr/share/doc", (name) => !skip.test(name))) {
    const [pkg = "", ...rest] = relative("/usr/share/doc", path).split(sep);
    add("debian-doc", path, `${pkg}: ${rest.join("/").replace(/\.gz$/, "")}`, readText(path));
  }
  for (const path of filesUnder("/usr/share/man", (_name, path) => /^\/usr\/share\/man\/man[1-8]\//.test(path))) {
    const page = path.split(sep).at(-1)!.replace(/\.gz$/, "");
    const raw = readText(path);
    add("man", path, `man ${page}`, raw === undefined ? undefined : stripRoff(raw));
  }
  for (const list of byClass.values()) list.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return byClass;
}

/** The paragraph nearest the middle of `text` with some prose in it, as [start, end). */
function middleParagraph(text: string): [number, number] | undefined {
  const spans: Array<[number, number]> = [];
  const pattern = /[^\n](?:[^\n]|\n(?!\s*\n))*/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const body = match[0];
    // Prose: a few words, not a code fence, table row or heading line.
    if (body.length >= 60 && /[a-z]{3,} [a-z]{2,}/i.test(body) && !/^\s*(```|\||#)/.test(body)) spans.push([match.index, match.index + body.length]);
  }
  if (spans.length === 0) return undefined;
  const middle = text.length / 2;
  return spans.reduce((best, span) => (Math.abs(span[0] - middle) < Math.abs(best[0] - middle) ? span : best));
}

/**
 * Edits one paragraph: a sentence added at its end, on the same line. No line is added, so
 * LangChain's `loc.lines` metadata of later chunks does not move (the kinder edit for it; one
 * that adds lines changes the metadata, and so the hash, of every later chunk).
 */
export function editParagraph(text: string, revision: number): string {
  const span = middleParagraph(text) ?? [text.length, text.length];
  const sentence = ` This paragraph was revised for the benchmark (revision ${revision}); the rest of the document is unchanged.`;
  return text.slice(0, span[1]) + sentence + text.slice(span[1]);
}

/** Eight words of `text`, from the `round`-th window of 20 words (after the first five, often a title). */
function queryFrom(text: string, round: number): string | undefined {
  const words = text.replace(/[#*`>_[\]()]/g, " ").match(/[\p{L}][\p{L}\p{N}'-]{2,}/gu) ?? [];
  const from = 5 + round * 20;
  return words.length >= from + 8 ? words.slice(from, from + 8).join(" ") : undefined;
}

/** SEARCH_QUERIES distinct queries from documents spread over the corpus (several windows of each when there are few). */
function queriesFrom(documents: readonly CorpusDocument[]): string[] {
  const queries = new Set<string>();
  const stride = Math.max(1, Math.floor(documents.length / SEARCH_QUERIES));
  for (let round = 0; queries.size < SEARCH_QUERIES && round < 100; round++) {
    for (let i = 0; i < documents.length; i += stride) {
      const query = queryFrom(documents[i]!.content, round);
      if (query !== undefined) queries.add(query);
      if (queries.size === SEARCH_QUERIES) break;
    }
  }
  return [...queries];
}

export function buildCorpus(candidates: Map<CorpusClass, Candidate[]>, size: number): Corpus {
  const picked: Candidate[] = [];
  for (const kind of CLASSES) {
    for (const candidate of candidates.get(kind)!) {
      if (picked.length >= size) break;
      picked.push(candidate);
    }
  }
  if (picked.length < size) throw new Error(`only ${picked.length} distinct documents of at least ${MIN_CHARS} characters on this machine; asked for ${size}`);
  const documents = picked.map((candidate, i): CorpusDocument => ({
    key: `doc-${String(i).padStart(6, "0")}`,
    title: candidate.title,
    origin: candidate.origin,
    kind: candidate.kind,
    content: candidate.content,
  }));
  // Document order is content-hash order, so every tenth one is a fair sample of every class taken.
  const edits = documents.filter((_, i) => i % 10 === 3).map((doc) => ({ key: doc.key, content: editParagraph(doc.content, 1) }));
  const deletes = documents.filter((_, i) => i % 10 === 7).map((doc) => doc.key);
  const deleted = new Set(deletes);
  const queries = queriesFrom(documents.filter((doc) => !deleted.has(doc.key)));
  const byClass = Object.fromEntries(CLASSES.map((kind) => [kind, picked.filter((c) => c.kind === kind).length])) as Record<CorpusClass, number>;
  const available = Object.fromEntries(CLASSES.map((kind) => [kind, candidates.get(kind)!.length])) as Record<CorpusClass, number>;
  return {
    documents,
    edits,
    deletes,
    queries,
    stats: {
      documents: documents.length,
      characters: documents.reduce((sum, doc) => sum + doc.content.length, 0),
      byClass,
      truncated: picked.filter((c) => c.truncated).length,
      fingerprint: sha256(picked.map((c) => c.hash).join("\n")),
      available,
    },
  };
}
