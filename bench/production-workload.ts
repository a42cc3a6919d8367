/**
 * The production scenario's documents: `owners` tenants with a realistic skew. One large tenant
 * brings a bulk import (40% of the documents); the others share the rest by a Zipf law (a few
 * mid-sized tenants, a long tail of small ones, each with at least 20 documents).
 *
 * Documents are pieces of the bench corpus's real text (corpus.ts: READMEs, Markdown, Debian
 * docs, man pages), cut at paragraph breaks to lengths drawn from a log-normal law (median
 * ~1,500 characters, 300 to 12,000): notes, tickets and pages, not whole manuals. Everything is
 * seeded, so a size is the same documents on every run on a machine, and a smaller size is the
 * same mix of tenants scaled down.
 */
import type { CorpusClass } from "./corpus.js";
import { editParagraph } from "./corpus.js";
import { seededRandom } from "./stats.js";

export interface WorkloadDocument {
  readonly title: string;
  readonly content: string;
}

export interface Tenant {
  /** The owner's userId. */
  readonly id: string;
  readonly documents: WorkloadDocument[];
}

export interface Workload {
  /** The large tenant, whose documents arrive as one bulk import. */
  readonly bulk: Tenant;
  /** The other tenants, largest first. */
  readonly small: Tenant[];
  readonly characters: number;
}

/** The large tenant's share of all documents. */
const BULK_SHARE = 0.4;
const MIN_SMALL_TENANT = 20;
const MEDIAN_CHARS = 1_500;
const MIN_CHARS = 300;
const MAX_CHARS = 12_000;

/** Tenant sizes: the bulk tenant's, then the small tenants' by Zipf (exponent 1), summing to `total`. */
export function tenantSizes(total: number, owners: number): number[] {
  const bulk = Math.round(total * BULK_SHARE);
  const rest = total - bulk;
  const others = owners - 1;
  const floor = Math.min(MIN_SMALL_TENANT, Math.floor(rest / others));
  const spare = rest - floor * others;
  const weights = Array.from({ length: others }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => floor + Math.floor((spare * w) / sum));
  // Rounding leftovers go to the largest small tenant.
  sizes[0]! += rest - sizes.reduce((a, b) => a + b, 0);
  return [bulk, ...sizes];
}

/** Pieces of `text` at paragraph breaks, each about `next()` characters long. */
function piecesOf(text: string, next: () => number): string[] {
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.trim().length > 0);
  const pieces: string[] = [];
  let current: string[] = [];
  let length = 0;
  let target = next();
  for (const paragraph of paragraphs) {
    current.push(paragraph);
    length += paragraph.length + 2;
    if (length >= target) {
      pieces.push(current.join("\n\n").slice(0, MAX_CHARS));
      current = [];
      length = 0;
      target = next();
    }
  }
  if (length >= MIN_CHARS) pieces.push(current.join("\n\n").slice(0, MAX_CHARS));
  return pieces.filter((piece) => piece.length >= MIN_CHARS);
}

export function buildWorkload(candidates: Map<CorpusClass, ReadonlyArray<{ title: string; content: string }>>, total: number, owners: number): Workload {
  const random = seededRandom(16);
  // Log-normal lengths: exp(N(ln median, 0.8)), by Box-Muller.
  const length = () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.min(MAX_CHARS, Math.max(MIN_CHARS, Math.round(MEDIAN_CHARS * Math.exp(0.8 * normal))));
  };
  const documents: WorkloadDocument[] = [];
  outer: for (const list of candidates.values()) {
    for (const candidate of list) {
      const pieces = piecesOf(candidate.content, length);
      for (const [i, content] of pieces.entries()) {
        documents.push({ title: pieces.length > 1 ? `${candidate.title} (${i + 1}/${pieces.length})` : candidate.title, content });
        if (documents.length >= total) break outer;
      }
    }
  }
  if (documents.length < total) throw new Error(`the corpus on this machine makes ${documents.length} documents; asked for ${total}`);
  // Shuffled (seeded), so no tenant holds one source's pages only.
  for (let i = documents.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [documents[i], documents[j]] = [documents[j]!, documents[i]!];
  }
  const sizes = tenantSizes(total, owners);
  let from = 0;
  const tenants = sizes.map((size, i): Tenant => {
    const tenant = { id: `tenant-${String(i).padStart(2, "0")}`, documents: documents.slice(from, from + size) };
    from += size;
    return tenant;
  });
  const [bulk, ...small] = tenants;
  return { bulk: bulk!, small, characters: documents.reduce((sum, doc) => sum + doc.content.length, 0) };
}

/** The small tenants' documents in arrival order: owners interleaved, as their users write. */
export function interleaved(tenants: readonly Tenant[]): Array<{ userId: string; document: WorkloadDocument }> {
  const queue: Array<{ userId: string; document: WorkloadDocument }> = [];
  const longest = Math.max(...tenants.map((tenant) => tenant.documents.length));
  for (let i = 0; i < longest; i++) {
    for (const tenant of tenants) {
      const document = tenant.documents[i];
      if (document) queue.push({ userId: tenant.id, document });
    }
  }
  return queue;
}

/** The probe: one paragraph of a small tenant's document revised. */
export function probeEdit(content: string, revision: number): string {
  return editParagraph(content, revision);
}
