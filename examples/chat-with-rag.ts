// Retrieval-augmented chat, offline: PGlite in memory holds the rows and the vectors, the
// LocalEmbedder embeds, and no language model is called.
//
//   npm run example:chat
//
// A user's documents are indexed; a chat gets a user question; search (with the user's own
// retrieval settings) finds the passages; an assistant turn grounded in them is stored with its
// model, token count and latency; and a markdown artifact listing the sources is linked to it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { approximateTokens, createDualstore, type SearchHit } from "dualstore";

const dataDir = fileURLToPath(new URL("./data/", import.meta.url));
const files = ["p-retry.md", "pg.md", "ws.md", "chokidar.md", "pglite.md"];
const question = "How do I retry a failed promise with exponential backoff?";

// `driver: "pglite"` without a URL: in memory, whatever DATABASE_URL says.
const ds = await createDualstore({ database: { driver: "pglite" } });
try {
  const user = await ds.users.create({ email: "grace@example.com", name: "Grace" });
  // The LocalEmbedder is lexical, so its similarities run lower than a semantic model's: the
  // schema's default ragMinScore (0.7, sized for models like OpenAI's) would leave no hit.
  await ds.settings.update(user.id, { ragTopK: 3, ragMinScore: 0.1 });

  const documents = [];
  for (const file of files) {
    const content = await readFile(join(dataDir, file), "utf8");
    // sync "none": indexDocuments below indexes them all in one batched run, not one job each.
    documents.push(
      await ds.documents.create(
        { userId: user.id, title: file.replace(/\.md$/, ""), source: "upload", mimeType: "text/markdown", content, tags: ["readme"], language: "en" },
        { sync: "none" },
      ),
    );
  }
  const indexing = await ds.indexDocuments(documents.map((document) => document.id));
  console.log(`Indexed ${indexing.indexed} documents into ${indexing.chunks} chunks.\n`);

  // From here on, everything runs as the user sees it: another user's rows would be invisible.
  const me = ds.as(user.id);
  const chat = await me.chats.create({ title: "Retrying flaky calls" });
  await me.chats.messages.append(chat.id, { role: "user", content: question });

  const started = performance.now();
  const hits = await me.search(question); // topK and minScore come from the user's settings
  const answer = composeAnswer(hits);
  const reply = await me.chats.messages.append(chat.id, {
    role: "assistant",
    content: answer,
    model: "extractive-demo",
    // What a model call would be billed for: the prompt (question and passages) and the answer.
    tokensUsed: approximateTokens(question) + hits.reduce((sum, hit) => sum + approximateTokens(hit.chunk.text), 0) + approximateTokens(answer),
    latencyMs: Math.round(performance.now() - started),
  });
  const artifact = await me.artifacts.create({
    type: "markdown",
    title: "Sources",
    messageId: reply.id,
    content: sourcesMarkdown(hits),
    metadata: { query: question, hits: hits.length },
  });

  const conversation = await me.chats.get(chat.id, { withMessages: true });
  console.log(`# ${conversation.title}\n`);
  for (const message of conversation.messages) {
    const details = message.role === "assistant" ? ` (${message.model}, ${message.tokensUsed} tokens, ${message.latencyMs} ms)` : "";
    console.log(`${message.role}${details}:\n${message.content}\n`);
  }
  console.log(`--- artifact "${artifact.title}" (${artifact.type}, linked to message ${artifact.messageId}) ---`);
  console.log(artifact.content);
} finally {
  await ds.close();
}

/**
 * Stands in for a language model: no LLM is called, so the answer is composed deterministically
 * from the hits. For each hit (best first) it quotes the sentence sharing the most words with
 * the question, citing the hit by number. A real app would send the same passages to its model.
 */
function composeAnswer(hits: readonly SearchHit[]): string {
  if (hits.length === 0) return "I found nothing in your documents about that.";
  const questionWords = new Set(words(question));
  const quotes = hits.map((hit, i) => {
    const sentences = hit.chunk.text
      .replace(/```[\s\S]*?```/g, " ")
      .replace(/\[!\w+\]/g, " ")
      .replace(/[#>*`[\]]/g, "")
      .split(/(?<=[.!?])\s+|\n{2,}/)
      .map((sentence) => sentence.replace(/\s+/g, " ").trim())
      .filter((sentence) => sentence.length > 20);
    const best = sentences
      .map((sentence) => ({ sentence, overlap: words(sentence).filter((word) => questionWords.has(word)).length }))
      .reduce((a, b) => (b.overlap > a.overlap ? b : a), { sentence: sentences[0] ?? hit.chunk.text.trim(), overlap: -1 });
    return `- ${best.sentence} [${i + 1}]`;
  });
  return `From your documents:\n${quotes.join("\n")}`;
}

function sourcesMarkdown(hits: readonly SearchHit[]): string {
  const rows = hits.map((hit, i) => `| ${i + 1} | ${hit.document.title} | ${hit.chunk.index} | ${hit.score.toFixed(3)} |`);
  return [`## Sources for "${question}"`, "", "| # | Document | Chunk | Score |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]{3,}/g) ?? [];
}
