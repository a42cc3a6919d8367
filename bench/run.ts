/**
 * Entry point of `npm run bench` (see main.ts for the options).
 *
 * Two things happen before main.ts loads:
 * - The parent process hosts the Pinecone protocol server, which keeps both libraries' indexes in
 *   memory as plain number arrays (~12 KB a vector at 1,536 dimensions): at 5,000 documents that
 *   is more than Node's default heap limit, so the bench restarts itself with a larger one.
 * - Node 22 runs TypeScript directly but resolves relative imports literally, and the bench
 *   imports its modules as "./x.js", as the rest of the project does; hooks.ts maps those to the
 *   .ts files, so it must be registered before any such import is resolved.
 */
import { spawnSync } from "node:child_process";
import { getHeapStatistics } from "node:v8";

const HEAP_MB = 12_288;
if (getHeapStatistics().heap_size_limit < (HEAP_MB / 2) * 2 ** 20 && !process.execArgv.some((flag) => flag.startsWith("--max-old-space-size"))) {
  const result = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

await import(new URL("./hooks.ts", import.meta.url).href);
await import(new URL("./main.ts", import.meta.url).href);
