import { readFile } from "node:fs/promises";
import { extname } from "node:path";

/**
 * The file types ingestion reads, by extension, with the MIME type stored on the document.
 * An allow list rather than "anything that decodes as text": a directory walk also meets
 * lock files, minified bundles and data dumps, and indexing those only adds noise to search.
 */
const MIME_TYPES: Readonly<Record<string, string>> = {
  // Prose and markup
  ".md": "text/markdown",
  ".markdown": "text/markdown",
  ".mdx": "text/mdx",
  ".txt": "text/plain",
  ".text": "text/plain",
  ".rst": "text/x-rst",
  ".adoc": "text/asciidoc",
  ".org": "text/org",
  ".tex": "application/x-tex",
  ".html": "text/html",
  ".htm": "text/html",
  ".xml": "application/xml",
  ".svg": "image/svg+xml",
  // Data
  ".json": "application/json",
  ".jsonl": "application/jsonl",
  ".ndjson": "application/x-ndjson",
  ".csv": "text/csv",
  ".tsv": "text/tab-separated-values",
  ".yaml": "application/yaml",
  ".yml": "application/yaml",
  ".toml": "application/toml",
  ".ini": "text/plain",
  ".sql": "application/sql",
  // Source code
  ".ts": "text/typescript",
  ".tsx": "text/typescript",
  ".mts": "text/typescript",
  ".cts": "text/typescript",
  ".js": "text/javascript",
  ".jsx": "text/javascript",
  ".mjs": "text/javascript",
  ".cjs": "text/javascript",
  ".css": "text/css",
  ".py": "text/x-python",
  ".rb": "text/x-ruby",
  ".go": "text/x-go",
  ".rs": "text/x-rust",
  ".java": "text/x-java",
  ".kt": "text/x-kotlin",
  ".c": "text/x-c",
  ".h": "text/x-c",
  ".cpp": "text/x-c++",
  ".hpp": "text/x-c++",
  ".cs": "text/x-csharp",
  ".php": "text/x-php",
  ".swift": "text/x-swift",
  ".sh": "application/x-sh",
  ".prisma": "text/plain",
  ".graphql": "application/graphql",
};

/** The MIME type stored for `path`, or undefined when ingestion does not read that kind of file. */
export function mimeTypeOf(path: string): string | undefined {
  return MIME_TYPES[extname(path).toLowerCase()];
}

export type TextFile = { readonly kind: "text"; readonly content: string } | { readonly kind: "skipped"; readonly reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a file as UTF-8 text. A file holding a NUL byte or bytes that are not UTF-8 is
 * binary whatever its extension says (PostgreSQL text cannot store NUL, and a lossy decode
 * would index replacement characters), so it is skipped with the reason.
 */
export async function readTextFile(path: string): Promise<TextFile> {
  const bytes = await readFile(path);
  if (bytes.includes(0)) return { kind: "skipped", reason: "binary (contains NUL bytes)" };
  try {
    return { kind: "text", content: utf8.decode(bytes) };
  } catch {
    return { kind: "skipped", reason: "not UTF-8 text" };
  }
}
