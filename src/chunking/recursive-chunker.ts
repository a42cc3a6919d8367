import { ConfigurationError } from "../errors.js";
import { approximateTokens, approximateTokensIn, type Chunk, type Chunker, type TokenCounter } from "./chunker.js";

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
  /** Tokens in `text.slice(start, end)`; the default counter needs no slice. */
  private readonly count: (text: string, start: number, end: number) => number;

  constructor(options: RecursiveChunkerOptions = {}) {
    this.chunkSize = options.chunkSize ?? 512;
    this.overlap = options.overlap ?? 50;
    this.countTokens = options.countTokens ?? approximateTokens;
    const countTokens = this.countTokens;
    this.count = countTokens === approximateTokens ? approximateTokensIn : (text, start, end) => countTokens(text.slice(start, end));
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
    const tokens = this.count(text, block.start, block.end);
    if (tokens <= limit) return [{ ...block, tokens }];
    return this.split(text, block.start, block.end, limit, 0).map((unit, i) => ({ ...unit, heading: block.heading && i === 0 }));
  }

  private split(text: string, start: number, end: number, limit: number, level: number): Unit[] {
    const separator = SEPARATORS[level];
    if (!separator) return hardSplit(text, start, end, limit, this.countTokens);
    const segments: Unit[] = [];
    for (const [s, e] of segmentsOf(text, start, end, separator)) {
      const tokens = this.count(text, s, e);
      if (tokens <= limit) segments.push({ start: s, end: e, tokens, heading: false });
      else segments.push(...this.split(text, s, e, limit, level + 1));
    }
    // Pack neighbouring segments back together up to the limit: token counts add up across
    // whitespace (exactly for the default count, closely enough for a tokenizer's).
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
      if (current.tokens >= minimum && fnv1a(text, unit.start, unit.end) % 3 === 0) {
        bodies.push(current);
        current = undefined;
      }
    }
    if (current) bodies.push(current);
    return bodies;
  }

  /**
   * Starts each chunk after the first with the last `overlap` tokens of the previous body, from
   * a word (or sentence) start. A chunk's token count is its overlap's plus its body's, both
   * already counted: counts add up across the whitespace between them.
   */
  private withOverlap(text: string, bodies: Unit[]): Chunk[] {
    return bodies.map((body, index) => {
      const previous = bodies[index - 1];
      const overlap = previous && this.overlap > 0 ? this.overlapStart(text, previous) : { start: body.start, tokens: 0 };
      return { index, text: text.slice(overlap.start, body.end), start: overlap.start, end: body.end, tokenCount: overlap.tokens + body.tokens };
    });
  }

  /**
   * Where the overlap taken from the end of `previous` starts, and its tokens: the earliest
   * sentence start among the last words that fit in `overlap` tokens, else the earliest such
   * word. Walks back from the body's end, a word at a time, so only the overlap is looked at.
   */
  private overlapStart(text: string, previous: Unit): { start: number; tokens: number } {
    let budget = this.overlap;
    let first = { start: previous.end, tokens: 0 };
    let sentence: { start: number; tokens: number } | undefined;
    // Bodies are trimmed: they start and end with a non-space character.
    for (let end = previous.end; end > previous.start; ) {
      let start = end;
      while (start > previous.start && !isSpace(text.charCodeAt(start - 1))) start--;
      budget -= this.count(text, start, end);
      if (budget < 0) break;
      first = { start, tokens: this.overlap - budget };
      if (start === previous.start || endsSentence(text, previous.start, start)) sentence = first;
      end = start;
      while (end > previous.start && isSpace(text.charCodeAt(end - 1))) end--;
    }
    return sentence ?? first;
  }
}

/** Whether the word before the whitespace that precedes `wordStart` ends a sentence: `.!?:;`, then any closing `"')]`. */
function endsSentence(text: string, from: number, wordStart: number): boolean {
  let at = wordStart;
  while (at > from && isSpace(text.charCodeAt(at - 1))) at--;
  while (at > from && CLOSERS.has(text.charCodeAt(at - 1))) at--;
  return at > from && SENTENCE_ENDS.has(text.charCodeAt(at - 1));
}

const SENTENCE_ENDS = new Set([...".!?:;"].map((char) => char.charCodeAt(0)));
const CLOSERS = new Set([..."\"')]"].map((char) => char.charCodeAt(0)));

/** JavaScript's `\s`: the WhiteSpace and LineTerminator characters. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
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

/** 32-bit FNV-1a over the UTF-16 code units of `text.slice(start, end)`: a cheap, stable hash for cut decisions. */
function fnv1a(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
