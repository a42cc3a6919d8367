/** Small helpers shared by the protocol servers' own tests. */
import { expect } from "vitest";

/** Awaits a promise that must reject and returns what it rejected with. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.unreachable("expected the call to fail, but it succeeded");
  return undefined;
}

/** A deterministic, non-zero vector; `seed` picks the direction. */
export function testVector(dimension: number, seed: number): number[] {
  return Array.from({ length: dimension }, (_, i) => Math.sin(seed * 12.9898 + (i + 1) * 78.233) + (i === seed % dimension ? 1 : 0));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
