/** Small statistics helpers for the bench. */
import { cpus } from "node:os";

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** dualstore / peer, or undefined when the peer's figure is 0 (a ratio would mean nothing). */
export function ratio(dualstore: number, peer: number): number | undefined {
  if (peer === 0) return dualstore === 0 ? 1 : undefined;
  return dualstore / peer;
}

/** A seeded PRNG: the same seed gives the same sequence on every machine (the test servers' own). */
export { mulberry32 as seededRandom } from "../tests/servers/faults.js";

/** Busy and total CPU time of every core, from the kernel's counters (the machine's load over a step). */
export function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}
