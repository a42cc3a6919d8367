export type HealthStatus = "up" | "down";

export interface ComponentHealth {
  readonly status: HealthStatus;
  /** Round-trip time of the probe, in milliseconds. */
  readonly latencyMs: number;
  /** What was probed, fit for display (no secrets). */
  readonly target: string;
  /** Why the component is down. */
  readonly error?: string;
}

export interface HealthReport {
  /** `up` when every component is up; `degraded` when search or sync would fail but the database works; `down` when the database does not answer. */
  readonly status: "up" | "degraded" | "down";
  readonly database: ComponentHealth;
  readonly vectorStore?: ComponentHealth;
  readonly embedder?: ComponentHealth;
  /** The recorded index generation: `down` when this process's embedder, namespacing, chunker or store is not the recorded one (the error says which). */
  readonly index?: ComponentHealth;
}

/** Times `probe`; a throw becomes a `down` report carrying the (already redacted) message. */
export async function probe(target: string, check: () => Promise<unknown>, redact: (text: string) => string): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    await check();
    return { status: "up", latencyMs: elapsed(started), target };
  } catch (error) {
    return {
      status: "down",
      latencyMs: elapsed(started),
      target,
      error: redact(error instanceof Error ? error.message : String(error)),
    };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
