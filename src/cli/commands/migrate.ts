import { ExitCode } from "../output.js";
import type { Command } from "./command.js";

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply pending database migrations",
  usage: "dualstore migrate",
  help: [
    "  Applies dualstore's migrations the database lacks and records them in _prisma_migrations,",
    "  as `prisma migrate deploy` would. Other commands also migrate when they open the database.",
  ],
  options: {},
  async run({ out, open }) {
    // Migrating needs neither the embedder nor the vector store: a deploy step should not fail on their keys.
    const ds = await open({ migrate: false, vectorStore: null });
    try {
      const result = await ds.migrate();
      out.result(result, () =>
        result.applied.length === 0
          ? [`Up to date (${result.alreadyApplied.length} migrations already applied).`]
          : [`Applied ${result.applied.length} migration${result.applied.length === 1 ? "" : "s"}:`, ...result.applied.map((name) => `  ${name}`)],
      );
      return ExitCode.OK;
    } finally {
      await ds.close();
    }
  },
};
