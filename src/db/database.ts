import type { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../core/logger.js";
import { ConfigurationError } from "../errors.js";
import {
  instrumentAdapter,
  quoteIdentifier,
  type DatabaseDriverName,
  type DriverConnection,
  type QueryEvent,
  type SharedDatabaseHolder,
} from "./driver.js";
import { capturingAdapter, registerDirectSql } from "./direct-sql.js";
import type { NeonSettings } from "./drivers/neon.js";
import type { DualstorePrismaClient } from "./dualstore-prisma-client.js";
import type { PrismaClient as DualstoreClient } from "dualstore/prisma";
import { PrismaClient } from "./prisma.js";

/**
 * An open PGlite (from @electric-sql/pglite), as far as its type goes here: enough to tell one.
 * PGlite's own declarations need Emscripten's types, which an app's strict type check
 * (`skipLibCheck: false`) would then demand too.
 */
export interface PGliteInstance {
  readonly closed: boolean;
  query(query: string, params?: unknown[]): Promise<unknown>;
  exec(query: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface DatabaseOptions<Client extends DualstorePrismaClient = DualstoreClient> {
  /**
   * Where the data lives. Absent: PGlite in memory. `file:<path>`, `memory://` or a plain
   * directory path: PGlite (persisted in that directory). `postgres://` / `postgresql://`:
   * PostgreSQL through node-postgres, or through Neon's serverless driver when the host is a
   * Neon host (`*.neon.tech`) or `driver` is `"neon"`. A `?schema=` parameter picks the
   * PostgreSQL schema, as in Prisma's URLs. Default: the DATABASE_URL environment variable.
   */
  url?: string;
  /** Forces a driver instead of inferring it from `url`. */
  driver?: "pglite" | "node-postgres" | "neon";
  /**
   * PostgreSQL schema for every table dualstore reads and writes (created if missing). Default:
   * the URL's `schema`, else `"dualstore"` on a PostgreSQL server or an app's PGlite instance (a
   * schema the app's Prisma never sees), and `public` in a PGlite database dualstore opened itself.
   * A database whose dualstore tables were created in `public` before this default keeps them there.
   */
  schema?: string;
  /** Largest number of pooled connections (node-postgres, Neon, a shared PGlite). Default 10. */
  poolSize?: number;
  /**
   * PGlite on disk is one process's database. With `share` (the default), the first process to
   * open a directory serves it on a private Unix socket, and other dualstore processes opening
   * the same directory use it through that socket. `false`: they fail with DATABASE_LOCKED instead.
   */
  share?: boolean;
  /**
   * An existing PrismaClient whose schema holds dualstore's models: one generated from dualstore's
   * schema, or the app's own generated from a schema that adopted them (`npx dualstore schema`,
   * with `managedBy: "app"`). dualstore uses it and leaves it open; `ds.prisma` has its type.
   */
  prisma?: Client;
  /**
   * Who creates and migrates dualstore's tables. Default `"dualstore"`: dualstore applies its own
   * migrations (see the `migrate` option). `"app"`: the app adopted dualstore's models into its
   * Prisma schema (`npx dualstore schema`) and its own `prisma migrate` creates and evolves them;
   * dualstore never migrates, and checks when it opens that every table, column, index and enum
   * value it needs is there (SchemaMismatchError naming what is not).
   */
  managedBy?: "dualstore" | "app";
  /** An existing PGlite instance (opened with the pgvector extension if you want the pgvector store). */
  pglite?: PGliteInstance;
  /** Neon driver settings (`neonConfig`), e.g. a WebSocket proxy. */
  neon?: NeonSettings;
  /** Called after every SQL statement with its text and duration: count round trips, trace slow queries. */
  onQuery?: (event: QueryEvent) => void;
}

/** An open database: the Prisma client dualstore works through and what it needs to know about it. */
export interface Database {
  readonly prisma: PrismaClient;
  readonly driver: DatabaseDriverName;
  /** The PostgreSQL schema chosen for dualstore's tables, if one was. */
  readonly schema: string | undefined;
  /** Where the data lives, fit for display. */
  readonly location: string;
  /** The PGlite instance, when the driver is PGlite. */
  readonly pglite: PGlite | undefined;
  /** Set when this is an on-disk PGlite another process holds: see SharedDatabaseHolder. */
  readonly holder: SharedDatabaseHolder | undefined;
  /** Opens one connection, so an unreachable server fails now as a ConnectionError naming it. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

const NEON_HOST = /\.neon\.(tech|build)$/i;

const PERCENT_ENCODE_HINT =
  "If the user name or password holds any of : / ? # [ ] @ % or a space, percent-encode it " +
  "(encodeURIComponent(password)): postgres://user:p%2Fss@host:5432/db";

/**
 * Where dualstore keeps its tables (and its migration history) in a database it may share with
 * an app: a PostgreSQL schema of its own, which the app's `prisma migrate` never looks at.
 */
export const DEFAULT_SCHEMA = "dualstore";

interface OpenContext {
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  /** dualstore's migration names: finding one recorded in `public` marks tables created before DEFAULT_SCHEMA existed. */
  readonly migrationNames: readonly string[];
}

export async function openDatabase(options: DatabaseOptions<DualstorePrismaClient>, context: OpenContext): Promise<Database> {
  if (options.prisma) {
    if (options.url || options.pglite) {
      throw new ConfigurationError("database.prisma: pass either an existing Prisma client or a url/pglite, not both");
    }
    return {
      // Its shape was checked by the type system; its models are dualstore's, which is what the
      // generated client's types describe.
      prisma: options.prisma as unknown as PrismaClient,
      driver: "prisma",
      schema: options.schema,
      location: "existing PrismaClient",
      pglite: undefined,
      holder: undefined,
      verify: async () => {},
      close: async () => {},
    };
  }

  const plan = planConnection(options, context.env);
  const opened = await connect(plan, options, context);
  if (!plan.schemaDefaulted || !(await holdsTablesInPublic(opened.prisma, context))) return opened;
  // Tables made before dualstore had a schema of its own stay where they are.
  context.logger.warn(
    `dualstore's tables are in schema "public", beside any app tables, where an app's \`prisma migrate\` would drop them. ` +
      'Set database.schema: "public" to keep them there and silence this warning, or move them to a schema of their own ' +
      '(README: "Using dualstore in an existing Prisma app").',
  );
  await opened.close();
  return connect({ ...plan, schema: "public", schemaDefaulted: false }, options, context);
}

async function connect(plan: ConnectionPlan, options: DatabaseOptions<DualstorePrismaClient>, context: OpenContext): Promise<Database> {
  const connection = await openDriver(plan, options, context);
  const adapter = capturingAdapter(options.onQuery ? instrumentAdapter(connection.adapter, options.onQuery) : connection.adapter);
  const prisma = new PrismaClient({ adapter: adapter.factory });
  registerDirectSql(prisma, adapter.connected);
  return {
    prisma,
    driver: connection.driver,
    schema: connection.schema,
    location: connection.location,
    pglite: "pglite" in connection ? (connection.pglite as PGlite) : undefined,
    holder: connection.holder,
    verify: () => connection.verify(),
    close: async () => {
      try {
        await prisma.$disconnect();
      } finally {
        await connection.close();
      }
    },
  };
}

/**
 * Whether dualstore's migration history is in `public` and not in DEFAULT_SCHEMA. A database
 * that cannot be reached says no, with a warning: the first query will report it.
 */
async function holdsTablesInPublic(prisma: PrismaClient, context: OpenContext): Promise<boolean> {
  try {
    const [where] = await prisma.$queryRawUnsafe<Array<{ own: boolean; public: boolean }>>(
      `SELECT to_regclass('${quoteIdentifier(DEFAULT_SCHEMA)}._prisma_migrations') IS NOT NULL AS own,
              to_regclass('public._prisma_migrations') IS NOT NULL AS public`,
    );
    if (!where || where.own || !where.public) return false;
    const [found] = await prisma.$queryRawUnsafe<Array<{ found: boolean }>>(
      `SELECT EXISTS (SELECT 1 FROM public._prisma_migrations WHERE migration_name = ANY($1::text[])) AS found`,
      [...context.migrationNames],
    );
    return found?.found === true;
  } catch (error) {
    context.logger.warn(`could not look for dualstore's tables in schema "public"; using schema "${DEFAULT_SCHEMA}"`, { error });
    return false;
  }
}

type ConnectionPlan = { target: DatabaseTarget; schema: string | undefined; schemaDefaulted: boolean };

/**
 * What to open, and in which schema. A database dualstore opens for itself (PGlite by path or in
 * memory) keeps its tables in `public`; one it may share (a server, an app's PGlite instance)
 * gets DEFAULT_SCHEMA unless a schema is named, or unless the app manages dualstore's tables:
 * then they are wherever the app's migrations put them, the connection's own schema.
 */
function planConnection(options: DatabaseOptions<DualstorePrismaClient>, env: NodeJS.ProcessEnv): ConnectionPlan {
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ConfigurationError(`database.poolSize: expected a positive integer, got ${String(options.poolSize)}`);
  }
  const defaultSchema = options.managedBy === "app" ? undefined : DEFAULT_SCHEMA;
  if (options.pglite) {
    const schema = options.schema ?? defaultSchema;
    return { target: { kind: "pglite", dataDir: undefined }, schema, schemaDefaulted: options.schema === undefined && schema !== undefined };
  }
  const url = options.url ?? (options.driver === "pglite" ? undefined : env.DATABASE_URL);
  const target = parseDatabaseUrl(url, options.driver);
  if (target.kind === "pglite") return { target, schema: options.schema, schemaDefaulted: false };
  if (options.schema !== undefined && target.schema !== undefined && options.schema !== target.schema) {
    throw new ConfigurationError(`database.schema: "${options.schema}" contradicts the URL's schema parameter "${target.schema}"`);
  }
  const named = options.schema ?? target.schema;
  const schema = named ?? defaultSchema;
  return { target, schema, schemaDefaulted: named === undefined && schema !== undefined };
}

async function openDriver(plan: ConnectionPlan, options: DatabaseOptions<DualstorePrismaClient>, context: OpenContext): Promise<DriverConnection> {
  const { target, schema } = plan;
  const poolSize = options.poolSize ?? 10;
  if (target.kind === "pglite") {
    const { openPglite } = await import("./drivers/pglite.js");
    // A PGliteInstance is a PGlite: only its declared type is narrower.
    const instance = options.pglite as PGlite | undefined;
    return openPglite({ dataDir: target.dataDir, instance, schema, share: options.share ?? true, poolSize, logger: context.logger });
  }
  const neon = options.driver === "neon" || (options.driver === undefined && NEON_HOST.test(target.host));
  if (neon) {
    const { openNeon } = await import("./drivers/neon.js");
    return openNeon({ url: target.url, schema, poolSize, settings: options.neon, logger: context.logger });
  }
  const { openNodePostgres } = await import("./drivers/node-postgres.js");
  return openNodePostgres({ url: target.url, schema, poolSize, logger: context.logger });
}

type DatabaseTarget =
  | { kind: "pglite"; dataDir: string | undefined }
  | { kind: "postgres"; url: string; host: string; schema: string | undefined };

/** Reads `database.url` (and `driver`) into what to open; malformed input names the option. */
export function parseDatabaseUrl(url: string | undefined, driver?: DatabaseOptions["driver"]): DatabaseTarget {
  if (url === undefined || url === "" || url === "memory://") {
    if (driver === "node-postgres" || driver === "neon") {
      throw new ConfigurationError(`database.url: driver "${driver}" needs a postgres:// URL (or set DATABASE_URL)`);
    }
    return { kind: "pglite", dataDir: undefined };
  }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    if (driver === "pglite") throw new ConfigurationError('database.url: driver "pglite" takes a directory or file: URL, not a postgres:// URL');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // The URL parser's error holds the input, password included: it is not kept as a cause.
      throw new ConfigurationError(`database.url: not a valid postgres:// URL. ${PERCENT_ENCODE_HINT}`);
    }
    // A "/", "?" or "#" in a password ends the host part early: the URL still parses, but with a
    // piece of the password as its host, and the real "user@host" left in the path or query.
    // Nothing of the URL is quoted back: any part of it may be a piece of the password.
    if ((parsed.pathname + parsed.search + parsed.hash).includes("@")) {
      throw new ConfigurationError(`database.url: malformed postgres:// URL: an "@" follows the host. ${PERCENT_ENCODE_HINT}`);
    }
    const schema = parsed.searchParams.get("schema") ?? undefined;
    parsed.searchParams.delete("schema");
    return { kind: "postgres", url: parsed.toString(), host: parsed.hostname, schema };
  }
  if (url.startsWith("file:")) return { kind: "pglite", dataDir: url.slice("file:".length).replace(/^\/\/(?=\/)/, "") };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return { kind: "pglite", dataDir: url };
  throw new ConfigurationError(
    `database.url: unsupported scheme "${url.slice(0, url.indexOf("://"))}://" (expected postgres://, postgresql://, file: or a directory)`,
  );
}
