/**
 * Entry point of `npm run bench` (see main.ts for the options).
 *
 * Node 22 runs TypeScript directly but resolves relative imports literally, and the bench
 * imports its modules as "./x.js", as the rest of the project does; hooks.ts maps those to the
 * .ts files, so it must be registered before any such import is resolved.
 */
await import(new URL("./hooks.ts", import.meta.url).href);
await import(new URL("./main.ts", import.meta.url).href);
