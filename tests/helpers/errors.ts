import { expect } from "vitest";
import type { DualstoreError } from "../../src/index.js";

/** Awaits `promise`, expects it to reject with `type`, and returns the error for further checks. */
export async function rejectsWith<E extends DualstoreError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a ${type.name}, but the call resolved with ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(type);
  return outcome.error as E;
}
