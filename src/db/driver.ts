import type { SqlDriverAdapterFactory, SqlQuery, SqlQueryable } from "@prisma/driver-adapter-utils";

export type DatabaseDriverName = "pglite" | "node-postgres" | "neon" | "prisma";

/** What a driver file hands back: a Prisma driver adapter plus how to release what it opened. */
export interface DriverConnection {
  readonly driver: DatabaseDriverName;
  readonly adapter: SqlDriverAdapterFactory;
  /** PostgreSQL schema the connection works in, when one was chosen. */
  readonly schema: string | undefined;
  /** Where the data lives, fit for display (no password). */
  readonly location: string;
  /** Set when the database is an on-disk PGlite that another process holds and shares with this one. */
  readonly holder?: SharedDatabaseHolder | undefined;
  /** Opens one connection and gives it back, so an unreachable server fails here, as a ConnectionError. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

/** The process that holds an on-disk PGlite this process uses through it. */
export interface SharedDatabaseHolder {
  readonly pid: number;
  /**
   * Aborts when that process closes the database or exits: this process can no longer reach it,
   * and should close and open it again (it may then hold it itself).
   */
  readonly gone: AbortSignal;
}

export interface QueryEvent {
  /** The statement text, with parameters as placeholders ($1, $2, ...). */
  readonly sql: string;
  readonly durationMs: number;
}

/**
 * The libpq `options` startup parameter that pins every connection of a pool to `schema`,
 * merged with any `options` the URL already carries. A startup parameter costs no round trip
 * and cannot race the first query. `public` follows on the path: what an app installed there
 * (pgvector's `vector` type, in a database dualstore shares) still resolves, while dualstore's
 * own names resolve in its schema first.
 */
export function searchPathOptions(url: string, schema: string | undefined): string | undefined {
  const existing = new URL(url).searchParams.get("options") ?? undefined;
  if (schema === undefined) return existing;
  const path = schema === "public" ? quoteIdentifier(schema) : `${quoteIdentifier(schema)},public`;
  const pin = `-c search_path=${path.replace(/([\\ ])/g, "\\$1")}`;
  return existing ? `${existing} ${pin}` : pin;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `name` quoted, and qualified by `schema` when one is pinned. */
export function qualifiedName(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdentifier(name) : `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/**
 * Wraps a driver adapter so that every statement it runs (queries, and BEGIN/COMMIT/ROLLBACK
 * of transactions) is reported to `onQuery`: the round trips that benchmarks and users count.
 */
export function instrumentAdapter(factory: SqlDriverAdapterFactory, onQuery: (event: QueryEvent) => void): SqlDriverAdapterFactory {
  const timed = async <T>(sql: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      onQuery({ sql, durationMs: performance.now() - started });
    }
  };
  const wrapQueryable = <T extends SqlQueryable>(target: T, extra: Record<string, unknown> = {}): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        if (property in extra) return extra[property as string];
        if (property === "queryRaw") return (query: SqlQuery) => timed(query.sql, () => object.queryRaw(query));
        if (property === "executeRaw") return (query: SqlQuery) => timed(query.sql, () => object.executeRaw(query));
        const value = Reflect.get(object, property, receiver);
        return typeof value === "function" ? value.bind(object) : value;
      },
    });

  return new Proxy(factory, {
    get(object, property, receiver) {
      if (property !== "connect") {
        const value = Reflect.get(object, property, receiver);
        return typeof value === "function" ? value.bind(object) : value;
      }
      return async () => {
        const adapter = await object.connect();
        return wrapQueryable(adapter, {
          startTransaction: async (...args: Parameters<typeof adapter.startTransaction>) => {
            const tx = await timed("BEGIN", () => adapter.startTransaction(...args));
            // Without phantom queries (node-postgres, Neon) Prisma sends COMMIT and ROLLBACK as
            // SQL, counted above, and commit() only releases the connection.
            if (!tx.options.usePhantomQuery) return wrapQueryable(tx);
            return wrapQueryable(tx, {
              commit: () => timed("COMMIT", () => tx.commit()),
              rollback: () => timed("ROLLBACK", () => tx.rollback()),
            });
          },
        });
      };
    },
  });
}
