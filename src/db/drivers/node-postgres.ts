import type { Logger } from "../../core/logger.js";
import { redactUrl } from "../../core/redact.js";
import { connectionTarget, toConnectionError } from "../connection-errors.js";
import { searchPathOptions, type DriverConnection } from "../driver.js";
import { watchAdapterHistory } from "../prisma-debug-history.js";

export interface NodePostgresDriverOptions {
  /** postgres:// or postgresql:// URL, without dualstore's `schema` parameter. */
  readonly url: string;
  readonly schema: string | undefined;
  readonly poolSize: number;
  readonly logger: Logger;
}

/** PostgreSQL over TCP with node-postgres, through @prisma/adapter-pg. */
export async function openNodePostgres(options: NodePostgresDriverOptions): Promise<DriverConnection> {
  const [{ default: pg }, { PrismaPg }, { parseIntoClientConfig }] = await Promise.all([
    import("pg"),
    import("@prisma/adapter-pg"),
    import("pg-connection-string"),
    watchAdapterHistory("@prisma/adapter-pg"),
  ]);
  const { schema } = options;
  // The URL's parts, not the URL: a pool keeps its options, and a connection string would keep the
  // password where util.inspect (of ds.prisma, its adapter, the pool) prints it. node-postgres
  // hides a separate `password` option from inspect and stack traces.
  const { password, ...connection } = parseIntoClientConfig(options.url);
  const pool = new pg.Pool({
    ...connection,
    ...(password === undefined ? {} : { password }),
    max: options.poolSize,
    options: searchPathOptions(options.url, schema),
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on("error", (error) => options.logger.warn("idle PostgreSQL connection failed", { error }));
  return {
    driver: "node-postgres",
    adapter: new PrismaPg(pool, schema === undefined ? {} : { schema }),
    schema,
    location: redactUrl(options.url) + (schema ? ` (schema ${schema})` : ""),
    verify: async () => {
      const client = await pool.connect().catch((error: unknown) => {
        throw toConnectionError(error, connectionTarget(options.url));
      });
      client.release();
    },
    close: () => pool.end(),
  };
}
