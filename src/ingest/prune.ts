import { stat } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Dualstore } from "../client.js";
import { prismaOf } from "../db/prisma.js";
import { coveredBy, targetRoot, type ScanTarget } from "./file-scan.js";

const PAGE_SIZE = 500;

/**
 * Deletes the owner's uploaded documents under the scanned targets whose file is gone. A
 * document is a candidate only when this scan did not see its file, and is deleted only when
 * the file really does not exist: a file the scan skipped (now binary, too large) keeps its
 * document. Returns how many were deleted; stops early when `signal` aborts.
 */
export async function pruneMissingFiles(
  ds: Dualstore,
  scope: { readonly owner: string | null; readonly targets: readonly ScanTarget[]; readonly seen: ReadonlySet<string> },
  sync: "now" | "enqueue",
  signal: AbortSignal | undefined,
): Promise<number> {
  let pruned = 0;
  const checked = new Set<string>();
  for (const target of scope.targets) {
    const root = pathToFileURL(targetRoot(target)).href;
    let after: string | undefined;
    for (;;) {
      if (signal?.aborted) return pruned;
      const page = await prismaOf(ds).document.findMany({
        where: {
          source: "upload",
          userId: scope.owner,
          sourceUrl: target.kind === "file" ? root : { startsWith: root.endsWith("/") ? root : `${root}/` },
          ...(after === undefined ? {} : { id: { gt: after } }),
        },
        select: { id: true, sourceUrl: true },
        orderBy: { id: "asc" },
        take: PAGE_SIZE,
      });
      if (page.length === 0) break;
      after = page.at(-1)!.id;
      for (const document of page) {
        const url = document.sourceUrl!;
        if (scope.seen.has(url) || checked.has(document.id)) continue;
        checked.add(document.id);
        const path = fileURLToPath(url);
        if (!coveredBy(target, path) || (await exists(path))) continue;
        await ds.documents.delete(document.id, { sync });
        pruned++;
      }
    }
  }
  return pruned;
}

/** Whether the path exists; an error other than "no such file" counts as existing, so nothing is deleted on doubt. */
async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== "ENOENT" && code !== "ENOTDIR";
  }
}
