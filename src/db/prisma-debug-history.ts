import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Debug } from "@prisma/client/runtime/client";

/** How many debug calls Prisma's client keeps (MAX_ARGS_HISTORY in @prisma/debug). */
const PRISMA_DEBUG_HISTORY = 100;
const debug = Debug("dualstore:statement-args");
/** The histories of the driver adapters' own copies of @prisma/debug (see watchAdapterHistory). */
const adapterHistories = new Set<() => void>();

/**
 * Lets go of the statement parameters Prisma holds for its error reports. Its debug module
 * keeps the arguments of the last 100 debug calls whether debugging is on or not, and the call
 * for a raw statement carries the statement's parameters: after the commit of a batch's chunk
 * rows, about a megabyte each, tens of megabytes in all, which would stay on the heap for as
 * long as the process runs. The client's copy is emptied by filling it with empty calls (its
 * bundle exports no way to clear it); each driver adapter's copy (see watchAdapterHistory) is
 * cleared. Left alone while someone debugs dualstore, whose debug output this would fill.
 */
export function forgetStatementArgs(): void {
  if (Debug.enabled(debug.namespace)) return;
  for (let i = 0; i < PRISMA_DEBUG_HISTORY; i++) debug("");
  for (const clear of adapterHistories) clear();
}

/**
 * Finds the copy of @prisma/debug that the driver adapter `adapterPackage` loaded (adapters
 * bring their own, nested under them, which logs every statement with its parameters), so
 * forgetStatementArgs() clears it too. Both of its builds are cleared: which one the adapter
 * loaded depends on how dualstore itself was loaded. Not finding it only costs memory.
 */
export async function watchAdapterHistory(adapterPackage: string): Promise<void> {
  try {
    const adapter = createRequire(import.meta.url).resolve(adapterPackage);
    const utils = createRequire(adapter).resolve("@prisma/driver-adapter-utils");
    const requireDebug = createRequire(utils);
    const entry = requireDebug.resolve("@prisma/debug");
    const commonJs = requireDebug(entry) as { clearLogs?: () => void };
    const root = packageRoot(entry);
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports?: { ".": { import?: { default?: string } } } };
    const esmPath = manifest.exports?.["."]?.import?.default;
    const esm = esmPath === undefined ? {} : ((await import(pathToFileURL(join(root, esmPath)).href)) as { clearLogs?: () => void });
    for (const clear of [commonJs.clearLogs, esm.clearLogs]) if (typeof clear === "function") adapterHistories.add(clear);
  } catch {
    // An adapter laid out otherwise: its history is left as it is.
  }
}

/** The directory holding the package.json of the package `entry` belongs to. */
function packageRoot(entry: string): string {
  let directory = dirname(entry);
  while (!isPackageRoot(directory) && dirname(directory) !== directory) directory = dirname(directory);
  return directory;
}

function isPackageRoot(directory: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as { name?: string }).name === "@prisma/debug";
  } catch {
    return false;
  }
}
