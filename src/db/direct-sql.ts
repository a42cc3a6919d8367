import type { ArgScalarType, ArgType, ColumnType, SqlDriverAdapter, SqlDriverAdapterFactory, SqlResultSet } from "@prisma/driver-adapter-utils";
import { DatabaseError } from "../errors.js";
import type { PrismaClient } from "./prisma.js";

/**
 * Raw statements on the hot paths (a search's hydration, a delete's claim and row delete) sent
 * straight to the driver adapter that Prisma itself uses, when dualstore opened the database.
 * Through `$queryRawUnsafe`, Prisma turns each one into a request, runs it through its query
 * compiler and interpreter and serializes the result twice over: about 0.5 ms of CPU per
 * statement, as much as node-postgres takes for the whole round trip. The adapter is the same
 * one (same pool, same `onQuery` events); values come back as Prisma returns them from a raw
 * query (timestamps as Date, JSON parsed, int8 as bigint). With a PrismaClient the app passed
 * in, or inside a transaction, the statements go through Prisma as before.
 */
/** The driver adapters' column type codes (@prisma/driver-adapter-utils' ColumnTypeEnum, which is a type-only dependency here). */
const Column = { Int32: 0, Int64: 1, Boolean: 5, Date: 8, Time: 9, DateTime: 10, Json: 11, Numeric: 4, Bytes: 13, FirstArray: 64, LastArray: 78 } as const;

const adapters = new WeakMap<object, () => SqlDriverAdapter | undefined>();

/**
 * Wraps the adapter factory handed to `new PrismaClient({ adapter })` so that the adapter
 * Prisma connects can also serve `client`'s direct statements (see registerDirectSql).
 */
export function capturingAdapter(factory: SqlDriverAdapterFactory): { factory: SqlDriverAdapterFactory; connected: () => SqlDriverAdapter | undefined } {
  let adapter: SqlDriverAdapter | undefined;
  const connect = async (): Promise<SqlDriverAdapter> => {
    const connected = await factory.connect();
    const dispose = connected.dispose.bind(connected);
    // Once Prisma lets it go, statements go back through Prisma (which connects again).
    connected.dispose = () => {
      if (adapter === connected) adapter = undefined;
      return dispose();
    };
    adapter = connected;
    return connected;
  };
  const captured = new Proxy(factory, {
    get(object, property, receiver) {
      if (property === "connect") return connect;
      const value = Reflect.get(object, property, receiver);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
  return { factory: captured, connected: () => adapter };
}

/** Lets `client`'s hot statements reach the adapter it connected (none until its first query). */
export function registerDirectSql(client: PrismaClient, connected: () => SqlDriverAdapter | undefined): void {
  adapters.set(client, connected);
}

/** Rows of a raw query, as `$queryRawUnsafe` would return them. */
export async function queryRows<Row>(client: PrismaClient, sql: string, ...args: unknown[]): Promise<Row[]> {
  const adapter = adapters.get(client)?.();
  if (!adapter) return client.$queryRawUnsafe<Row[]>(sql, ...args);
  const result = await adapter.queryRaw({ sql, args, argTypes: args.map(argType) }).catch(failed);
  return toRows(result) as Row[];
}

/** Rows changed by a raw statement, as `$executeRawUnsafe` would return them. */
export async function executeSql(client: PrismaClient, sql: string, ...args: unknown[]): Promise<number> {
  const adapter = adapters.get(client)?.();
  if (!adapter) return client.$executeRawUnsafe(sql, ...args);
  return adapter.executeRaw({ sql, args, argTypes: args.map(argType) }).catch(failed);
}

function failed(error: unknown): never {
  const cause = (error as { cause?: { message?: unknown; originalMessage?: unknown } } | undefined)?.cause;
  const message = String(cause?.originalMessage ?? cause?.message ?? (error instanceof Error ? error.message : error));
  throw new DatabaseError(`raw query failed: ${message}`, { cause: error });
}

/** The argument types Prisma infers for a raw query's parameters. */
function argType(value: unknown): ArgType {
  return Array.isArray(value) ? { scalarType: value.length > 0 ? scalarType(value[0]) : "unknown", arity: "list" } : { scalarType: scalarType(value), arity: "scalar" };
}

function scalarType(value: unknown): ArgScalarType {
  return typeof value === "number" ? "decimal" : typeof value === "string" ? "string" : "unknown";
}

function toRows({ columnNames, columnTypes, rows }: SqlResultSet): Array<Record<string, unknown>> {
  return rows.map((values) => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < columnNames.length; i++) row[columnNames[i]!] = toValue(values[i], columnTypes[i] as ColumnType);
    return row;
  });
}

/** A column's value as Prisma's raw queries return it. Numeric, bytes and time columns are not used by the direct statements. */
function toValue(value: unknown, type: number): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case Column.Int32:
      return Math.trunc(Number(value));
    case Column.Int64:
      return BigInt(typeof value === "number" ? Math.trunc(value) : (value as string));
    case Column.Boolean:
      return typeof value === "boolean" ? value : typeof value === "string" ? value === "true" || value === "1" : value === 1;
    case Column.Json:
      return JSON.parse(value as string);
    case Column.Date:
    case Column.DateTime:
      return new Date(value as string);
    case Column.Numeric:
    case Column.Bytes:
    case Column.Time:
      throw new DatabaseError(`raw query: column type ${type} is not read by dualstore's direct statements`);
    default:
      if (type >= Column.FirstArray && type <= Column.LastArray && Array.isArray(value)) return value.map((item: unknown) => toValue(item, type - Column.FirstArray));
      return value;
  }
}
