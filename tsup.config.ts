import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli/main.ts" },
  format: ["esm", "cjs"],
  dts: true,
  target: "node22",
  platform: "node",
  // The generated Prisma client reads import.meta.url; the CJS build needs it shimmed.
  shims: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
});
