/**
 * dualstore's side of the comparison, in a child process of its own. It uses the public API
 * only, as a user would: documents.create/update/delete for the rows, indexDocuments() for the
 * index (batches of 32 documents, the default), search() for queries (`mode: "vector"` beside
 * LangChain's vector search; the default hybrid mode as a scenario of its own). `sync.onWrite: "none"`
 * keeps writes from also enqueueing outbox jobs, since the benchmark indexes explicitly (the
 * LangChain side has no outbox either).
 */
import { createDualstore, type Dualstore } from "dualstore";
import pg from "pg";
import type { Corpus } from "./corpus.js";
import { countPgQueries } from "./sql-counter.js";
import { SEARCH_TOP_K, serve, since, timeQueries, type Runner, type RunnerConfig, type Scenario, type ScenarioOutcome } from "./protocol.js";

let ds: Dualstore | undefined;
let corpus: Corpus;
/** Every statement node-postgres sends (the driver @prisma/adapter-pg uses). */
const sql = countPgQueries(pg.Client);
/** dualstore's own count (database.onQuery), kept as a cross-check. */
let onQuery = 0;
/** Corpus key -> dualstore document id. */
const ids = new Map<string, string>();

function store(): Dualstore {
  if (!ds) throw new Error("dualstore runner: open first");
  return ds;
}

function idOf(key: string): string {
  const id = ids.get(key);
  if (id === undefined) throw new Error(`dualstore runner: no document for ${key}`);
  return id;
}

/** Indexes `documentIds` and insists that every one ended as expected. */
async function indexAll(documentIds: string[], expect: "indexed" | "unchanged") {
  const result = await store().indexDocuments(documentIds);
  const wrong = result.outcomes.filter((outcome) => outcome.status !== expect);
  if (wrong.length > 0) throw new Error(`dualstore: ${wrong.length} documents ended ${wrong[0]!.status}, expected ${expect}: ${wrong[0]!.error?.message ?? ""}`);
  return result;
}

const runner: Runner = {
  async open(config: RunnerConfig, loaded: Corpus) {
    corpus = loaded;
    ds = await createDualstore({
      database: {
        url: `${config.databaseUrl}?schema=${config.schema}`,
        onQuery: () => void onQuery++,
      },
      vectorStore: { provider: "pinecone", apiKey: config.pinecone.apiKey, host: config.pinecone.host },
      embedder: { provider: "openai", apiKey: config.openai.apiKey, baseURL: config.openai.baseURL, model: "text-embedding-3-small" },
      sync: { onWrite: "none" },
      env: {},
    });
  },

  async run(scenario: Scenario): Promise<ScenarioOutcome> {
    const before = onQuery;
    const outcome = await runScenario(scenario);
    return { ...outcome, detail: { ...outcome.detail, onQueryStatements: onQuery - before } };
  },

  sql: () => ({ ...sql }),

  async close() {
    await ds?.close();
  },
};

async function runScenario(scenario: Scenario): Promise<ScenarioOutcome> {
  const started = performance.now();
  switch (scenario) {
    case "index": {
      const sqlBefore = sql.count;
      for (const doc of corpus.documents) {
        const created = await store().documents.create({ userId: null, title: doc.title, source: "system", content: doc.content });
        ids.set(doc.key, created.id);
      }
      const rowsMs = since(started);
      const rowsSql = sql.count - sqlBefore;
      const result = await indexAll([...ids.values()], "indexed");
      return { detail: { rowsMs, rowsSql, indexMs: since(started) - rowsMs, documents: result.done, chunks: result.chunks, embedded: result.embedded } };
    }
    case "reindex": {
      const result = await indexAll([...ids.values()], "unchanged");
      return { detail: { documents: result.done, unchanged: result.unchanged, embedded: result.embedded } };
    }
    case "edit": {
      const sqlBefore = sql.count;
      for (const edit of corpus.edits) await store().documents.update(idOf(edit.key), { content: edit.content });
      const rowsMs = since(started);
      const rowsSql = sql.count - sqlBefore;
      const result = await indexAll(corpus.edits.map((edit) => idOf(edit.key)), "indexed");
      const removed = result.outcomes.reduce((sum, outcome) => sum + outcome.removed, 0);
      return { detail: { rowsMs, rowsSql, indexMs: since(started) - rowsMs, documents: result.done, chunks: result.chunks, embedded: result.embedded, removed } };
    }
    case "delete": {
      for (const key of corpus.deletes) {
        await store().documents.delete(idOf(key));
        ids.delete(key);
      }
      return { detail: { documents: corpus.deletes.length } };
    }
    case "search":
    case "hybrid": {
      // "search" is the like-for-like figure: a vector query, as LangChain's similaritySearch.
      const mode = scenario === "search" ? "vector" : "hybrid";
      const { hits, times } = await timeQueries(corpus.queries, async (query) => (await store().search(query, { userId: null, topK: SEARCH_TOP_K, mode })).length);
      return { detail: { queries: corpus.queries.length, hits }, queries: times };
    }
  }
}

serve(runner);
