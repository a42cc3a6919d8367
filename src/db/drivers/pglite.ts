import type { PGlite } from "@electric-sql/pglite";
import type { DriverConnection } from "../driver.js";

export interface PgliteDriverOptions {
  /** A directory to persist the database in; absent means in memory. */
  readonly dataDir: string | undefined;
  /** An already open PGlite instance to use instead (dualstore will not close it). */
  readonly instance?: PGlite | undefined;
}

/**
 * PGlite: PostgreSQL compiled to WebAssembly, in this process. The embedded default. It is
 * opened with the pgvector extension available, so the pgvector store needs nothing else.
 */
export async function openPglite(options: PgliteDriverOptions): Promise<DriverConnection & { readonly pglite: PGlite }> {
  const [{ PGlite }, { vector }, { PrismaPGlite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-pgvector"),
    import("pglite-prisma-adapter"),
  ]);
  const pglite = options.instance ?? (await PGlite.create(options.dataDir, { extensions: { vector } }));
  const owned = options.instance === undefined;
  return {
    driver: "pglite",
    adapter: new PrismaPGlite(pglite),
    schema: undefined,
    location: options.instance ? "pglite (instance)" : options.dataDir ? `pglite:${options.dataDir}` : "pglite (memory)",
    pglite,
    verify: async () => {},
    close: async () => {
      if (owned && !pglite.closed) await pglite.close();
    },
  };
}
