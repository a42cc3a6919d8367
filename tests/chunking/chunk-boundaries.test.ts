// Chunk boundaries decide vector ids: a chunker whose cuts move re-embeds every existing index.
// These tests pin the boundaries of "recursive-v1" on varied text, and the approximate token
// count the chunker sizes by, so that faster implementations provably cut where the first did.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { approximateTokens, approximateTokensIn } from "../../src/chunking/chunker.js";
import { RecursiveChunker } from "../../src/chunking/recursive-chunker.js";
import { paragraph, seededRandom, sentence } from "../helpers/text.js";

/** The approximate count as first written (one regex pass), the oracle for faster versions. */
function referenceApproximateTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]+/gu)) {
    const piece = match[0];
    if (/^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(piece)) tokens += piece.length;
    else tokens += Math.max(1, Math.ceil(piece.length / (/^[\p{L}\p{N}_]/u.test(piece) ? 6 : 2)));
  }
  return tokens;
}

const ODD = ["数据库的复制", "ひらがなカタカナ", "한국어 문장", "⺀⺁ radicals", "😀🎉 emoji", "naïve café", "x\u00a0y\u3000z", "a\u2028b", "\ud800 lone", "“quoted.” (aside!) [ref]:", "--- | --- |", "1234567890123", "snake_case_identifier", "\t\ttabbed"];

/** A seeded document of everything the chunker treats differently: headings, fences, lists, tables, long paragraphs and lines, words longer than a chunk, scripts without spaces. */
function varied(seed: number): string {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const blocks: string[] = [];
  for (let i = 0; i < 120; i++) {
    const kind = random();
    if (kind < 0.08) blocks.push(`${"#".repeat(1 + Math.floor(random() * 3))} ${sentence(random, 4)}`);
    else if (kind < 0.14) blocks.push(["```js", ...Array.from({ length: 3 + Math.floor(random() * 30) }, () => (random() < 0.15 ? "" : `  const x = ${sentence(random, 5)}`)), "```"].join("\n"));
    else if (kind < 0.2) blocks.push(Array.from({ length: 2 + Math.floor(random() * 8) }, () => `- ${sentence(random, 6)}`).join("\n"));
    else if (kind < 0.24) blocks.push(Array.from({ length: 4 }, () => `| ${sentence(random, 3)} | ${pick(ODD)} |`).join("\n"));
    else if (kind < 0.3) blocks.push(Array.from({ length: 40 + Math.floor(random() * 60) }, () => paragraph(random, 1)).join(random() < 0.5 ? " " : "\n"));
    else if (kind < 0.33) blocks.push(`${sentence(random, 3)} ${"ab".repeat(1_000 + Math.floor(random() * 2_000))} ${sentence(random, 3)}`);
    else if (kind < 0.36) blocks.push("龘字".repeat(300 + Math.floor(random() * 600)));
    else if (kind < 0.5) blocks.push(`${paragraph(random)} ${pick(ODD)} ${sentence(random)}"${pick(["", ")", "]"])} ${paragraph(random)}`);
    else blocks.push(paragraph(random));
  }
  return blocks.join(random() < 0.7 ? "\n\n" : "\n\n\n");
}

function boundaries(chunker: RecursiveChunker, texts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const text of texts) for (const chunk of chunker.chunk(text)) hash.update(`${chunk.start}:${chunk.end};`);
  return hash.digest("hex").slice(0, 16);
}

describe("recursive-v1 chunk boundaries", () => {
  const texts = [1, 2, 3, 4, 5, 6].map(varied);

  it("stay where the first implementation cut, with the defaults and with other sizes", () => {
    expect(boundaries(new RecursiveChunker(), texts)).toBe("83ab65d3e2fae5fd");
    expect(boundaries(new RecursiveChunker({ chunkSize: 128, overlap: 20 }), texts)).toBe("3fe498517ad89921");
    expect(boundaries(new RecursiveChunker({ chunkSize: 1_000, overlap: 0 }), texts)).toBe("4b97985032cb97ca");
  });

  it("come with each chunk's approximate token count, as counting its text again gives", () => {
    for (const text of texts) {
      for (const chunk of new RecursiveChunker().chunk(text)) {
        // A word longer than a chunk is cut by characters, and each piece counts its own tokens.
        if (!/\S{200}/.test(chunk.text)) expect(chunk.tokenCount).toBe(approximateTokens(chunk.text));
      }
    }
  });
});

describe("approximateTokens", () => {
  it("counts as the one-regex definition does, on every kind of character", () => {
    const random = seededRandom(42);
    const alphabet = [..."aZ9_ .,;!?-\n\t()[]\"'#|`~", ...ODD.join("")];
    for (let i = 0; i < 2_000; i++) {
      const text = Array.from({ length: Math.floor(random() * 80) }, () => alphabet[Math.floor(random() * alphabet.length)]!).join("");
      expect(approximateTokens(text), JSON.stringify(text)).toBe(referenceApproximateTokens(text));
    }
    for (const text of [1, 2].map(varied)) expect(approximateTokens(text)).toBe(referenceApproximateTokens(text));
  });

  it("counts a range of a text as the slice's own count, a surrogate pair cut at its end included", () => {
    const random = seededRandom(7);
    const text = ODD.join(" ") + " 😀x 𝐀𝐁 end";
    for (let i = 0; i < 1_000; i++) {
      const start = Math.floor(random() * text.length);
      const end = start + Math.floor(random() * (text.length - start + 1));
      expect(approximateTokensIn(text, start, end)).toBe(referenceApproximateTokens(text.slice(start, end)));
    }
  });
});
