/** One piece of a document's text, as it will be embedded. `text === content.slice(start, end)`. */
export interface Chunk {
  /** Position in the document, from 0. */
  readonly index: number;
  readonly text: string;
  /** Offsets in the document content, in UTF-16 code units. */
  readonly start: number;
  readonly end: number;
  /** Size in tokens, as the chunker's token counter measures it. */
  readonly tokenCount: number;
}

/** Splits text into ordered chunks. Deterministic: the same text always gives the same chunks. */
export interface Chunker {
  /** Names the algorithm and its settings; a change re-chunks (and re-indexes) every document. */
  readonly id: string;
  chunk(text: string): Chunk[];
}

/** Counts tokens in a text. Exact for a given model's tokenizer, or an approximation. */
export type TokenCounter = (text: string) => number;

/**
 * The default token estimate, without a tokenizer: each run of letters or digits counts one
 * token per started four characters (BPE vocabularies hold most short words whole and split
 * long ones), each other visible character (punctuation, CJK ideographs, emoji) counts one.
 * On English prose it lands within about 15% of OpenAI's cl100k counts.
 */
export const approximateTokens: TokenCounter = (text) => {
  let tokens = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)) {
    const piece = match[0];
    tokens += /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(piece)
      ? piece.length
      : Math.max(1, Math.ceil(piece.length / 4));
  }
  return tokens;
};
