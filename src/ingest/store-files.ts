import { basename, extname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Dualstore } from "../client.js";
import { prismaOf } from "../db/prisma.js";
import { contentHash } from "../repository/documents.js";
import type { FoundFile } from "./file-scan.js";
import { mimeTypeOf, readTextFile } from "./file-types.js";
import type { IngestIssue } from "./ingest-files.js";

/** Document.sourceUrl's limit in the documents repository. */
const MAX_SOURCE_URL_LENGTH = 2_000;

export interface StoreSettings {
  readonly owner: string | null;
  /** Tags to set; undefined leaves existing documents' tags alone (new ones get none). */
  readonly tags: readonly string[] | undefined;
  /** "none" when the caller indexes right after; "enqueue" to leave it to the outbox. */
  readonly sync: "none" | "enqueue";
  readonly maxFileBytes: number;
}

/** What storing one batch of files did. */
export interface StoredBatch {
  /** The document of every file stored or found unchanged, in file order. */
  readonly documents: Array<{ readonly id: string; readonly path: string; readonly url: string }>;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Ids of the documents created or updated. */
  readonly changed: string[];
  /** Unchanged documents that are not indexed (an earlier run stopped before indexing them). */
  readonly notIndexed: string[];
  readonly issues: IngestIssue[];
}

type Candidate =
  | { readonly kind: "text"; readonly path: string; readonly url: string; readonly title: string; readonly mimeType: string; readonly content: string; readonly hash: string }
  | IngestIssue;

/**
 * Reads a batch of files and brings their documents up to date: one query finds the existing
 * documents of the batch, one transaction creates the new ones (in one statement) and updates the
 * changed ones.
 * A document is unchanged when its content hash, title, MIME type and (when given) tags match.
 */
export async function storeBatch(ds: Dualstore, files: readonly FoundFile[], settings: StoreSettings): Promise<StoredBatch> {
  const candidates = await Promise.all(files.map((file) => readCandidate(file, settings.maxFileBytes)));
  const texts = candidates.filter((candidate) => candidate.kind === "text");
  const batch = {
    documents: [] as StoredBatch["documents"],
    created: 0,
    updated: 0,
    unchanged: 0,
    changed: [] as string[],
    notIndexed: [] as string[],
    issues: candidates.filter((candidate) => candidate.kind !== "text"),
  };
  const existing = await findDocuments(ds, settings.owner, texts.map((file) => file.url));
  await ds.transaction(async (tx) => {
    const fresh = texts.filter((file) => !existing.has(file.url));
    if (fresh.length > 0) {
      const created = await tx.documents.createMany(
        fresh.map((file) => ({
          userId: settings.owner,
          title: file.title,
          source: "upload" as const,
          sourceUrl: file.url,
          mimeType: file.mimeType,
          content: file.content,
          tags: [...(settings.tags ?? [])],
        })),
        { sync: settings.sync },
      );
      created.forEach((document, i) => batch.documents.push({ id: document.id, path: fresh[i]!.path, url: fresh[i]!.url }));
      batch.changed.push(...created.map((document) => document.id));
      batch.created += created.length;
    }
    for (const file of texts) {
      const current = existing.get(file.url);
      if (!current) continue;
      batch.documents.push({ id: current.id, path: file.path, url: file.url });
      const sameTags = settings.tags === undefined || sameList(settings.tags, current.tags);
      if (current.contentHash === file.hash && current.title === file.title && current.mimeType === file.mimeType && sameTags) {
        batch.unchanged++;
        if (current.indexStatus !== "INDEXED") batch.notIndexed.push(current.id);
        continue;
      }
      await tx.documents.update(
        current.id,
        {
          title: file.title,
          mimeType: file.mimeType,
          ...(current.contentHash === file.hash ? {} : { content: file.content }),
          ...(settings.tags === undefined ? {} : { tags: [...settings.tags] }),
        },
        { sync: settings.sync },
      );
      batch.updated++;
      batch.changed.push(current.id);
    }
  });
  return batch;
}

async function readCandidate(file: FoundFile, maxFileBytes: number): Promise<Candidate> {
  const skip = (reason: string): IngestIssue => ({ kind: "skipped", path: file.path, reason });
  const mimeType = mimeTypeOf(file.path);
  if (mimeType === undefined) return skip(`unsupported file type (${extname(file.path) || "no extension"})`);
  if (file.size > maxFileBytes) return skip(`larger than ${maxFileBytes} bytes`);
  const url = pathToFileURL(file.path).href;
  if (url.length > MAX_SOURCE_URL_LENGTH) return skip(`path longer than ${MAX_SOURCE_URL_LENGTH} characters as a URL`);
  try {
    const text = await readTextFile(file.path);
    if (text.kind === "skipped") return skip(text.reason);
    return { kind: "text", path: file.path, url, title: basename(file.path), mimeType, content: text.content, hash: contentHash(text.content)! };
  } catch (error) {
    return { kind: "failed", path: file.path, reason: error instanceof Error ? error.message : String(error) };
  }
}

interface StoredDocument {
  readonly id: string;
  readonly contentHash: string | null;
  readonly title: string;
  readonly mimeType: string | null;
  readonly tags: string[];
  readonly indexStatus: string;
}

/** The owner's uploaded documents for these file URLs, in one query (the oldest, should a path have two). */
async function findDocuments(ds: Dualstore, owner: string | null, urls: readonly string[]): Promise<Map<string, StoredDocument>> {
  if (urls.length === 0) return new Map();
  const rows = await prismaOf(ds).document.findMany({
    where: { source: "upload", userId: owner, sourceUrl: { in: [...urls] } },
    select: { id: true, sourceUrl: true, contentHash: true, title: true, mimeType: true, tags: true, indexStatus: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const byUrl = new Map<string, StoredDocument>();
  for (const row of rows) if (row.sourceUrl !== null && !byUrl.has(row.sourceUrl)) byUrl.set(row.sourceUrl, row);
  return byUrl;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
