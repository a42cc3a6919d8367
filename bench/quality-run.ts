/** Entry point of `npm run bench:quality` (see quality.ts); hooks.ts lets Node run the TypeScript sources directly. */
await import(new URL("./hooks.ts", import.meta.url).href);
await import(new URL("./quality.ts", import.meta.url).href);
