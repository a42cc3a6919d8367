import type { Logger } from "../../core/logger.js";
import { redactUrl } from "../../core/redact.js";
import { connectionTarget, toConnectionError } from "../connection-errors.js";
import { searchPathOptions, type DriverConnection } from "../driver.js";
import { watchAdapterHistory } from "../prisma-debug-history.js";

/**
 * Per-connection settings of @neondatabase/serverless (its `neonConfig` fields), applied to
 * dualstore's own connections only, never to the process-wide `neonConfig`.
 */
export interface NeonSettings {
  wsProxy?: string | ((host: string, port: number | string) => string);
  useSecureWebSocket?: boolean;
  pipelineConnect?: "password" | false;
  pipelineTLS?: boolean;
  forceDisablePgSSL?: boolean;
  /** A WebSocket class, for runtimes without a global WebSocket. */
  webSocketConstructor?: unknown;
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
  const [{ Client }, { PrismaNeon }] = await Promise.all([
    import("@neondatabase/serverless"),
    import("@prisma/adapter-neon"),
    watchAdapterHistory("@prisma/adapter-neon"),
  ]);
  const { schema, logger } = options;
  const settings = Object.fromEntries(Object.entries(options.settings ?? {}).filter(([, v]) => v !== undefined));
  // Each client carries its own copy of neonConfig; setting it there keeps other Neon pools in
  // the process (the app's own, say) on their defaults.
  class ConfiguredClient extends Client {
    constructor(...args: ConstructorParameters<typeof Client>) {
      super(...args);
      Object.assign(this.neonConfig, settings);
    }
  }
  const factory = new PrismaNeon(
    { connectionString: options.url, max: options.poolSize, options: searchPathOptions(options.url, schema) },
    {
      ...(schema === undefined ? {} : { schema }),
      onPoolError: (error) => logger.warn("idle Neon connection failed", { error }),
    },
  );
  const opened: Array<() => Promise<void>> = [];
  return {
    driver: "neon",
    adapter: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: async () => {
        const adapter = await factory.connect();
        const pool = adapter.underlyingDriver();
        pool.Client = ConfiguredClient;
        opened.push(() => adapter.dispose());
        return adapter;
      },
    },
    schema,
    location: redactUrl(options.url) + (schema ? ` (schema ${schema})` : ""),
    verify: async () => {
      const client = new ConfiguredClient({ connectionString: options.url });
      // The client reports a lost connection as an 'error' event too; the rejection below is the report.
      client.on("error", () => {});
      try {
        await client.connect();
      } catch (error) {
        throw toConnectionError(error, connectionTarget(options.url));
      }
      await client.end();
    },
    close: async () => {
      await Promise.all(opened.map((dispose) => dispose()));
    },
  };
}
