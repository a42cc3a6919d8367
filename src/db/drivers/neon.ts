import type { Logger } from "../../core/logger.js";
import { redactUrl } from "../../core/redact.js";
import { searchPathStatement, type DriverConnection } from "../driver.js";

/** Settings of @neondatabase/serverless's `neonConfig` (process-wide in that driver). */
export interface NeonSettings {
  wsProxy?: string | ((host: string, port: number | string) => string);
  useSecureWebSocket?: boolean;
  pipelineConnect?: "password" | false;
  pipelineTLS?: boolean;
}

export interface NeonDriverOptions {
  readonly url: string;
  readonly schema: string | undefined;
  readonly poolSize: number;
  readonly settings: NeonSettings | undefined;
  readonly logger: Logger;
}

/** Neon's serverless driver over WebSocket, through @prisma/adapter-neon. */
export async function openNeon(options: NeonDriverOptions): Promise<DriverConnection> {
  const [{ neonConfig }, { PrismaNeon }] = await Promise.all([
    import("@neondatabase/serverless"),
    import("@prisma/adapter-neon"),
  ]);
  for (const [key, value] of Object.entries(options.settings ?? {})) {
    if (value !== undefined) (neonConfig as unknown as Record<string, unknown>)[key] = value;
  }
  const { schema, logger } = options;
  const factory = new PrismaNeon(
    { connectionString: options.url, max: options.poolSize },
    {
      ...(schema === undefined ? {} : { schema }),
      onPoolError: (error) => logger.warn("idle Neon connection failed", { error }),
    },
  );
  const opened: Array<{ end(): Promise<void> }> = [];
  return {
    driver: "neon",
    adapter: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => {
        const adapter = await factory.connect();
        const pool = adapter.underlyingDriver();
        if (schema !== undefined) {
          pool.on("connect", (client: { query(sql: string): Promise<unknown> }) => {
            client.query(searchPathStatement(schema)).catch(() => undefined);
          });
        }
        opened.push({ end: () => adapter.dispose() });
        return adapter;
      },
    },
    schema,
    location: redactUrl(options.url) + (schema ? ` (schema ${schema})` : ""),
    close: async () => {
      await Promise.all(opened.map((pool) => pool.end()));
    },
  };
}
