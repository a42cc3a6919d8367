// The offline quickstart: no service, no key. PGlite (PostgreSQL in this process, with pgvector)
// holds the rows and the vectors; the LocalEmbedder (lexical, no model download) embeds.
//
//   npm run quickstart
//
// It creates a user, ingests the Markdown files in examples/data, indexes them through the
// sync outbox, and runs a few searches.
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDualstore } from "dualstore";

const dataDir = fileURLToPath(new URL("./data/", import.meta.url));
const ds = await createDualstore({ database: { driver: "pglite" } });

try {
  const user = await ds.users.create({ email: "reader@example.com", name: "Reader" });

  const files = (await readdir(dataDir)).filter((file) => file.endsWith(".md") && file !== "SOURCES.md").sort();
  for (const file of files) {
    const content = await readFile(join(dataDir, file), "utf8");
    // Each write also enqueues the document's index job, in the same transaction.
    await ds.documents.create({
      userId: user.id,
      title: basename(file, ".md"),
      source: "upload",
      mimeType: "text/markdown",
      content,
      tags: ["readme"],
      language: "en",
    });
  }

  const started = performance.now();
  const sync = await ds.sync.drain();
  const { items } = await ds.documents.list({ limit: 100 });
  const chunks = items.reduce((sum, document) => sum + document.chunkCount, 0);
  console.log(
    `Indexed ${sync.done} documents into ${chunks} chunks in ${Math.round(performance.now() - started)} ms ` +
      `(embedder: ${ds.embedder!.id}, vector store: ${ds.vectorStore!.name}).\n`,
  );

  const questions = [
    "retry a failed promise with exponential backoff",
    "websocket server that broadcasts to every client",
    "connection pool for postgres queries",
    "watch a directory for file changes",
    "parse command line flags and options",
  ];
  for (const question of questions) {
    const hits = await ds.search(question, { userId: user.id, topK: 3, minScore: 0.05 });
    console.log(`? ${question}`);
    for (const hit of hits) {
      const excerpt = hit.chunk.text.replace(/\s+/g, " ").slice(0, 90);
      console.log(`  ${hit.score.toFixed(3)}  ${hit.document.title.padEnd(13)} #${hit.chunk.index}  ${excerpt}…`);
    }
    if (hits.length === 0) console.log("  (no hit above the score threshold)");
  }

  const health = await ds.health();
  console.log(`\nhealth: ${health.status} (database ${health.database.latencyMs} ms, vector store ${health.vectorStore?.latencyMs} ms)`);
} finally {
  await ds.close();
}
