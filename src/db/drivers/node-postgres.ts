import type { Logger } from "../../core/logger.js";
import { redactUrl } from "../../core/redact.js";
import { connectionTarget, toConnectionError } from "../connection-errors.js";
import { searchPathOptions, type DriverConnection } from "../driver.js";

export interface NodePostgresDriverOptions {
  /** postgres:// or postgresql:// URL, without dualstore's `schema` parameter. */
  readonly url: string;
  readonly schema: string | undefined;
  readonly poolSize: number;
  readonly logger: Logger;
}

/** PostgreSQL over TCP with node-postgres, through @prisma/adapter-pg. */
export async function openNodePostgres(options: NodePostgresDriverOptions): Promise<DriverConnection> {
  const [{ default: pg }, { PrismaPg }] = await Promise.all([import("pg"), import("@prisma/adapter-pg")]);
  const { schema } = options;
  const pool = new pg.Pool({
    connectionString: options.url,
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
