// Builds dist/ (generate + tsup) only when it is missing or older than its inputs, one process at
// a time: the examples, the benchmark and the tests that run the CLI need dist/, and rebuilding an
// unchanged package costs about 20 s. `node scripts/build-if-stale.mjs [file.ts args...]` then
// runs `file.ts` with this Node, as `npm run quickstart` and the other example scripts do.
import "../bin/require-node.mjs";
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
/** What the build must produce; all must be newer than every input. */
const OUTPUTS = ["dist/cli.js", "dist/index.js", "dist/index.cjs", "dist/index.d.ts"];
const INPUTS = ["src", "prisma", "package.json", "tsup.config.ts"];
/** Generated sources are outputs of `npm run generate`, which the build runs; they do not make dist stale. */
const IGNORED = new Set([join(root, "src", "generated")]);
const LOCK = join(root, "node_modules", ".cache", "dualstore-build.lock");
/** A lock older than this was left by a build that died; a build takes well under a minute. */
const STALE_LOCK_MS = 5 * 60_000;
const WAIT_MS = 250;

/** Builds dist/ unless it is current. Returns whether it built. */
export function buildIfStale() {
  for (;;) {
    if (isFresh()) return false;
    const lock = tryLock();
    if (lock === undefined) {
      sleep(WAIT_MS);
      continue;
    }
    try {
      // Another process may have built while this one waited for the lock.
      if (isFresh()) return false;
      build();
      return true;
    } finally {
      closeSync(lock);
      rmSync(LOCK, { force: true });
    }
  }
}

function build() {
  try {
    execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", "build"], {
      cwd: root,
      stdio: "pipe",
      shell: process.platform === "win32",
    });
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join("\n");
    throw new Error(`npm run build failed:\n${output}`, { cause: error });
  }
}

function isFresh() {
  const builtAt = Math.min(...OUTPUTS.map((path) => modifiedAt(join(root, path))));
  return builtAt > Math.max(...INPUTS.map((path) => newestIn(join(root, path))));
}

/** The file descriptor of the lock, or undefined while another process holds it. */
function tryLock() {
  mkdirSync(dirname(LOCK), { recursive: true });
  try {
    return openSync(LOCK, "wx");
  } catch (error) {
    if (error.code !== "EEXIST") throw error;
    if (Date.now() - modifiedAt(LOCK) > STALE_LOCK_MS) rmSync(LOCK, { force: true });
    return undefined;
  }
}

/** Modification time in ms; 0 when the file does not exist (so it counts as stale). */
function modifiedAt(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(path) {
  if (IGNORED.has(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((entry) => newestIn(join(path, entry))));
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (buildIfStale()) console.error("dualstore: built dist/ (sources changed)");
  const [file, ...args] = process.argv.slice(2);
  if (file !== undefined) {
    const run = spawnSync(process.execPath, [file, ...args], { stdio: "inherit" });
    process.exit(run.status ?? 1);
  }
}
