// Running dualstore as a user does, in a child process of its own: the `dualstore` bin, or an npm
// script, with its output collected and, for the tests that signal it mid-run, watched.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./paths.js";

/** The `dualstore` bin (bin/dualstore.mjs, which loads dist/cli.js: call ensureBuilt() first). */
export const CLI = join(repoRoot, "bin", "dualstore.mjs");

/** Variables that would point a child at a real service, a developer's own database, or defaults the test did not choose. */
const SERVICE_VARIABLES = [
  "DATABASE_URL",
  "NEON_DATABASE_URL",
  "OPENAI_API_KEY",
  "COHERE_API_KEY",
  "PINECONE_API_KEY",
  "PINECONE_INDEX",
  "PINECONE_HOST",
  "LANCEDB_URI",
  "DUALSTORE_EMBEDDER",
  "DUALSTORE_VECTOR_STORE",
  "DUALSTORE_SCHEMA",
];

/** This process's environment without SERVICE_VARIABLES, then `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SERVICE_VARIABLES) delete env[name];
  return Object.assign(env, extra);
}

export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChildOptions {
  /** Default: cleanEnv(). */
  readonly env?: NodeJS.ProcessEnv;
  /** Sees stderr so far each time more arrives, to signal the child at the right moment. */
  readonly watch?: (stderr: string, child: ChildProcess) => void;
}

/** Starts `command args` in the repository's root; `exited` resolves with its exit code and whole output. */
export function startChild(command: string, args: readonly string[], options: ChildOptions = {}): { child: ChildProcess; exited: Promise<ChildRun> } {
  const child = spawn(command, args, { cwd: repoRoot, env: options.env ?? cleanEnv() });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    options.watch?.(stderr, child);
  });
  const exited = new Promise<ChildRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, exited };
}

/** `dualstore ...args` in a child process. */
export function startCli(args: readonly string[], options: ChildOptions = {}): { child: ChildProcess; exited: Promise<ChildRun> } {
  return startChild(process.execPath, [CLI, ...args], options);
}

/** Runs `dualstore ...args` to its end. */
export function runCli(args: readonly string[], options: ChildOptions = {}): Promise<ChildRun> {
  return startCli(args, options).exited;
}
