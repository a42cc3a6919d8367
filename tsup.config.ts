import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli/main.ts", prisma: "src/prisma.ts" },
  // The main entry's declarations refer to the typed client by its subpath instead of holding it.
  external: ["dualstore/prisma"],
  format: ["esm", "cjs"],
  // @internal declarations (repository constructors, which take Prisma's client) stay out of the
  // published types, and with them Prisma's generated client.
  dts: { compilerOptions: { stripInternal: true } },
  target: "node22",
  platform: "node",
  // The generated Prisma client reads import.meta.url; the CJS build needs it shimmed.
  shims: true,
  esbuildOptions(options, { format }) {
    // ESM has import.meta.url natively; tsup's ESM shim only defines __dirname, which nothing
    // reads, and its unused `path` import makes the tree-shaking pass warn.
    if (format === "esm") options.inject = options.inject?.filter((file) => !/esm_shims\.js$/.test(file));
  },
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
  // Class names survive bundling: error classes are named in both builds (e.name, stack traces).
  keepNames: true,
});
