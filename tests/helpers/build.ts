// Tests that run the CLI and the examples as a user would need dist/ (the examples import
// "dualstore", which resolves to dist through the package's exports map). ensureBuilt() builds it
// when it is missing or older than the sources, once per test process; the script it calls
// serialises builds across processes (test files run in parallel, and tsup empties dist/ first).
import { buildIfStale } from "../../scripts/build-if-stale.mjs";

let checked = false;

export function ensureBuilt(): void {
  if (checked) return;
  buildIfStale();
  checked = true;
}
