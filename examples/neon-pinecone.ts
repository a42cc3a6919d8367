// The production setup: Neon (serverless PostgreSQL) for the rows, Pinecone for the vectors,
// OpenAI for the embeddings. Needs the real services:
//
//   NEON_DATABASE_URL=postgresql://...neon.tech/neondb?sslmode=require   (or DATABASE_URL)
//   PINECONE_API_KEY=...  PINECONE_INDEX=dualstore-example             (or PINECONE_HOST=...)
//   OPENAI_API_KEY=...
//   npm run example:production
//
// With PINECONE_INDEX, a missing index is created (serverless, in PINECONE_CLOUD/PINECONE_REGION,
// default aws/us-east-1). Without every variable it says which are missing and exits with code 0,
// so CI can run it without keys.
import { fileURLToPath } from "node:url";
import { createDualstore, ingestFiles } from "dualstore";

const env = process.env;
const databaseUrl = env.NEON_DATABASE_URL || env.DATABASE_URL;
const missing = [
  databaseUrl ? undefined : "NEON_DATABASE_URL (or DATABASE_URL)",
  env.PINECONE_API_KEY ? undefined : "PINECONE_API_KEY",
  env.PINECONE_INDEX || env.PINECONE_HOST ? undefined : "PINECONE_INDEX (or PINECONE_HOST)",
  env.OPENAI_API_KEY ? undefined : "OPENAI_API_KEY",
].filter((name) => name !== undefined);

if (missing.length > 0 || !databaseUrl) {
  console.log(`Missing environment variables: ${missing.join(", ")}.`);
  console.log("skipped");
  process.exit(0);
}

const ds = await createDualstore({
  // Neon hosts (*.neon.tech) get Neon's serverless driver; any other postgres:// URL, node-postgres.
  database: { url: databaseUrl },
  vectorStore: {
    provider: "pinecone",
    // Keys, index and host are read from PINECONE_API_KEY, PINECONE_INDEX and PINECONE_HOST.
    ...(env.PINECONE_INDEX
      ? { createIfMissing: { cloud: cloudOf(env.PINECONE_CLOUD), region: env.PINECONE_REGION || "us-east-1" } }
      : {}),
  },
  embedder: { provider: "openai", model: "text-embedding-3-small" },
});

try {
  const dataDir = fileURLToPath(new URL("./data/", import.meta.url));
  const result = await ingestFiles(ds, [dataDir], {
    tags: ["example"],
    onProgress: (progress) => {
      if (progress.phase === "index") console.log(`  indexed ${progress.done}/${progress.total} documents, ${progress.embedded} chunks embedded`);
    },
  });
  console.log(
    `${result.files} files: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged; ` +
      `${result.indexed} indexed (${result.embedded} chunks embedded) in ${result.elapsedMs} ms`,
  );

  for (const query of ["retry with exponential backoff", "watch a folder for changes"]) {
    const hits = await ds.search(query, { userId: null, topK: 3, minScore: 0.2 });
    console.log(`? ${query}`);
    for (const hit of hits) console.log(`  ${hit.score.toFixed(3)}  ${hit.document.title}  #${hit.chunk.index}`);
  }

  const health = await ds.health();
  for (const [name, part] of Object.entries({ database: health.database, vectorStore: health.vectorStore, embedder: health.embedder })) {
    if (part) console.log(`${name}: ${part.status} in ${part.latencyMs} ms (${part.target})`);
  }
} finally {
  await ds.close();
}

function cloudOf(value: string | undefined): "aws" | "gcp" | "azure" {
  return value === "gcp" || value === "azure" ? value : "aws";
}
