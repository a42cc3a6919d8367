import { createInterface } from "node:readline/promises";
import type { EmbedderConfig } from "../../embedders/create-embedder.js";
import type { EmbeddingChange, EmbeddingPlan } from "../../sync/embedding-migration.js";
import { UsageError } from "../args.js";
import { handleInterrupts } from "../interrupt.js";
import { ExitCode } from "../output.js";
import { count } from "../progress.js";
import type { Command } from "./command.js";

const actions = ["plan", "migrate", "status", "abort"] as const;

export const embeddingsCommand: Command = {
  name: "embeddings",
  summary: "change the embedding model without downtime: plan, migrate, status, abort",
  usage: "dualstore embeddings plan|migrate|status|abort [--to <provider>[:<model>][:<dimension>]] [--yes]",
  help: [
    "  --to <embedder>        the new model: local:384, openai:text-embedding-3-large,",
    "                         openai:text-embedding-3-small:512, cohere:embed-v4.0:1024",
    "  --price-per-million <usd>  price per million tokens, for the plan's cost (known for OpenAI)",
    "  --batch-size <n>       documents built per batch, 1-1000 (default 32)",
    "  --yes                  migrate without asking (needed when stdin is not a terminal)",
    "",
    "  plan     counts documents, chunks, tokens and cost of re-embedding with --to",
    "  migrate  prints the plan, asks, then builds the new generation beside the live one",
    "           while search keeps answering from the live one; cuts over in one transaction",
    "           and deletes the old vectors. Ctrl-C stops it; run it again to resume.",
    "  status   the live model, and the model being built with its progress",
    "  abort    deletes what a migration built; the live generation stays as it was",
  ],
  options: {
    to: { type: "string" },
    "price-per-million": { type: "string" },
    "batch-size": { type: "string" },
    yes: { type: "boolean" },
  },
  async run({ flags, positionals, out, open }) {
    const action = positionals[0];
    if (!action || !(actions as readonly string[]).includes(action) || positionals.length > 1) {
      throw new UsageError(`expected one of ${actions.join(", ")}`, "embeddings");
    }
    const to = flags.string("to");
    if ((action === "plan" || action === "migrate") && to === undefined) throw new UsageError(`${action}: --to is required`, "embeddings");
    const price = flags.number("price-per-million", { min: 0, max: 1_000 });
    const change: EmbeddingChange | undefined = to === undefined ? undefined : { to: parseEmbedder(to), ...(price === undefined ? {} : { pricePerMillionTokens: price }) };
    const ds = await open();
    const interrupt = handleInterrupts(out, "stopping after the current batch (run migrate again to resume)");
    try {
      if (action === "status") {
        const status = await ds.embeddings.status();
        out.result(status, () => [
          `live: ${status.live}`,
          status.building ? `building: ${status.building}, ${count(status.built)} of ${count(status.documents)} documents built` : `${status.state}: no model change under way`,
        ]);
        return ExitCode.OK;
      }
      if (action === "abort") {
        const result = await ds.embeddings.abort();
        out.result(result, () => [result.aborted ? `Aborted: ${count(result.removed)} vectors of the new generation deleted.` : "No model change under way."]);
        return ExitCode.OK;
      }
      const plan = await ds.embeddings.plan(change!);
      if (action === "plan") {
        out.result(plan, () => planLines(plan));
        return ExitCode.OK;
      }
      for (const line of planLines(plan)) out.note(line);
      if (!flags.boolean("yes") && !(await confirm("Build the new generation and cut over when it is complete? [y/N] "))) {
        out.note("Nothing done.");
        return ExitCode.OK;
      }
      const result = await ds.embeddings.migrate({
        ...change!,
        batchSize: flags.integer("batch-size", { min: 1, max: 1_000 }) ?? 32,
        signal: interrupt.signal,
        onProgress: (progress) => out.note(`built ${count(progress.built)} of ${count(progress.documents)} documents, ${count(progress.embedded)} texts embedded`),
      });
      out.result(result, () => [
        `Cut over from ${result.from} to ${result.to}: ${count(result.documents)} documents, ${count(result.embedded)} texts embedded, ` +
          `${count(result.removed)} old vectors deleted, in ${(result.elapsedMs / 1_000).toFixed(1)} s.`,
      ]);
      return ExitCode.OK;
    } finally {
      interrupt.dispose();
      await ds.close();
    }
  },
};

function planLines(plan: EmbeddingPlan): string[] {
  return [
    `from:   ${plan.from}`,
    `to:     ${plan.to} (vectors in ${plan.store})`,
    `documents: ${count(plan.documents)}, chunks: ${count(plan.chunks)} (${count(plan.cachedChunks)} cached), estimated tokens: ${count(plan.estimatedTokens)}`,
    `estimated cost: ${plan.estimatedCostUsd === null ? "unknown (pass --price-per-million)" : `$${plan.estimatedCostUsd.toFixed(4)}`}`,
  ];
}

/** `local:384`, `openai:text-embedding-3-large`, `openai:text-embedding-3-small:512`, `cohere:embed-v4.0:1024`. */
function parseEmbedder(spec: string): EmbedderConfig {
  const [provider, ...rest] = spec.split(":");
  const last = rest.at(-1);
  const dimension = last !== undefined && /^\d+$/.test(last) ? Number(last) : undefined;
  const model = dimension === undefined ? rest.join(":") : rest.slice(0, -1).join(":");
  switch (provider) {
    case "local":
      if (model !== "" && model !== "hashing-v1") throw new UsageError(`--to: the local embedder has no model ${JSON.stringify(model)}`, "embeddings");
      return { provider: "local", ...(dimension === undefined ? {} : { dimension }) };
    case "openai":
      return { provider: "openai", ...(model === "" ? {} : { model: model as never }), ...(dimension === undefined ? {} : { dimensions: dimension }) };
    case "cohere":
      return { provider: "cohere", ...(model === "" ? {} : { model: model as never }), ...(dimension === undefined ? {} : { outputDimension: dimension as never }) };
    default:
      throw new UsageError(`--to: expected local, openai or cohere, then :model and/or :dimension, got ${JSON.stringify(spec)}`, "embeddings");
  }
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError("migrate: pass --yes to confirm when stdin is not a terminal", "embeddings");
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}
