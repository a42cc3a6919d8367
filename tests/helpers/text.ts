// Deterministic prose for tests: seeded, so every run chunks the same text.
import { mulberry32 } from "../servers/faults.js";
/** A seeded PRNG (mulberry32, as the protocol servers' fault injection uses). */
export const seededRandom = mulberry32;

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you " +
  "were her she there been one all we their has would when if so no what up out about who into them more can only " +
  "vector index store database query document chunk embedding search postgres schema migration cluster replica " +
  "latency throughput memory disk network packet kernel thread process signal buffer cache shard tenant owner"
).split(" ");

export function sentence(random: () => number, words = 8 + Math.floor(random() * 12)): string {
  const picked = Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  const text = picked.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1) + ".";
}

export function paragraph(random: () => number, sentences = 2 + Math.floor(random() * 5)): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(" ");
}

/** A document of `count` paragraphs; every `headingEvery` paragraphs a Markdown heading. */
export function article(seed: number, count: number, headingEvery = 0): string {
  const random = seededRandom(seed);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    if (headingEvery > 0 && i % headingEvery === 0) parts.push(`## Section ${i / headingEvery + 1}`);
    parts.push(paragraph(random));
  }
  return parts.join("\n\n");
}
