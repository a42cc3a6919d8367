import type { EmbedderMismatchError, IndexLayoutMismatchError } from "../errors.js";
import { mismatchError, type GenerationTable, type IndexGeneration, type IndexLayout } from "./index-generation.js";

/** The recorded generation as this process last read it, its own layout, and what keeps it from using the index. */
export interface LayoutState {
  readonly generation: IndexGeneration;
  /** The generation a model change is building, if any. */
  readonly building: IndexGeneration | null;
  readonly layout: IndexLayout;
  readonly mismatch: EmbedderMismatchError | IndexLayoutMismatchError | null;
}

/** How long a read of the recorded generation is trusted before a sync or search reads it again, in ms. */
const RECHECK_MS = 2_000;

/**
 * Keeps a process from syncing or searching an index recorded with another layout. The record
 * is read again now and then: another process may have bound an empty index to its own layout
 * after this one opened it.
 */
export class LayoutGuard {
  private readAt = performance.now();
  private expected: number | undefined;

  constructor(
    private readonly generations: GenerationTable,
    private ownLayout: IndexLayout,
    private generation: IndexGeneration,
    private building: IndexGeneration | null,
  ) {}

  get layout(): IndexLayout {
    return this.ownLayout;
  }

  /**
   * This process is cutting over to `generation` (or stopped trying: undefined): once it reads it
   * live, it uses its embedder and store. Searches that see the cut-over before the migration itself has
   * switched answer from the new generation, not with an error.
   */
  expect(generation: IndexGeneration | undefined): void {
    this.expected = generation?.id;
  }

  /** `generation` is live, and this process, which made it so, goes on with its embedder and store. */
  adopt(generation: IndexGeneration): void {
    this.generation = generation;
    this.building = null;
    this.readAt = performance.now();
    this.useModelOf(generation);
  }

  /** The new generation's model, and its store's place (a new Pinecone prefix or index, a new table). */
  private useModelOf(generation: IndexGeneration): void {
    const { embedder, embedderConfig, dimension, store, storeConfig } = generation;
    this.ownLayout = { ...this.ownLayout, embedder, embedderConfig, dimension, store, storeConfig };
  }

  async state(): Promise<LayoutState> {
    if (performance.now() - this.readAt > RECHECK_MS) await this.reread();
    if (this.generation.id === this.expected) this.useModelOf(this.generation);
    return { generation: this.generation, building: this.building, layout: this.ownLayout, mismatch: mismatchError(this.generation, this.ownLayout, this.building) };
  }

  /** Reads the recorded generations now (after this process started, cut over or aborted a model change). */
  async reread(): Promise<void> {
    const { live, building } = await this.generations.current();
    this.generation = live ?? this.generation;
    this.building = building;
    this.readAt = performance.now();
  }

  /** Throws EmbedderMismatchError or IndexLayoutMismatchError when this process's layout is not the recorded one. */
  async check(): Promise<void> {
    const { mismatch } = await this.state();
    if (mismatch) throw mismatch;
  }
}
