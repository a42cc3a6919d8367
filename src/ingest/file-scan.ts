import * as fsPromises from "node:fs/promises";
import { readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join, matchesGlob, resolve, sep } from "node:path";
import { ConfigurationError, NotFoundError } from "../errors.js";

/** A regular file the scan found, with its size in bytes. */
export interface FoundFile {
  readonly path: string;
  readonly size: number;
}

/** What one input named: used afterwards to decide which stored documents it covers (for pruning). */
export type ScanTarget =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "directory"; readonly path: string }
  | { readonly kind: "glob"; readonly base: string; readonly pattern: string };

export interface ScanResult {
  /** Every regular file found, deduplicated, in path order. */
  readonly files: FoundFile[];
  readonly targets: ScanTarget[];
}

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * Expands the inputs into files. An input that exists is taken literally (a file, or a
 * directory walked recursively); otherwise one holding glob characters is a pattern relative
 * to `cwd` (a directory it matches is walked too). Walks skip hidden entries and
 * node_modules, and follow symbolic links to files but not to directories (no cycles).
 * A literal path that does not exist is a NotFoundError.
 */
export async function scanInputs(inputs: readonly string[], cwd: string, onFile?: (found: number) => void): Promise<ScanResult> {
  const files = new Map<string, FoundFile>();
  const targets: ScanTarget[] = [];
  const add = (file: FoundFile) => {
    if (files.has(file.path)) return;
    files.set(file.path, file);
    onFile?.(files.size);
  };
  for (const input of inputs) {
    const path = resolve(cwd, input);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) {
      targets.push({ kind: "file", path });
      add({ path, size: info.size });
    } else if (info?.isDirectory()) {
      targets.push({ kind: "directory", path });
      for await (const file of walk(path)) add(file);
    } else if (!info && GLOB_CHARACTERS.test(input)) {
      const pattern = isAbsolute(input) ? input : join(cwd, input);
      targets.push({ kind: "glob", base: globBase(pattern), pattern });
      for await (const match of globOf(input, cwd)) {
        const matched = resolve(cwd, match);
        const matchInfo = await stat(matched).catch(() => undefined);
        if (matchInfo?.isFile()) add({ path: matched, size: matchInfo.size });
        else if (matchInfo?.isDirectory()) for await (const file of walk(matched)) add(file);
      }
    } else {
      throw new NotFoundError("File", input);
    }
  }
  return { files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), targets };
}

/** Whether a (stored) file path falls under what `target` named. */
export function coveredBy(target: ScanTarget, path: string): boolean {
  if (target.kind === "file") return path === target.path;
  if (target.kind === "directory") return path.startsWith(target.path + sep);
  return matchesGlob(path, target.pattern);
}

/** The directory every path `target` covers lies in (a file target: the file itself). */
export function targetRoot(target: ScanTarget): string {
  return target.kind === "glob" ? target.base : target.path;
}

async function* walk(directory: string): AsyncGenerator<FoundFile> {
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      yield* walk(path);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile()) yield { path, size: info.size };
    }
  }
}

/**
 * Matches of a glob pattern, node_modules excluded. fs.glob is looked up when called rather than
 * imported by name: Node 20 lacks it, and a named import would stop the whole package from
 * loading there instead of failing only this call.
 */
function globOf(pattern: string, cwd: string): AsyncIterable<string> {
  if (typeof fsPromises.glob !== "function") throw new ConfigurationError("glob patterns need Node 22 or later (fs.glob); pass directories or files instead");
  return fsPromises.glob(pattern, { cwd, exclude: (name) => basename(String(name)) === "node_modules" });
}

/** The leading directories of a pattern, up to its first segment with a glob character. */
function globBase(pattern: string): string {
  const segments = pattern.split(sep);
  const firstGlob = segments.findIndex((segment) => GLOB_CHARACTERS.test(segment));
  return segments.slice(0, firstGlob).join(sep) || sep;
}
