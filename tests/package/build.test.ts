// The published package: the build emits ESM, CommonJS and type declarations, and both module
// systems load it and work, in a process of their own, as an app would.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/build.js";
import { repoRoot } from "../helpers/paths.js";

beforeAll(() => ensureBuilt());

const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: repoRoot, encoding: "utf8", env: { ...process.env, DATABASE_URL: "" } });

const snippet = (load: string) => `
${load}
(async () => {
  const ds = await createDualstore({ database: { driver: "pglite" }, env: {} });
  const doc = await ds.documents.create({ title: "t", source: "api", content: "module systems agree" });
  await ds.indexDocument(doc.id);
  const hits = await ds.search("module systems", { userId: null, minScore: 0 });
  await ds.close();
  console.log(JSON.stringify({ hits: hits.length, error: new ValidationError("x", []).code }));
})();`;

it("emits ESM, CommonJS and declarations, as the exports map says", () => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    exports: { ".": { import: { types: string; default: string }; require: { types: string; default: string } } };
    sideEffects: boolean;
    engines: { node: string };
  };
  const entry = manifest.exports["."];
  for (const file of [entry.import.default, entry.import.types, entry.require.default, entry.require.types]) {
    expect(existsSync(join(repoRoot, file)), file).toBe(true);
  }
  expect(manifest.sideEffects).toBe(false);
  expect(manifest.engines.node).toBe(">=22");
  expect(readFileSync(join(repoRoot, entry.import.types), "utf8")).toMatch(/export \{[^}]*createDualstore/);
});

it("works when required from CommonJS", () => {
  const output = run(["-e", snippet(`const { createDualstore, ValidationError } = require("dualstore");`)]);
  expect(JSON.parse(output.trim())).toEqual({ hits: 1, error: "VALIDATION" });
});

it("works when imported as an ES module", () => {
  const output = run(["--input-type=module", "-e", snippet(`import { createDualstore, ValidationError } from "dualstore";`)]);
  expect(JSON.parse(output.trim())).toEqual({ hits: 1, error: "VALIDATION" });
});

/** Prints every exported class that extends DualstoreError with its `name`, and the first stack line of one. */
const errorNames = (load: string) => `
${load}
const classes = Object.entries(dualstore).filter(
  ([, value]) => typeof value === "function" && (value === dualstore.DualstoreError || value.prototype instanceof dualstore.DualstoreError),
);
const stack = String(new dualstore.ValidationError("input", []).stack).split("\\n")[0];
console.log(JSON.stringify({ classes: classes.map(([exported, value]) => ({ exported, name: value.name })), stack }));`;

it.each([
  ["CommonJS", ["-e", errorNames(`const dualstore = require("dualstore");`)]],
  ["ESM", ["--input-type=module", "-e", errorNames(`import * as dualstore from "dualstore";`)]],
])("names every error class in the %s build, so stack traces start with the class name", (_build, args) => {
  const { classes, stack } = JSON.parse(run(args).trim()) as { classes: Array<{ exported: string; name: string }>; stack: string };
  expect(classes.length).toBeGreaterThan(10);
  for (const { exported, name } of classes) expect(name, exported).toBe(exported);
  expect(stack).toMatch(/^ValidationError: Invalid input/);
});

it("builds without warnings", () => {
  const build = spawnSync("npx", ["tsup", "--no-dts", "--out-dir", join(repoRoot, "node_modules", ".cache", "dualstore-build-check")], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  expect(build.status, build.stderr).toBe(0);
  const warnings = `${build.stdout}\n${build.stderr}`.split("\n").filter((line) => /warn|never used/i.test(line));
  expect(warnings).toEqual([]);
}, 120_000);

it("loads no provider SDK until one is chosen", () => {
  const output = run([
    "--input-type=module",
    "-e",
    `import { registerHooks } from "node:module";
     const loaded = [];
     registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
     const { createDualstore } = await import("dualstore");
     const ds = await createDualstore({ database: { driver: "pglite" }, env: {} });
     await ds.close();
     const sdks = ["@pinecone-database", "openai", "cohere-ai", "@lancedb", "gpt-tokenizer"];
     console.log(JSON.stringify({ total: loaded.length, sdks: sdks.filter((name) => loaded.some((url) => url.includes("/node_modules/" + name + "/"))) }));`,
  ]);
  const { total, sdks } = JSON.parse(output.trim()) as { total: number; sdks: string[] };
  expect(total).toBeGreaterThan(10);
  expect(sdks).toEqual([]);
});
