import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../args.js";
import { handleInterrupts } from "../interrupt.js";
import { ExitCode } from "../output.js";
import { resolveUserId } from "../user.js";
import type { SearchDegradation } from "../../search/search.js";
import type { Command } from "./command.js";

const DEGRADED: Record<SearchDegradation["component"], string> = {
  embedder: "Keyword results only: the embedder failed",
  vectorStore: "Keyword results only: the vector store failed",
  reranker: "Not reranked: the reranker failed",
};

const EXCERPT_LENGTH = 160;

export const searchCommand: Command = {
  name: "search",
  summary: "semantic search, printing ranked hits",
  usage: 'dualstore search "<query>" [options]',
  help: [
    "  --user <id or email>   search this user's documents and public ones, with the user's",
    "                         settings (ragTopK, ragMinScore) as defaults;",
    "                         default: public documents only",
    "  --top-k <n>            hits to return, 1-100 (default: the user's setting, else 5)",
    "  --min-score <x>        lowest similarity, -1 to 1 (default: the user's setting, else 0)",
    "  --tags <a,b>           only documents carrying at least one of these tags",
  ],
  options: {
    user: { type: "string" },
    "top-k": { type: "string" },
    "min-score": { type: "string" },
    tags: { type: "string" },
  },
  async run({ flags, positionals, out, open, cwd }) {
    const query = positionals.join(" ").trim();
    if (query === "") throw new UsageError("expected a query", "search");
    const topK = flags.integer("top-k", { min: 1, max: 100 });
    const minScore = flags.number("min-score", { min: -1, max: 1 });
    const tags = flags.list("tags");
    const userReference = flags.string("user");
    const ds = await open();
    const interrupt = handleInterrupts(out, "cancelling the search");
    try {
      const userId = userReference === undefined ? null : await resolveUserId(ds, userReference, { createIfMissing: false });
      const hits = await ds.search(query, {
        userId,
        ...(topK === undefined ? {} : { topK }),
        ...(minScore === undefined ? {} : { minScore }),
        ...(tags === undefined ? {} : { tags }),
        signal: interrupt.signal,
      });
      const results = hits.map((hit) => ({
        score: hit.score,
        documentId: hit.document.id,
        title: hit.document.title,
        sourceUrl: hit.document.sourceUrl,
        tags: hit.document.tags,
        chunk: { index: hit.chunk.index, start: hit.chunk.start, end: hit.chunk.end, text: hit.chunk.text },
      }));
      // A search whose vector side (or reranker) failed still answers: say so, in both forms.
      const { degraded } = hits;
      out.result({ query, userId, hits: results, ...(degraded ? { degraded } : {}) }, () => [
        ...(degraded ? [`${DEGRADED[degraded.component]} (${degraded.code}: ${degraded.message}).`] : []),
        ...(results.length === 0
          ? ["No hits."]
          : results.flatMap((hit, rank) => [
              `${String(rank + 1).padStart(2)}. ${hit.score.toFixed(3)}  ${whereToOpen(hit.sourceUrl, cwd) ?? hit.title}  (chunk ${hit.chunk.index})`,
              `    ${excerpt(hit.chunk.text)}`,
            ])),
      ]);
      return ExitCode.OK;
    } finally {
      interrupt.dispose();
      await ds.close();
    }
  },
};

/**
 * Where a person can open the document: an ingested file's path (relative to the working
 * directory when inside it), or the source URL; undefined when there is neither.
 */
function whereToOpen(sourceUrl: string | null, cwd: string): string | undefined {
  if (!sourceUrl) return undefined;
  if (!sourceUrl.startsWith("file:")) return sourceUrl;
  const path = fileURLToPath(sourceUrl);
  const inside = relative(cwd, path);
  return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside) ? inside : path;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= EXCERPT_LENGTH ? flat : `${flat.slice(0, EXCERPT_LENGTH - 1)}…`;
}
