import type { RecursiveChunkerOptions } from "../chunking/recursive-chunker.js";
import { Prisma, type PrismaClient } from "../db/prisma.js";
import type { EmbedderConfig } from "../embedders/create-embedder.js";
import { EmbedderMismatchError, IndexLayoutMismatchError } from "../errors.js";
import type { VectorStoreConfig } from "../vector-stores/create-vector-store.js";
import type { Namespacing } from "./indexer.js";

/**
 * What decides which vectors exist and where: the embedder that made them, the namespacing and
 * chunker that placed and cut them, the store that holds them. Recorded with the index (the
 * LIVE IndexGeneration row); a process whose layout differs must neither search nor sync.
 */
export interface IndexLayout {
  /** Embedder id (`provider:model:dimension`; the local embedder's model names its version). */
  readonly embedder: string;
  /** Options that build this embedder again, without keys; null for an app's own Embedder object. */
  readonly embedderConfig: EmbedderRecord | null;
  readonly dimension: number;
  readonly namespacing: Namespacing;
  /** Chunker id (algorithm, version, sizes, tokenizer). */
  readonly chunker: string;
  readonly chunkerConfig: ChunkerRecord | null;
  /** `<kind>:<target>`, e.g. `pgvector:default.vectors_384` or `pinecone:my-index/app1-`. */
  readonly store: string;
  readonly storeConfig: StoreRecord | null;
}

/** The recordable part of an embedder's configuration: provider, model and length, never a key or URL. */
export type EmbedderRecord = { provider: "local" | "openai" | "cohere" } & Record<string, string | number>;
export type ChunkerRecord = Pick<RecursiveChunkerOptions, "chunkSize" | "overlap">;
export type StoreRecord = { provider: "memory" | "pgvector" | "pinecone" | "lancedb" } & Record<string, string>;

/** The recorded generation, with its row id. */
export interface IndexGeneration extends IndexLayout {
  readonly id: number;
}

const EMBEDDER_KEYS = ["model", "dimension", "dimensions", "outputDimension"] as const;
const STORE_KEYS = { memory: [], pgvector: ["schema", "table"], pinecone: ["index", "host", "namespacePrefix"], lancedb: ["uri", "table", "region"] } as const;

/** The keyless part of a built-in embedder's configuration; null for an Embedder object. */
export function embedderRecord(config: EmbedderConfig): EmbedderRecord | null {
  if (!("provider" in config)) return null;
  const record: EmbedderRecord = { provider: config.provider };
  for (const key of EMBEDDER_KEYS) {
    const value = (config as unknown as Record<string, unknown>)[key];
    if (typeof value === "string" || typeof value === "number") record[key] = value;
  }
  return record;
}

/** The keyless part of a built-in store's configuration; null for a VectorStore object. */
export function storeRecord(config: VectorStoreConfig): StoreRecord | null {
  if (!("provider" in config) || !(config.provider in STORE_KEYS)) return null;
  const record: StoreRecord = { provider: config.provider };
  for (const key of STORE_KEYS[config.provider]) {
    const value = (config as unknown as Record<string, unknown>)[key];
    if (typeof value === "string") record[key] = value;
  }
  return record;
}

/**
 * The configuration that opens a recorded generation's store: the record says which place; this
 * process's own configuration of the same provider lends what a record leaves out (keys, hosts,
 * timeouts). With no record (an app's own VectorStore object), this process's own.
 */
export function storeConfigFor(record: StoreRecord | null, own: VectorStoreConfig | undefined): VectorStoreConfig | undefined {
  if (!record) return own;
  if (own === undefined || !("provider" in own) || own.provider !== record.provider) return record as VectorStoreConfig;
  const lent: Record<string, unknown> = { ...own };
  for (const key of STORE_KEYS[record.provider]) delete lent[key];
  // A Pinecone place recorded without an index was reached by host or PINECONE_INDEX: it exists,
  // and this process's createIfMissing (which needs an index named in the options) is not for it.
  if (record.provider === "pinecone" && record.index === undefined) delete lent.createIfMissing;
  return { ...lent, ...record } as VectorStoreConfig;
}

/**
 * Where a store keeps vectors, as a comparable string: the same string means the same place.
 * Pinecone's index is resolved from the environment as the store resolves it.
 */
export function storeTarget(name: string, record: StoreRecord | null, env: NodeJS.ProcessEnv): string {
  if (!record) return `${name}:custom`;
  switch (record.provider) {
    // Default tables are named by dimension: a new embedder's vectors go to a table of their own, in the same store.
    case "pgvector":
      return `pgvector:${record.schema ?? "default"}.${record.table ?? "vectors_<dimension>"}`;
    case "lancedb":
      return `lancedb:${record.uri}/${record.table ?? "vectors_<dimension>"}`;
    case "pinecone":
      return `pinecone:${record.index ?? env.PINECONE_INDEX ?? record.host ?? env.PINECONE_HOST ?? ""}/${record.namespacePrefix ?? ""}`;
    case "memory":
      return "memory:process";
  }
}

export function chunkerRecord(options: RecursiveChunkerOptions | undefined): ChunkerRecord | null {
  // A token counter is code: it cannot be recorded, so another process could not rebuild the chunker.
  if (options?.countTokens) return null;
  return { ...(options?.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }), ...(options?.overlap === undefined ? {} : { overlap: options.overlap }) };
}

/**
 * Differences between the recorded layout and this process's, as `<what>: recorded X, configured Y`.
 * `alsoStore` is another place this process may be configured with (the one a model change builds).
 */
export function layoutDifferences(recorded: IndexLayout, current: IndexLayout, alsoStore?: string): string[] {
  const differences: string[] = [];
  for (const key of ["namespacing", "chunker", "store"] as const) {
    if (key === "store" && current.store === alsoStore) continue;
    if (recorded[key] !== current[key]) differences.push(`${key}: recorded ${JSON.stringify(recorded[key])}, configured ${JSON.stringify(current[key])}`);
  }
  return differences;
}

/** The error a process gets when its layout is not the recorded one (null when it is). */
export function mismatchError(recorded: IndexLayout, current: IndexLayout, building?: IndexLayout | null): EmbedderMismatchError | IndexLayoutMismatchError | null {
  // A process configured with the model being built may serve the live one meanwhile, whether it
  // names the live place or the new one (another Pinecone index or prefix).
  const forBuilding = building?.embedder === current.embedder;
  if (recorded.embedder !== current.embedder && !forBuilding) return new EmbedderMismatchError(recorded.embedder, current.embedder);
  const differences = layoutDifferences(recorded, current, forBuilding ? building.store : undefined);
  return differences.length > 0 ? new IndexLayoutMismatchError(differences) : null;
}

interface GenerationRow {
  id: number;
  embedder: string;
  embedderConfig: unknown;
  dimension: number;
  namespacing: string;
  chunker: string;
  chunkerConfig: unknown;
  store: string;
  storeConfig: unknown;
}

/** The IndexGeneration table. */
export class GenerationTable {
  constructor(private readonly prisma: PrismaClient) {}

  /** The live generation and the one being built, in one query. */
  async current(): Promise<{ live: IndexGeneration | null; building: IndexGeneration | null }> {
    const rows = (await this.prisma.indexGeneration.findMany({ where: { state: { in: ["LIVE", "BUILDING"] } }, orderBy: { id: "desc" } })).map((row) => ({ state: row.state, generation: toGeneration(row) }));
    return { live: rows.find((row) => row.state === "LIVE")?.generation ?? null, building: rows.find((row) => row.state === "BUILDING")?.generation ?? null };
  }

  /** Records a generation (a model change's BUILDING one). */
  async create(layout: IndexLayout, state: "LIVE" | "BUILDING"): Promise<IndexGeneration> {
    return toGeneration(await this.prisma.indexGeneration.create({ data: { ...toData(layout), state } }));
  }

  /** The generation a model change is building, if one is under way. */
  async building(): Promise<IndexGeneration | null> {
    const row = await this.prisma.indexGeneration.findFirst({ where: { state: "BUILDING" }, orderBy: { id: "desc" } });
    return row ? toGeneration(row) : null;
  }

  async live(): Promise<IndexGeneration | null> {
    const row = await this.prisma.indexGeneration.findFirst({ where: { state: "LIVE" }, orderBy: { id: "desc" } });
    return row ? toGeneration(row) : null;
  }

  /**
   * Records `layout` as the live generation, unless one is recorded already and the index holds
   * vectors (then the recorded one stands and is returned). A record over an empty index is
   * replaced: no vector depends on it yet, and the first process to configure the index
   * explicitly (an app, after a worker started with defaults) decides.
   */
  async bind(layout: IndexLayout): Promise<IndexGeneration> {
    return this.prisma.$transaction(async (tx) => {
      // One binder at a time: two processes opening an empty index together agree on one record.
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${BIND_LOCK})`);
      const live = await tx.indexGeneration.findFirst({ where: { state: "LIVE" }, orderBy: { id: "desc" } });
      if (live) {
        const recorded = toGeneration(live);
        if (sameLayout(recorded, layout)) return recorded;
        const indexed = await tx.document.findFirst({ where: { chunkCount: { gt: 0 } }, select: { id: true } });
        const building = await tx.indexGeneration.findFirst({ where: { state: { not: "LIVE" } }, select: { id: true } });
        if (indexed || building) return recorded;
        return toGeneration(await tx.indexGeneration.update({ where: { id: live.id }, data: toData(layout) }));
      }
      return toGeneration(await tx.indexGeneration.create({ data: { ...toData(layout), state: "LIVE" } }));
    });
  }
}

/** Advisory lock key of IndexGeneration writes ("dsgen" in ASCII). */
const BIND_LOCK = 0x64_73_67_65_6e;

function sameLayout(a: IndexLayout, b: IndexLayout): boolean {
  return mismatchError(a, b) === null && JSON.stringify(a.embedderConfig) === JSON.stringify(b.embedderConfig) && JSON.stringify(a.storeConfig) === JSON.stringify(b.storeConfig);
}

function toData(layout: IndexLayout) {
  return {
    embedder: layout.embedder,
    embedderConfig: layout.embedderConfig ?? Prisma.DbNull,
    dimension: layout.dimension,
    namespacing: layout.namespacing,
    chunker: layout.chunker,
    chunkerConfig: layout.chunkerConfig ?? Prisma.DbNull,
    store: layout.store,
    storeConfig: layout.storeConfig ?? Prisma.DbNull,
  };
}

function toGeneration(row: GenerationRow): IndexGeneration {
  return {
    id: row.id,
    embedder: row.embedder,
    embedderConfig: (row.embedderConfig ?? null) as EmbedderRecord | null,
    dimension: row.dimension,
    namespacing: row.namespacing as Namespacing,
    chunker: row.chunker,
    chunkerConfig: (row.chunkerConfig ?? null) as ChunkerRecord | null,
    store: row.store,
    storeConfig: (row.storeConfig ?? null) as StoreRecord | null,
  };
}
