import { ConfigurationError } from "../errors.js";
import { approximateTokens, type Chunk, type Chunker, type TokenCounter } from "./chunker.js";

export interface RecursiveChunkerOptions {
  /** Largest chunk in tokens, overlap included. Default 512 (ADR-002). */
  chunkSize?: number;
  /** Tokens at the end of one chunk repeated at the start of the next. Default 50 (ADR-002). */
  overlap?: number;
  /** Token counter. Default {@link approximateTokens}; pass a real tokenizer's count for exact sizes. */
  countTokens?: TokenCounter;
  /** Names `countTokens` in the chunker id. Default "approx". */
  tokenizerName?: string;
}

/** A stretch of the text with its token count: a block (paragraph, heading, code fence) or a piece of one. */
interface Unit {
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
  readonly heading: boolean;
}

/**
 * Splits text along its own structure: Markdown headings and fenced code blocks, then
 * paragraphs, then lines, sentences, words and, last, characters, so that no chunk breaks a
 * smaller unit when a larger one fits.
 *
 * Where a chunk ends is decided by the text around the cut, not by how much text came before
 * it: past half the size budget a chunk ends after a paragraph whose hash says so (content-
 * defined chunking, as in rsync or restic), before a heading, or when the next paragraph would
 * not fit. Editing one paragraph therefore changes that paragraph's chunk (and the overlap of
 * the next) while the chunks further on stay byte-identical, so a re-index embeds only what
 * changed. A greedy packer shifts every later boundary instead.
 */
export class RecursiveChunker implements Chunker {
  readonly id: string;
  private readonly chunkSize: number;
  private readonly overlap: number;
  private readonly countTokens: TokenCounter;

  constructor(options: RecursiveChunkerOptions = {}) {
    this.chunkSize = options.chunkSize ?? 512;
    this.overlap = options.overlap ?? 50;
    this.countTokens = options.countTokens ?? approximateTokens;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 16) {
      throw new ConfigurationError(`chunker.chunkSize: expected an integer of at least 16, got ${String(options.chunkSize)}`);
    }
    if (!Number.isInteger(this.overlap) || this.overlap < 0 || this.overlap > this.chunkSize / 2) {
      throw new ConfigurationError(`chunker.overlap: expected an integer from 0 to chunkSize/2, got ${String(options.overlap)}`);
    }
    this.id = `recursive-v1:${this.chunkSize}/${this.overlap}:${options.tokenizerName ?? "approx"}`;
  }

  chunk(text: string): Chunk[] {
    const bodyLimit = this.chunkSize - this.overlap;
    const units = blocks(text).flatMap((block) => this.fit(text, block, bodyLimit));
    return this.withOverlap(text, this.cut(text, units, bodyLimit));
  }

  /** Units no larger than `limit`, splitting a block at ever finer separators. */
  private fit(text: string, block: Omit<Unit, "tokens">, limit: number): Unit[] {
    const tokens = this.countTokens(text.slice(block.start, block.end));
    if (tokens <= limit) return [{ ...block, tokens }];
    return this.split(text, block.start, block.end, limit, 0).map((unit, i) => ({ ...unit, heading: block.heading && i === 0 }));
  }

  private split(text: string, start: number, end: number, limit: number, level: number): Unit[] {
    const separator = SEPARATORS[level];
    if (!separator) return hardSplit(text, start, end, limit, this.countTokens);
    const segments: Unit[] = [];
    for (const [s, e] of segmentsOf(text, start, end, separator)) {
      const tokens = this.countTokens(text.slice(s, e));
      if (tokens <= limit) segments.push({ start: s, end: e, tokens, heading: false });
      else segments.push(...this.split(text, s, e, limit, level + 1));
    }
    // Pack neighbouring segments back together up to the limit; token counts add up closely
    // enough across whitespace, and the final chunk is counted exactly.
    const packed: Unit[] = [];
    for (const segment of segments) {
      const last = packed.at(-1);
      if (last && last.tokens + segment.tokens <= limit) {
        packed[packed.length - 1] = { start: last.start, end: segment.end, tokens: last.tokens + segment.tokens, heading: false };
      } else {
        packed.push(segment);
      }
    }
    return packed;
  }

  /** Groups units into chunk bodies at content-defined cut points. */
  private cut(text: string, units: Unit[], limit: number): Unit[] {
    const minimum = Math.floor(limit / 2);
    const bodies: Unit[] = [];
    let current: Unit | undefined;
    for (const unit of units) {
      if (current && (current.tokens + unit.tokens > limit || (unit.heading && current.tokens >= minimum / 2))) {
        bodies.push(current);
        current = undefined;
      }
      current = current
        ? { start: current.start, end: unit.end, tokens: current.tokens + unit.tokens, heading: current.heading }
        : unit;
      if (current.tokens >= minimum && fnv1a(text.slice(unit.start, unit.end)) % 3 === 0) {
        bodies.push(current);
        current = undefined;
      }
    }
    if (current) bodies.push(current);
    return bodies;
  }

  /** Starts each chunk after the first with the last `overlap` tokens of the previous body, from a word (or sentence) start. */
  private withOverlap(text: string, bodies: Unit[]): Chunk[] {
    return bodies.map((body, index) => {
      const previous = bodies[index - 1];
      const start = previous && this.overlap > 0 ? this.overlapStart(text, previous) : body.start;
      const chunkText = text.slice(start, body.end);
      return { index, text: chunkText, start, end: body.end, tokenCount: this.countTokens(chunkText) };
    });
  }

  private overlapStart(text: string, previous: Unit): number {
    const words = [...text.slice(previous.start, previous.end).matchAll(/\S+/g)];
    let budget = this.overlap;
    let first = previous.end;
    let sentenceStart: number | undefined;
    for (let i = words.length - 1; i >= 0; i--) {
      const word = words[i]!;
      budget -= this.countTokens(word[0]);
      if (budget < 0) break;
      first = previous.start + word.index;
      if (i === 0 || /[.!?:;]["')\]]*$/.test(words[i - 1]![0])) sentenceStart = first;
    }
    return sentenceStart ?? first;
  }
}

/** Finer and finer places to split an oversized block: lines, sentences, words. Characters come last. */
const SEPARATORS: readonly RegExp[] = [/\n+/g, /(?<=[.!?。！？])\s+/g, /\s+/g];

/** [start, end) ranges of `text[start, end)` between separator matches, whitespace trimmed. */
function segmentsOf(text: string, start: number, end: number, separator: RegExp): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const slice = text.slice(start, end);
  let from = 0;
  for (const match of slice.matchAll(separator)) {
    if (match.index > from) ranges.push([start + from, start + match.index]);
    from = match.index + match[0].length;
  }
  if (from < slice.length) ranges.push([start + from, end]);
  return ranges.map(([s, e]) => trimRange(text, s, e)).filter(([s, e]) => e > s);
}

/** Last resort for a word longer than a chunk: cut by characters, never inside a surrogate pair. */
function hardSplit(text: string, start: number, end: number, limit: number, countTokens: TokenCounter): Unit[] {
  const units: Unit[] = [];
  let from = start;
  while (from < end) {
    let to = Math.min(end, from + Math.max(1, limit * 4));
    while (to > from + 1 && countTokens(text.slice(from, to)) > limit) to = from + Math.max(1, Math.floor((to - from) * 0.8));
    if (to < end && isLowSurrogate(text.charCodeAt(to))) to = to > from + 1 ? to - 1 : to + 1;
    units.push({ start: from, end: to, tokens: countTokens(text.slice(from, to)), heading: false });
    from = to;
  }
  return units;
}

/**
 * Paragraph-level blocks: runs of non-blank lines. A Markdown heading starts a block of its own
 * (it belongs with what follows, so chunks prefer to start there), and a fenced code block stays
 * one block, blank lines included.
 */
function blocks(text: string): Array<Omit<Unit, "tokens">> {
  const found: Array<Omit<Unit, "tokens">> = [];
  let blockStart = -1;
  let blockEnd = -1;
  let heading = false;
  let fence: string | undefined;
  const flush = () => {
    if (blockStart >= 0) {
      const [s, e] = trimRange(text, blockStart, blockEnd);
      if (e > s) found.push({ start: s, end: e, heading });
    }
    blockStart = -1;
    heading = false;
  };
  let lineStart = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    const fenceMark = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      blockEnd = lineEnd;
      if (fenceMark && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
    } else if (fenceMark) {
      flush();
      fence = fenceMark;
      blockStart = lineStart;
      blockEnd = lineEnd;
    } else if (line.trim() === "") {
      flush();
    } else if (/^\s{0,3}#{1,6}(\s|$)/.test(line)) {
      flush();
      blockStart = lineStart;
      blockEnd = lineEnd;
      heading = true;
    } else {
      if (blockStart < 0) blockStart = lineStart;
      blockEnd = lineEnd;
    }
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  flush();
  return found;
}

function trimRange(text: string, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s < e && /\s/.test(text[s]!)) s++;
  while (e > s && /\s/.test(text[e - 1]!)) e--;
  return [s, e];
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** 32-bit FNV-1a over UTF-16 code units: a cheap, stable hash for cut decisions. */
function fnv1a(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
