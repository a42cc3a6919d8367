// The hostile-input suite's harness: each case is a call that must be refused with a typed error
// naming the field at fault, and must leave every dualstore table exactly as it was.
import { expect } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import { ConfigurationError, ValidationError, type Dualstore, type DualstoreError } from "../../src/index.js";

export type ErrorClass = abstract new (...args: never[]) => DualstoreError;

export interface HostileCase<Fixture> {
  /** What is wrong with the input, as the test name shows it. */
  readonly name: string;
  readonly call: (fixture: Fixture) => Promise<unknown>;
  readonly error: ErrorClass;
  /**
   * The field (ValidationError.fields, or "Invalid <argument>" for a positional argument) or option
   * (ConfigurationError.option) the error must name; for other errors, text its message must contain.
   */
  readonly names?: string;
}

/** Builds a case; `names` is the field or option the error must name. */
export function refuses<Fixture>(
  name: string,
  call: (fixture: Fixture) => Promise<unknown>,
  error: ErrorClass,
  names?: string,
): HostileCase<Fixture> {
  return { name, call, error, names };
}

/** Runs the call, expecting the typed error of the case, and returns it. */
export async function expectRefused<Fixture>(fixture: Fixture, hostile: HostileCase<Fixture>): Promise<DualstoreError> {
  const outcome = await Promise.resolve()
    .then(() => hostile.call(fixture))
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  if (outcome.ok) throw new Error(`expected a ${hostile.error.name}, but the call resolved`);
  const error = outcome.error;
  // Never a raw Prisma or JavaScript error: always one of dualstore's, with a stable code.
  expect(error, String((error as Error)?.stack ?? error)).toBeInstanceOf(hostile.error);
  const typed = error as DualstoreError;
  expect(typed.code).toMatch(/^[A-Z_]+$/);
  // Nothing of a raw error leaks through: Prisma's invocation dumps, JavaScript's own errors.
  expect(typed.message).not.toMatch(/PrismaClient\w*Error|Invalid `\S*prisma|invocation:|RangeError|TypeError|Maximum call stack/);
  if (hostile.names !== undefined) {
    // A positional argument (an id, a query) has no field path: the error names the argument itself.
    // ("Invalid user id", the start of its message).
    if (typed instanceof ValidationError) expect([...typed.fields, typed.message.split(":")[0]]).toContain(hostile.names);
    else if (typed instanceof ConfigurationError) expect(typed.option).toBe(hostile.names);
    else expect(typed.message).toContain(hostile.names);
  }
  return typed;
}

/** Row count and checksum of every table in dualstore's schemas (its own and its vector schema). */
export async function tableSnapshot(ds: Dualstore<PrismaClient>): Promise<Record<string, string>> {
  const schema = ds.database.schema ?? "public";
  const tables = await ds.prisma.$queryRawUnsafe<Array<{ table_schema: string; table_name: string }>>(
    `SELECT table_schema, table_name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND (table_schema = $1 OR table_schema = $1 || '_vectors' OR table_schema = 'dualstore_vectors')
      ORDER BY 1, 2`,
    schema,
  );
  expect(tables.length).toBeGreaterThan(5);
  const rows = await ds.prisma.$queryRawUnsafe<Array<{ name: string; count: number; checksum: string }>>(
    tables
      .map(
        ({ table_schema, table_name }) =>
          `SELECT '${table_schema}.${table_name}' AS name, count(*)::int AS count,
                  coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS checksum
             FROM "${table_schema}"."${table_name}" t`,
      )
      .join(" UNION ALL "),
  );
  return Object.fromEntries(rows.map((row) => [row.name, `${row.count}:${row.checksum}`]));
}
