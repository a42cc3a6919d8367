// On a Node.js older than 22 (the machines ship Node 20), the `dualstore` bin and the npm scripts
// that run examples stop at once with a message saying which Node is needed, before loading
// the CLI or building anything. Run with the machine's real old Node, not a faked version.
import { execFileSync, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/build.js";
import { repoRoot } from "../helpers/paths.js";

/** A Node.js executable older than 22 on this machine, if there is one. */
function findOldNode(): { path: string; version: string } | undefined {
  for (const path of ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"]) {
    try {
      const version = execFileSync(path, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
      if (Number(version.split(".")[0]) < 22) return { path, version };
    } catch {
      // not installed there
    }
  }
  return undefined;
}

const oldNode = findOldNode();
if (!oldNode) console.warn("\n[tests] SKIPPING the old-Node tests: no Node.js older than 22 found in /usr/bin, /usr/local/bin or /bin\n");

(oldNode ? describe : describe.skip)(`on Node.js ${oldNode?.version ?? "< 22"}`, () => {
  const node = oldNode!;
  const expected = `dualstore needs Node.js 22 or later (this is ${node.version}).`;
  const distAt = () => statSync(join(repoRoot, "dist", "index.js")).mtimeMs;
  /** PATH with the old Node (and its npm) first, as on a machine that has only it. */
  const oldPath = `${dirname(node.path)}:${process.env.PATH ?? ""}`;

  beforeAll(() => ensureBuilt(), 300_000);

  it("the dualstore bin exits 1 with the version it needs, and runs no command", () => {
    const run = spawnSync(node.path, [join(repoRoot, "bin", "dualstore.mjs"), "status"], { cwd: repoRoot, encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(expected);
    expect(run.stdout).toBe("");
  });

  it("npm run quickstart exits with the version it needs before building anything", () => {
    const before = distAt();
    const run = spawnSync("npm", ["run", "--silent", "quickstart"], { cwd: repoRoot, encoding: "utf8", env: { ...process.env, PATH: oldPath } });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(expected);
    expect(run.stderr).not.toContain("ERR_UNKNOWN_FILE_EXTENSION");
    expect(distAt()).toBe(before);
  });
});
