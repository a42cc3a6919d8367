import { describe, expect, it } from "vitest";
import { fuse } from "../../src/search/fusion.js";

describe("fusion", () => {
  it("weighs each side's scores relative to that side's best, lexical 0.9 and vector 0.1 by default", () => {
    const fused = fuse([
      { vectorId: "a#1.x", documentId: "a", lexicalRank: 0.2, vectorScore: 0.4 },
      { vectorId: "b#1.x", documentId: "b", lexicalRank: 0.1, vectorScore: 0.8 },
    ]);
    expect(fused.map((hit) => hit.vectorId)).toEqual(["a#1.x", "b#1.x"]);
    expect(fused[0]!.score).toBeCloseTo(0.9 + 0.1 * 0.5);
    expect(fused[1]!.score).toBeCloseTo(0.9 * 0.5 + 0.1);
  });

  it("lets a chunk one side missed borrow that side's best score within its document", () => {
    const fused = fuse([
      { vectorId: "a#1.words", documentId: "a", lexicalRank: 0.2, vectorScore: undefined },
      { vectorId: "a#1.meaning", documentId: "a", lexicalRank: undefined, vectorScore: 0.5 },
      { vectorId: "b#1.x", documentId: "b", lexicalRank: 0.2, vectorScore: undefined },
    ]);
    // Both chunks of "a" carry the document's evidence from both sides; "b" only has its words.
    expect(fused).toEqual([
      { vectorId: "a#1.meaning", score: 1 },
      { vectorId: "a#1.words", score: 1 },
      { vectorId: "b#1.x", score: 0.9 },
    ]);
  });

  it("sums weight / (k + rank) over the sides with rrf", () => {
    const fused = fuse(
      [
        { vectorId: "a", documentId: "a", lexicalRank: 0.2, vectorScore: 0.1 },
        { vectorId: "b", documentId: "b", lexicalRank: 0.1, vectorScore: 0.9 },
      ],
      { method: "rrf", lexicalWeight: 1, vectorWeight: 1, k: 60 },
    );
    expect(fused[0]!.score).toBeCloseTo(1 / 61 + 1 / 62);
    expect(fused[1]!.score).toBeCloseTo(1 / 62 + 1 / 61);
  });
});
