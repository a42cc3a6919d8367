// `npm run example:existing-app`: generates the app's Prisma client when it is missing (as the
// app's own `npx prisma generate` would; the client is not in git), then runs the app.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
if (!existsSync(`${here}generated/prisma/client.ts`)) {
  const cli = createRequire(import.meta.url).resolve("prisma/build/index.js");
  // `prisma generate` never runs the schema engine but downloads it first; offline, naming any
  // existing file stops the download.
  const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath };
  const run = spawnSync(process.execPath, [cli, "generate", "--schema", "prisma/schema.prisma"], { cwd: here, env, stdio: ["ignore", "ignore", "inherit"] });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
await import("./app.ts");
