/**
 * Lets Node 22 run the bench (and the protocol servers in tests/servers) from TypeScript source
 * without a build step. Node strips types itself but resolves imports literally, while this
 * project writes relative imports as "./x.js" (what tsc checks and emits). These hooks:
 *
 * - resolve a relative "./x.js" that does not exist to "./x.ts";
 * - compile .ts files outside node_modules with Node's own `stripTypeScriptTypes` in "transform"
 *   mode, because tests/servers use constructor parameter properties, which plain type
 *   stripping refuses.
 *
 * Loaded by bench/run.ts before anything else, and by every child process with `--import`.
 */
import { existsSync, readFileSync } from "node:fs";
import { registerHooks, stripTypeScriptTypes } from "node:module";
import { fileURLToPath } from "node:url";

// stripTypeScriptTypes is experimental in Node 22 and says so once per process; the bench's
// output should hold figures, not that notice.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === "string" ? warning : warning.message;
  if (/stripTypeScriptTypes|Type Stripping/i.test(text)) return;
  (emitWarning as (warning: string | Error, ...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if ((specifier.startsWith("./") || specifier.startsWith("../")) && specifier.endsWith(".js") && context.parentURL?.startsWith("file:")) {
      const asJs = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(asJs))) {
        const asTs = new URL(specifier.slice(0, -3) + ".ts", context.parentURL);
        if (existsSync(fileURLToPath(asTs))) return nextResolve(asTs.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (url.startsWith("file:") && url.endsWith(".ts") && !url.includes("/node_modules/")) {
      const source = readFileSync(fileURLToPath(url), "utf8");
      return { format: "module", source: stripTypeScriptTypes(source, { mode: "transform", sourceUrl: url }), shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
