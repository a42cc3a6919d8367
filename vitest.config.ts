import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each database test file works in its own PostgreSQL schema (or PGlite instance),
    // so files run in parallel; PGlite is CPU-bound, so two workers per core is plenty.
    pool: "forks",
    reporters: ["default"],
  },
});
