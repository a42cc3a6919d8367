import { describe, expect, it } from "vitest";
import { approximateTokens } from "../../src/chunking/chunker.js";
import { RecursiveChunker } from "../../src/chunking/recursive-chunker.js";
import { ConfigurationError } from "../../src/index.js";
import { article, paragraph, seededRandom } from "../helpers/text.js";

function checkInvariants(content: string, chunker = new RecursiveChunker()) {
  const chunks = chunker.chunk(content);
  chunks.forEach((chunk, i) => {
    expect(chunk.index).toBe(i);
    expect(chunk.text).toBe(content.slice(chunk.start, chunk.end));
    expect(chunk.text.trim()).toBe(chunk.text);
    expect(chunk.tokenCount).toBe(approximateTokens(chunk.text));
  });
  return chunks;
}

describe("RecursiveChunker", () => {
  it("gives ADR-002's defaults: 512 tokens with 50 of overlap", () => {
    expect(new RecursiveChunker().id).toBe("recursive-v1:512/50:approx");
  });

  it("returns chunks whose text is exactly the content between their offsets, within the size", () => {
    const content = article(1, 120, 6);
    const chunks = checkInvariants(content);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(512);
  });

  it("covers every character of the text", () => {
    const content = article(2, 80);
    const chunks = checkInvariants(content);
    const covered = new Uint8Array(content.length);
    for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
    for (let i = 0; i < content.length; i++) if (!/\s/.test(content[i]!)) expect(covered[i]).toBe(1);
  });

  it("repeats the end of each chunk at the start of the next, from a word boundary, within the overlap", () => {
    const chunks = checkInvariants(article(3, 60));
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]!;
      const current = chunks[i]!;
      expect(current.start).toBeLessThan(previous.end);
      expect(current.start).toBeGreaterThanOrEqual(previous.start);
      expect(approximateTokens(previous.text.slice(current.start - previous.start))).toBeLessThanOrEqual(50);
      expect(/\s/.test(previous.text[current.start - previous.start - 1] ?? " ")).toBe(true);
    }
  });

  it("never splits a paragraph that fits in a chunk", () => {
    const content = article(4, 100);
    const chunks = checkInvariants(content, new RecursiveChunker({ overlap: 0 }));
    let offset = 0;
    for (const para of content.split("\n\n")) {
      const start = content.indexOf(para, offset);
      offset = start + para.length;
      expect(chunks.some((c) => c.start <= start && c.end >= start + para.length)).toBe(true);
    }
  });

  it("keeps a Markdown heading with the text under it", () => {
    const content = article(5, 90, 3);
    const chunks = checkInvariants(content, new RecursiveChunker({ overlap: 0 }));
    for (const chunk of chunks) expect(chunk.text).not.toMatch(/## Section \d+$/);
    const startsAtHeading = chunks.filter((c) => c.text.startsWith("## Section")).length;
    expect(startsAtHeading).toBeGreaterThan(chunks.length / 2);
  });

  it("keeps a fenced code block whole, blank lines included", () => {
    const code = "```ts\nconst a = 1;\n\nconst b = 2;\n```";
    const content = `${paragraph(seededRandom(6))}\n\n${code}\n\n${paragraph(seededRandom(7))}`;
    const chunks = checkInvariants(content, new RecursiveChunker({ chunkSize: 64, overlap: 0 }));
    expect(chunks.some((c) => c.text.includes(code))).toBe(true);
  });

  it("re-chunks an edited paragraph without moving the chunks after it", () => {
    // Over many documents: an edit in the middle changes a few chunks around it, where a greedy
    // packer would shift every chunk after it (about half of each document's ~30 chunks).
    const changedPerEdit: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const paragraphs = article(seed, 150).split("\n\n");
      const edited = [...paragraphs];
      edited[70] = `${edited[70]} ${paragraph(seededRandom(seed + 99), 4)}`;
      const before = new RecursiveChunker().chunk(paragraphs.join("\n\n"));
      const after = new RecursiveChunker().chunk(edited.join("\n\n"));
      const beforeTexts = new Set(before.map((c) => c.text));
      const changed = after.filter((c) => !beforeTexts.has(c.text));
      expect(before.length).toBeGreaterThan(20);
      expect(changed.length).toBeGreaterThan(0);
      // The last chunks, well after the edit, are the same text as before.
      expect(after.slice(-3).map((c) => c.text)).toEqual(before.slice(-3).map((c) => c.text));
      changedPerEdit.push(changed.length);
    }
    const mean = changedPerEdit.reduce((sum, n) => sum + n, 0) / changedPerEdit.length;
    expect(mean).toBeLessThanOrEqual(4);
  });

  it("is deterministic", () => {
    const content = article(9, 50, 4);
    expect(new RecursiveChunker().chunk(content)).toEqual(new RecursiveChunker().chunk(content));
  });

  it("returns no chunks for empty or blank text", () => {
    expect(new RecursiveChunker().chunk("")).toEqual([]);
    expect(new RecursiveChunker().chunk(" \n\n \t ")).toEqual([]);
  });

  it("splits text without any whitespace by characters, never inside a surrogate pair", () => {
    const word = "x".repeat(10_000);
    const emoji = "😀".repeat(2_000);
    for (const content of [word, emoji]) {
      const chunks = checkInvariants(content, new RecursiveChunker({ chunkSize: 64, overlap: 8 }));
      for (const chunk of chunks) {
        expect(chunk.tokenCount).toBeLessThanOrEqual(64);
        expect(chunk.text.isWellFormed()).toBe(true);
      }
      expect(chunks.map((c) => c.text).join("").replaceAll(/\s/g, "").length).toBeGreaterThanOrEqual(content.length);
    }
  });

  it("splits long unpunctuated CJK text into bounded chunks", () => {
    const content = "数据库向量索引搜索".repeat(400);
    const chunks = checkInvariants(content, new RecursiveChunker({ chunkSize: 128, overlap: 16 }));
    expect(chunks.length).toBeGreaterThan(20);
    for (const chunk of chunks) expect(chunk.tokenCount).toBeLessThanOrEqual(128);
  });

  it("uses a given token counter and names it in its id", () => {
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const chunker = new RecursiveChunker({ chunkSize: 100, overlap: 10, countTokens: words, tokenizerName: "words" });
    expect(chunker.id).toBe("recursive-v1:100/10:words");
    for (const chunk of chunker.chunk(article(10, 40))) expect(words(chunk.text)).toBeLessThanOrEqual(100);
  });

  it("rejects settings that cannot work, naming the option", () => {
    expect(() => new RecursiveChunker({ chunkSize: 8 })).toThrow(ConfigurationError);
    expect(() => new RecursiveChunker({ chunkSize: 100, overlap: 60 })).toThrow(/chunker\.overlap/);
  });
});
