// ingestFiles' progress estimate follows bytes, not files: after nine small files of ten, with
// one large file left that holds most of the text, the time left is most of the work, not a
// ninth of what was spent.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDualstore, ingestFiles, type Dualstore, type IngestProgress } from "../../src/index.js";
import { tempDir } from "../helpers/paths.js";
import { article } from "../helpers/text.js";

describe("ingestFiles progress", () => {
  let ds: Dualstore;
  beforeAll(async () => {
    ds = await createDualstore({ database: { driver: "pglite" }, vectorStore: { provider: "memory" }, embedder: { provider: "local" }, env: {} });
  });
  afterAll(() => ds.close());

  it("estimates the time left from bytes: one large file left of ten is most of the work", async () => {
    const folder = tempDir();
    await Promise.all(Array.from({ length: 9 }, (_, i) => writeFile(join(folder, `a-small-${i}.md`), article(i, 2))));
    // Sorted last, and about 20 times the text of all nine small files together.
    await writeFile(join(folder, "z-large.md"), Array.from({ length: 40 }, (_, i) => article(100 + i, 6)).join("\n\n"));

    const index: IngestProgress[] = [];
    const result = await ingestFiles(ds, [folder], { batchSize: 1, onProgress: (progress) => progress.phase === "index" && index.push(progress) });
    expect(result.indexed).toBe(10);

    const first = index.find((progress) => progress.done === 1)!;
    const ninth = index.find((progress) => progress.done === 9)!;
    // Counting files, 1 left of 10 would be a ninth of the time spent so far; in bytes it is many times it.
    const spentOnEight = ninth.elapsedMs - first.elapsedMs;
    expect(ninth.etaMs).toBeGreaterThan(spentOnEight);
    expect(index.at(-1)!.etaMs).toBe(0);
  });
});
