// Tests that run the CLI and the examples as a user would need dist/ (the examples import
// "dualstore", which resolves to dist through the package's exports map). ensureBuilt() builds it
// when it is missing or older than the sources, once per test process, and one process at a
// time: test files run in parallel processes, and tsup empties dist/ before writing it.
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { repoRoot } from "./paths.js";

/** What the tests run; all must be newer than every input. */
const OUTPUTS = ["dist/cli.js", "dist/index.js", "dist/index.d.ts"];
const INPUTS = ["src", "package.json", "tsup.config.ts"];
const LOCK = join(repoRoot, "node_modules", ".cache", "dualstore-tests-build.lock");
/** A lock older than this was left by a build that died; a build takes well under a minute. */
const STALE_LOCK_MS = 5 * 60_000;
const WAIT_MS = 250;

let checked = false;

export function ensureBuilt(): void {
  if (checked) return;
  for (;;) {
    if (isFresh()) break;
    const lock = tryLock();
    if (lock === undefined) {
      sleep(WAIT_MS);
      continue;
    }
    try {
      // Another process may have built while this one waited for the lock.
      if (!isFresh()) build();
    } finally {
      closeSync(lock);
      rmSync(LOCK, { force: true });
    }
    break;
  }
  checked = true;
}

function build(): void {
  try {
    execFileSync("npx", ["tsup"], { cwd: repoRoot, stdio: "pipe" });
  } catch (error) {
    const output = (error as { stderr?: Buffer; stdout?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`npx tsup failed; the CLI and example tests need dist/:\n${output}`, { cause: error });
  }
}

function isFresh(): boolean {
  const builtAt = Math.min(...OUTPUTS.map((path) => modifiedAt(join(repoRoot, path))));
  return builtAt > Math.max(...INPUTS.map((path) => newestIn(join(repoRoot, path))));
}

/** The file descriptor of the lock, or undefined while another process holds it. */
function tryLock(): number | undefined {
  mkdirSync(dirname(LOCK), { recursive: true });
  try {
    return openSync(LOCK, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    if (Date.now() - modifiedAt(LOCK) > STALE_LOCK_MS) rmSync(LOCK, { force: true });
    return undefined;
  }
}

/** Modification time in ms; 0 when the file does not exist (so it counts as stale). */
function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((entry) => newestIn(join(path, entry))));
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
