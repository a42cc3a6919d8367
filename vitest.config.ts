import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each database test file works in its own PostgreSQL schema (or PGlite instance), so files
    // run in parallel. Vitest's default on two cores is one file at a time, which leaves a core
    // idle while a file waits on child processes, servers and retry delays; CI machines have two.
    // Three files at a time keep both cores busy: the files spend more than half their time
    // waiting (the suite took 913 s of CPU over 2,113 s of file time).
    pool: "forks",
    maxWorkers: 3,
    reporters: ["default"],
    setupFiles: ["tests/setup/pglite-initdb-snapshot.ts"],
  },
});
