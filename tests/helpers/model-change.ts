// A model change run beside an app that searches and writes without pause, for the embedding
// migration tests of every store.
import { expect } from "vitest";
import type { PrismaClient } from "../../src/db/prisma.js";
import type { Dualstore, SearchHit } from "../../src/index.js";
import type { EmbeddingMigrationProgress } from "../../src/sync/embedding-migration.js";
import { chunkKeyOf, chunkKeys } from "../../src/sync/vector-ids.js";

export const topic = (i: number) => `Note ${i}: the zebra${i} herd crossed river${i} at dawn.`;

/** Which of `models` made a hit's vector: its id's key is derived from the embedder and the text. */
export function modelOf(hit: SearchHit, models: readonly string[]): string {
  const key = chunkKeyOf(hit.chunk.vectorId);
  return models.find((model) => chunkKeys(model, [hit.chunk.text])[0] === key) ?? "unknown";
}

export interface BusyMigration<R> {
  readonly result: R;
  /** The models each search's hits came from, in order. */
  readonly searches: string[][];
  /** `built` of each progress report. */
  readonly progress: number[];
  /** Documents (`n0`, `n1`, ...) that exist now, and those written before the migration returned. */
  readonly written: number;
  readonly writtenAtCutOver: number;
}

/**
 * Runs `migrate` while a loop searches for the `initial` documents and those it writes (one
 * after each batch the migration reports, at most 6), and keeps searching for 5 more searches
 * after the cut-over. Every search must find something.
 */
export async function migrateWhileBusy<R>(
  ds: Dualstore<PrismaClient>,
  options: { initial: number; models: readonly string[] },
  migrate: (onProgress: (progress: EmbeddingMigrationProgress) => void) => Promise<R>,
): Promise<BusyMigration<R>> {
  const { initial, models } = options;
  let written = initial;
  const searches: string[][] = [];
  const progress: number[] = [];
  let stop = false;
  let failed = false;
  const loop = (async () => {
    while (!stop) {
      const i = searches.length % written;
      const hits = await ds.search(`zebra${i} river${i}`, { userId: null, topK: 5 });
      expect(hits.length, `search ${searches.length} for note ${i}`).toBeGreaterThan(0);
      searches.push([...new Set(hits.map((hit) => modelOf(hit, models)))]);
      if (written - initial < progress.length && written < initial + 6) {
        await ds.documents.create({ title: `n${written}`, source: "api", content: topic(written) });
        written++;
      }
    }
  })().catch((error: unknown) => {
    failed = true;
    throw error;
  });
  let result: R;
  let writtenAtCutOver: number;
  try {
    result = await migrate((p) => progress.push(p.built));
    writtenAtCutOver = written;
    const cutOverAt = searches.length;
    while (!failed && searches.length < cutOverAt + 5) await new Promise((resolve) => setTimeout(resolve, 5));
  } finally {
    // A failed or timed-out test must not leave the loop running.
    stop = true;
  }
  await loop;
  return { result, searches, progress, written, writtenAtCutOver };
}

/**
 * Every search answered from exactly one of the two models, the old one before the new; the last
 * ones from the new. Documents written during the build are found by the new model afterwards.
 */
export async function expectCleanSwitch(ds: Dualstore<PrismaClient>, run: BusyMigration<unknown>, from: string, to: string, initial: number): Promise<void> {
  for (const models of run.searches) expect(models.length === 1 && models[0] !== "unknown", JSON.stringify(models)).toBe(true);
  const firstNew = run.searches.findIndex(([model]) => model === to);
  expect(firstNew).toBeGreaterThan(0);
  expect(run.searches.slice(firstNew).every(([model]) => model === to), "no search went back to the old model").toBe(true);
  expect(run.searches.slice(0, firstNew).every(([model]) => model === from)).toBe(true);
  expect(run.progress.length).toBeGreaterThan(1);
  expect(run.writtenAtCutOver, "documents were written while the new generation was built").toBeGreaterThan(initial);
  for (let i = initial; i < run.writtenAtCutOver; i++) {
    const [hit] = await ds.search(`zebra${i} river${i}`, { userId: null, mode: "vector", topK: 1 });
    expect(hit!.document.title).toBe(`n${i}`);
    expect(modelOf(hit!, [from, to])).toBe(to);
  }
}
