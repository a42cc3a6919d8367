import { mkdtemp } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as delay, setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { PGlite } from "@electric-sql/pglite";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { Logger } from "../../core/logger.js";
import { ConnectionError, DatabaseLockedError } from "../../errors.js";
import type { DriverConnection } from "../driver.js";
import { watchAdapterHistory } from "../prisma-debug-history.js";
import { DataDirLock, isAlive, type LockRecord } from "../pglite/data-dir-lock.js";
import { servePglite, SOCKET_PORT, type PgliteServer } from "../pglite/pglite-server.js";

export interface PgliteDriverOptions {
  /** A directory to persist the database in; absent means in memory. */
  readonly dataDir: string | undefined;
  /** An already open PGlite instance to use instead (dualstore will not close it). */
  readonly instance?: PGlite | undefined;
  /** Serve an on-disk database to other processes that open the same directory. */
  readonly share: boolean;
  /** Pooled connections when this process uses another process's shared database. */
  readonly poolSize: number;
  readonly logger: Logger;
  /** PostgreSQL schema holding dualstore's tables; absent: the instance's search_path (public). */
  readonly schema?: string | undefined;
}

/** How long to wait for a holder that is still opening the database before it serves it. */
const STARTING_WAIT_MS = 60_000;
/** A serving holder whose socket refuses this long is gone (its pid now belongs to another process). */
const REFUSED_GRACE_MS = 5_000;
const POLL_MS = 100;

/**
 * PGlite: PostgreSQL compiled to WebAssembly, in this process. The embedded default. It is
 * opened with the pgvector extension available, so the pgvector store needs nothing else.
 *
 * On disk, PGlite is one process's database. The first process to open a directory locks it
 * and (unless `share` is false) serves it on a private Unix socket; a second process opening
 * the same directory connects through that socket with node-postgres, transparently. A holder
 * that shares nothing makes the second process fail with DATABASE_LOCKED; the lock of a
 * process that died is taken over.
 */
export async function openPglite(options: PgliteDriverOptions): Promise<DriverConnection & { readonly pglite?: PGlite }> {
  if (options.instance !== undefined || options.dataDir === undefined) {
    const pglite = options.instance ?? (await createPglite(undefined));
    const owned = options.instance === undefined;
    return inProcess(pglite, options.instance ? "pglite (instance)" : "pglite (memory)", options.schema, async () => {
      if (owned && !pglite.closed) await pglite.close();
    });
  }
  const dataDir = resolve(options.dataDir);
  const startedWaiting = Date.now();
  let refused: { token: string; since: number } | undefined;
  for (;;) {
    const attempt = await DataDirLock.acquire(dataDir);
    if (attempt.acquired) return holdDirectory(dataDir, attempt.lock, options);
    const { holder } = attempt;
    if (holder.state === "exclusive") throw lockedBy(dataDir, holder);
    if (holder.state === "serving" && holder.socketDir !== undefined) {
      try {
        return await connectThrough(dataDir, holder, holder.socketDir, options);
      } catch (error) {
        if (!(error instanceof ConnectionError && socketGone(error.cause))) throw error;
        if (refused?.token !== holder.token) refused = { token: holder.token, since: Date.now() };
        if (Date.now() - refused.since > REFUSED_GRACE_MS && isAlive(holder)) await DataDirLock.breakStale(dataDir, holder);
      }
    } else if (Date.now() - startedWaiting > STARTING_WAIT_MS) {
      throw lockedBy(dataDir, holder);
    }
    await delay(POLL_MS);
  }
}

/** This process holds the directory: opens PGlite on it and serves it to others. */
async function holdDirectory(dataDir: string, lock: DataDirLock, options: PgliteDriverOptions): Promise<DriverConnection & { readonly pglite: PGlite }> {
  let pglite: PGlite | undefined;
  let server: PgliteServer | undefined;
  try {
    pglite = await createPglite(dataDir);
    // Node serves a path on Windows as a named pipe, which node-postgres cannot connect to.
    if (options.share && process.platform !== "win32") {
      server = await servePglite(pglite, await mkdtemp(join(tmpdir(), "dualstore-")), options.logger);
      await lock.update({ state: "serving", socketDir: server.socketDir });
    } else {
      await lock.update({ state: "exclusive", socketDir: undefined });
    }
  } catch (error) {
    await server?.close();
    await pglite?.close();
    await lock.release();
    throw error;
  }
  const opened = pglite;
  return inProcess(opened, `pglite:${dataDir}`, options.schema, async () => {
    try {
      await server?.close();
      if (!opened.closed) await opened.close();
    } finally {
      await lock.release();
    }
  });
}

/** Another process holds the directory and serves it: node-postgres over its socket. */
async function connectThrough(dataDir: string, holder: LockRecord, socketDir: string, options: PgliteDriverOptions): Promise<DriverConnection> {
  const { openNodePostgres } = await import("./node-postgres.js");
  const url = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`;
  const connection = await openNodePostgres({ url, schema: options.schema, poolSize: options.poolSize, logger: options.logger });
  try {
    await connection.verify();
  } catch (error) {
    await connection.close();
    throw error;
  }
  const tether = watchHolder(socketDir, holder.pid);
  return {
    ...connection,
    location: `pglite:${dataDir} (shared by pid ${holder.pid})`,
    holder: { pid: holder.pid, gone: tether.gone },
    close: async () => {
      tether.stop();
      await connection.close();
    },
  };
}

/**
 * Keeps one idle connection to the holder's socket, which closes when the holder closes the
 * database or dies: the moment to tell this process, whose queries would otherwise just fail.
 */
function watchHolder(socketDir: string, pid: number): { gone: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const socket = connect(join(socketDir, `.s.PGSQL.${SOCKET_PORT}`));
  const onClose = () => controller.abort(new ConnectionError(socketDir, `the process that shared this PGlite database (pid ${pid}) closed it or exited`));
  socket.on("close", onClose);
  socket.on("error", () => {});
  return {
    gone: controller.signal,
    stop() {
      socket.off("close", onClose);
      socket.destroy();
    },
  };
}

async function createPglite(dataDir: string | undefined): Promise<PGlite> {
  const [{ PGlite }, { vector }] = await Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-pgvector")]);
  return PGlite.create(dataDir, { extensions: { vector } });
}

async function inProcess(
  pglite: PGlite,
  location: string,
  schema: string | undefined,
  close: () => Promise<void>,
): Promise<DriverConnection & { readonly pglite: PGlite }> {
  const [{ PrismaPGlite }] = await Promise.all([import("pglite-prisma-adapter"), watchAdapterHistory("pglite-prisma-adapter")]);
  const adapter = forDualstore(new PrismaPGlite(pglite), schema);
  return { driver: "pglite", adapter, schema, location: location + (schema ? ` (schema ${schema})` : ""), pglite, verify: async () => {}, close };
}

function lockedBy(dataDir: string, holder: LockRecord): DatabaseLockedError {
  const fix =
    holder.state === "starting"
      ? `It has not finished opening it in ${STARTING_WAIT_MS / 1_000} s. Wait for it, or stop it.`
      : "That process does not share it (database.share: false, or a platform without Unix sockets). " +
        "Stop it first, or use a PostgreSQL server (a postgres:// database URL) for work in several processes.";
  return new DatabaseLockedError(dataDir, holder, fix);
}

/** The holder's socket is not there (ENOENT) or nobody listens on it (ECONNREFUSED): it is closing, or gone. */
function socketGone(cause: unknown): boolean {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : undefined;
  return code === "ENOENT" || code === "ECONNREFUSED";
}

/**
 * The PGlite adapter as dualstore uses it: each query and transaction first yields to the event
 * loop, and, with `schema`, Prisma's queries point at that schema.
 *
 * PGlite runs a query synchronously in WebAssembly and settles its promise at once, so a chain
 * of queries (a search loop, a drain) is one unbroken run of microtasks: timers, I/O and
 * `process.nextTick` wait until it ends. Prisma starts a batch `$transaction([...])` from a
 * `nextTick`, so while another task queried without pause, a model change's batch never started
 * (issue 13), and a long drain kept an app's HTTP server from answering. One `setImmediate` per
 * query costs microseconds. The adapter supports a schema but its factory has no way to pass one;
 * the search_path is left alone because an app may share the instance.
 */
function forDualstore(factory: SqlDriverAdapterFactory, schema: string | undefined): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect();
      return new Proxy(adapter, {
        get(target, property, receiver) {
          if (property === "getConnectionInfo" && schema !== undefined) return () => ({ ...target.getConnectionInfo?.(), schemaName: schema });
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== "function") return value;
          if (property === "queryRaw" || property === "executeRaw" || property === "startTransaction") {
            return async (...args: unknown[]) => {
              await yieldToEventLoop();
              return (value as (...args: unknown[]) => unknown).apply(target, args);
            };
          }
          return value.bind(target);
        },
      });
    },
  };
}
