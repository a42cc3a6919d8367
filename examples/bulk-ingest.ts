// Bulk ingestion of a folder with ingestFiles: one document per text file, stored and indexed in
// batches with progress, then a second run to show that unchanged files cost nothing.
//
//   npm run example:bulk [-- folder]      (default: examples/data)
//
// Offline: the database is PGlite in a temporary directory (removed at the end) with pgvector,
// and the LocalEmbedder embeds. The `dualstore ingest` command is this, with a progress bar.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createDualstore, ingestFiles, type IngestProgress, type IngestResult } from "dualstore";

const folder = process.argv[2] ?? fileURLToPath(new URL("./data/", import.meta.url));
const databaseDir = await mkdtemp(join(tmpdir(), "dualstore-bulk-"));
const ds = await createDualstore({ database: { url: databaseDir } });

try {
  console.log(`Ingesting ${folder}`);
  const first = await ingestFiles(ds, [folder], { tags: ["bulk"], batchSize: 4, onProgress: printProgress });
  printSummary("first run", first);

  // Everything is stored and indexed now: the same call finds every file unchanged and
  // embeds nothing. After an interruption (`signal`), this is how a run resumes.
  const second = await ingestFiles(ds, [folder], { tags: ["bulk"], batchSize: 4 });
  printSummary("second run", second);

  const [hit] = await ds.search("documents in this folder", { userId: null, topK: 1, minScore: -1 });
  if (hit) console.log(`\nSearch works: top hit "${hit.document.title}" (${hit.document.sourceUrl})`);
} finally {
  await ds.close();
  await rm(databaseDir, { recursive: true, force: true });
}

function printProgress(progress: IngestProgress): void {
  if (progress.phase === "scan") {
    console.log(`  scan: ${progress.done} files found`);
    return;
  }
  const eta = progress.etaMs === undefined ? "?" : `${(progress.etaMs / 1_000).toFixed(1)} s`;
  const work = progress.phase === "index" ? `, ${progress.chunks} chunks, ${progress.embedded} embedded` : "";
  console.log(`  ${progress.phase}: ${progress.done}/${progress.total}${work}, ${progress.rate.toFixed(1)}/s, ETA ${eta}`);
}

function printSummary(label: string, result: IngestResult): void {
  console.log(
    `${label}: ${result.files} files, ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged, ` +
      `${result.skipped} skipped, ${result.failed} failed; ${result.indexed} indexed, ${result.chunks} chunks, ` +
      `${result.embedded} embedded in ${result.elapsedMs} ms`,
  );
  for (const issue of result.issues) console.log(`  ${issue.kind}: ${issue.path} (${issue.reason})`);
}
