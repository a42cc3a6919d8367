/**
 * The peer's side of the comparison: what a LangChain.js user builds for the same job, in a
 * child process of its own.
 *
 * - Rows: the documents live in a table of the user's own (`documents`, with the same document
 *   fields a dualstore Document has: owner, title, source, URL, MIME type, content, language,
 *   tags, metadata, timestamps), written with plain SQL on the same pg Pool the record manager
 *   uses, one statement per document (as an app writes documents when they arrive or change).
 * - Index: `index()` from @langchain/core/indexing with PostgresRecordManager (its own table in
 *   this runner's schema), cleanup "incremental", sourceIdKey "source", into PineconeStore with
 *   OpenAIEmbeddings. Documents are split with RecursiveCharacterTextSplitter, by characters
 *   (LangChain's default length function), at the size in RunnerConfig.splitter: by default
 *   1,000/100, which gives chunks the size dualstore's default chunker gives (see
 *   DEFAULT_LANGCHAIN_SPLITTER). index() runs with `batchSize` LANGCHAIN_INDEX_BATCH (50: its
 *   default of 100 breaks Pinecone's 2 MB request limit with dense vectors, see there); every
 *   other option is LangChain's default (OpenAIEmbeddings batchSize 512, PineconeStore upserts
 *   of one index batch).
 * - Re-index: the rows are read back (one SELECT), split, and passed to index() again.
 * - Delete, one document at a time: the row, then listKeys(groupIds: [source]) →
 *   PineconeStore.delete(ids) → deleteKeys (incremental cleanup never visits a source that
 *   is gone, so this is how its vectors are removed).
 * - Search: similaritySearch(query, 10) (chunk text from the Pinecone metadata), then the hits'
 *   document rows in one query, by the `source` metadata: every document field but the content,
 *   as dualstore's hits carry them.
 *
 * SQL is counted where dualstore's is: every statement node-postgres sends (sql-counter.ts).
 * The LangChain packages live in bench/peer/node_modules; they are loaded by name at run time
 * and described here by the slice of their API this file uses, so type-checking the project
 * does not need them installed.
 */
import type { Corpus, CorpusDocument } from "../corpus.js";
import { countPgQueries, type SqlCounter } from "../sql-counter.js";
import { LANGCHAIN_INDEX_BATCH, SEARCH_TOP_K, serve, since, timeQueries, type Runner, type RunnerConfig, type Scenario, type ScenarioOutcome } from "../protocol.js";

// ---- The slice of the peer's API in use ----------------------------------------------------
interface LcDocument {
  pageContent: string;
  metadata: Record<string, unknown>;
}
interface QueryResult<Row> {
  rows: Row[];
}
interface Pool {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<Row>>;
  end(): Promise<void>;
}
interface PgModule {
  default: { Pool: new (options: { connectionString: string; max: number }) => Pool; Client: { prototype: object } };
}
interface RecordManager {
  createSchema(): Promise<void>;
  listKeys(options: { groupIds?: string[] }): Promise<string[]>;
  deleteKeys(keys: string[]): Promise<void>;
}
interface RecordManagerModule {
  PostgresRecordManager: new (namespace: string, config: { pool: Pool; schema: string; tableName: string }) => RecordManager;
}
interface VectorStore {
  similaritySearch(query: string, k: number): Promise<LcDocument[]>;
  delete(params: { ids: string[] }): Promise<void>;
}
interface PineconeModule {
  PineconeStore: new (embeddings: unknown, args: { pineconeIndex: unknown }) => VectorStore;
}
interface PineconeClientModule {
  Pinecone: new (config: { apiKey: string; maxRetries?: number }) => { index(name: string, host: string): unknown };
}
interface OpenAIModule {
  OpenAIEmbeddings: new (fields: { apiKey: string; model: string; configuration: { baseURL: string } }) => unknown;
}
interface Splitter {
  createDocuments(texts: string[], metadatas: Array<Record<string, unknown>>): Promise<LcDocument[]>;
}
interface SplittersModule {
  RecursiveCharacterTextSplitter: new (options: { chunkSize: number; chunkOverlap: number }) => Splitter;
}
interface IndexingResult {
  numAdded: number;
  numDeleted: number;
  numUpdated: number;
  numSkipped: number;
}
interface IndexingModule {
  index(args: {
    docsSource: LcDocument[];
    recordManager: RecordManager;
    vectorStore: VectorStore;
    options: { cleanup: "incremental"; sourceIdKey: string; batchSize: number };
  }): Promise<IndexingResult>;
}

/** Loads a package from bench/peer/node_modules (resolved from this file's folder). */
const load = <T>(name: string): Promise<T> => import(name) as Promise<T>;

let corpus: Corpus;
let pool: Pool | undefined;
let sql: SqlCounter = { count: 0, ms: 0 };
let schema = "";
let recordManager: RecordManager;
let vectorStore: VectorStore;
let splitter: Splitter;
let indexing: IndexingModule;

function db(): Pool {
  if (!pool) throw new Error("LangChain runner: open first");
  return pool;
}

async function split(documents: Array<Pick<CorpusDocument, "key" | "title" | "content">>): Promise<LcDocument[]> {
  return splitter.createDocuments(
    documents.map((doc) => doc.content),
    documents.map((doc) => ({ source: doc.key, title: doc.title })),
  );
}

async function indexChunks(chunks: LcDocument[]): Promise<IndexingResult> {
  return indexing.index({
    docsSource: chunks,
    recordManager,
    vectorStore,
    options: { cleanup: "incremental", sourceIdKey: "source", batchSize: LANGCHAIN_INDEX_BATCH },
  });
}

function detailOf(result: IndexingResult): Record<string, number> {
  return { added: result.numAdded, updated: result.numUpdated, skipped: result.numSkipped, deleted: result.numDeleted };
}

const runner: Runner = {
  async open(config: RunnerConfig, loaded: Corpus) {
    corpus = loaded;
    schema = config.schema;
    const [pg, community, pinecone, client, openai, splitters, core] = await Promise.all([
      load<PgModule>("pg"),
      load<RecordManagerModule>("@langchain/community/indexes/postgres"),
      load<PineconeModule>("@langchain/pinecone"),
      load<PineconeClientModule>("@pinecone-database/pinecone"),
      load<OpenAIModule>("@langchain/openai"),
      load<SplittersModule>("@langchain/textsplitters"),
      load<IndexingModule>("@langchain/core/indexing"),
    ]);
    indexing = core;
    const opened = new pg.default.Pool({ connectionString: config.databaseUrl, max: 10 });
    await opened.query(`CREATE SCHEMA "${schema}"`);
    await opened.query(
      `CREATE TABLE "${schema}".documents (id text PRIMARY KEY, user_id text, title text NOT NULL, source text NOT NULL,
         source_url text, mime_type text, content text NOT NULL, language text, tags text[] NOT NULL DEFAULT '{}', metadata jsonb,
         created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    recordManager = new community.PostgresRecordManager("bench", { pool: opened, schema, tableName: "upsertion_records" });
    await recordManager.createSchema();
    // From here on every statement node-postgres sends is counted: the record manager's and this runner's.
    sql = countPgQueries(pg.default.Client);
    pool = opened;
    const embeddings = new openai.OpenAIEmbeddings({ apiKey: config.openai.apiKey, model: config.openai.model, configuration: { baseURL: config.openai.baseURL } });
    const pineconeIndex = new client.Pinecone({ apiKey: config.pinecone.apiKey }).index(config.pinecone.indexName, config.pinecone.host);
    vectorStore = new pinecone.PineconeStore(embeddings, { pineconeIndex });
    splitter = new splitters.RecursiveCharacterTextSplitter({ ...config.splitter });
  },

  async run(scenario: Scenario): Promise<ScenarioOutcome> {
    const started = performance.now();
    const table = `"${schema}".documents`;
    switch (scenario) {
      case "index": {
        const sqlBefore = sql.count;
        for (const doc of corpus.documents) {
          await db().query(`INSERT INTO ${table} (id, title, source, content) VALUES ($1, $2, 'system', $3)`, [doc.key, doc.title, doc.content]);
        }
        const rowsMs = since(started);
        const rowsSql = sql.count - sqlBefore;
        const chunks = await split(corpus.documents);
        const result = await indexChunks(chunks);
        return { detail: { rowsMs, rowsSql, indexMs: since(started) - rowsMs, documents: corpus.documents.length, chunks: chunks.length, ...detailOf(result) } };
      }
      case "reindex": {
        const { rows } = await db().query<{ id: string; title: string; content: string }>(`SELECT id, title, content FROM ${table} ORDER BY id`);
        const chunks = await split(rows.map((row) => ({ key: row.id, title: row.title, content: row.content })));
        const result = await indexChunks(chunks);
        return { detail: { documents: rows.length, chunks: chunks.length, ...detailOf(result) } };
      }
      case "edit": {
        const sqlBefore = sql.count;
        for (const edit of corpus.edits) await db().query(`UPDATE ${table} SET content = $2, updated_at = now() WHERE id = $1`, [edit.key, edit.content]);
        const rowsMs = since(started);
        const rowsSql = sql.count - sqlBefore;
        const titles = new Map(corpus.documents.map((doc) => [doc.key, doc.title]));
        const chunks = await split(corpus.edits.map((edit) => ({ key: edit.key, title: titles.get(edit.key)!, content: edit.content })));
        const result = await indexChunks(chunks);
        return { detail: { rowsMs, rowsSql, indexMs: since(started) - rowsMs, documents: corpus.edits.length, chunks: chunks.length, ...detailOf(result) } };
      }
      case "delete": {
        let vectors = 0;
        for (const key of corpus.deletes) {
          await db().query(`DELETE FROM ${table} WHERE id = $1`, [key]);
          const keys = await recordManager.listKeys({ groupIds: [key] });
          if (keys.length > 0) {
            await vectorStore.delete({ ids: keys });
            await recordManager.deleteKeys(keys);
          }
          vectors += keys.length;
        }
        return { detail: { documents: corpus.deletes.length, vectors } };
      }
      case "search": {
        const { hits, times } = await timeQueries(corpus.queries, async (query) => {
          const found = await vectorStore.similaritySearch(query, SEARCH_TOP_K);
          const sources = [...new Set(found.map((doc) => String(doc.metadata.source)))];
          const { rows } = await db().query(
            `SELECT id, user_id, title, source, source_url, mime_type, language, tags, metadata, created_at, updated_at FROM ${table} WHERE id = ANY($1)`,
            [sources],
          );
          const byId = new Map(rows.map((row) => [row.id, row]));
          return found.filter((doc) => byId.has(String(doc.metadata.source))).length;
        });
        return { detail: { queries: corpus.queries.length, hits }, queries: times };
      }
      case "hybrid":
        throw new Error("LangChain runner: hybrid search is a dualstore-only scenario");
    }
  },

  sql: () => ({ ...sql }),

  async close() {
    await pool?.end();
  },
};

serve(runner);
