import { Debug } from "@prisma/client/runtime/client";

/** How many debug calls Prisma's client keeps (MAX_ARGS_HISTORY in @prisma/debug). */
const PRISMA_DEBUG_HISTORY = 100;
const debug = Debug("dualstore:statement-args");

/**
 * Lets go of the statement parameters Prisma's client holds for its error reports. Its debug
 * module keeps the arguments of the last 100 debug calls whether debugging is on or not, and
 * the call for a raw statement carries the statement's parameters printed as JSON: after the
 * commit of a batch's chunk rows, about a megabyte each, tens of megabytes in all, which would
 * stay on the heap for as long as the process runs. Filling the history with empty calls frees
 * them. (The driver adapter keeps a history of its own, within its own copy of the module.)
 * Left alone while someone debugs dualstore, whose debug output this would fill.
 */
export function forgetStatementArgs(): void {
  if (Debug.enabled(debug.namespace)) return;
  for (let i = 0; i < PRISMA_DEBUG_HISTORY; i++) debug("");
}
