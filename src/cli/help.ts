import type { Command } from "./commands/command.js";

const CONNECTION_HELP = [
  "Connection options (every command; each falls back to the environment variable named):",
  "  --database-url <url>   DATABASE_URL. postgres://... (node-postgres; Neon's driver for",
  "                         *.neon.tech hosts), a directory or file:<dir> (PGlite on disk),",
  "                         memory:// (PGlite in memory, gone on exit).",
  "                         Default: PGlite in ./.dualstore/db, kept between runs.",
  "  --schema <name>        DUALSTORE_SCHEMA. PostgreSQL schema for dualstore's tables.",
  "  --vector-store <name>  DUALSTORE_VECTOR_STORE. pgvector | pinecone | lancedb | memory.",
  "                         Default: pinecone when PINECONE_API_KEY is set, else pgvector.",
  "                         Pinecone reads PINECONE_API_KEY, PINECONE_INDEX, PINECONE_HOST.",
  "  --lancedb-uri <uri>    LANCEDB_URI. Default: ./.dualstore/lancedb.",
  "  --embedder <name>      DUALSTORE_EMBEDDER. local | openai | cohere. Default: openai when",
  "                         OPENAI_API_KEY is set, cohere when COHERE_API_KEY is, else local",
  "                         (offline, lexical). Keys are read from the environment only.",
];

const OUTPUT_HELP = [
  "Output options:",
  "  --json                 print the result as one JSON document on stdout (progress and",
  "                         notes stay on stderr)",
  "  --verbose              log what dualstore does on stderr (secrets masked)",
  "  -h, --help             show help",
  "  -v, --version          print the version",
];

const EXIT_CODES_HELP = [
  "Exit codes:",
  "  0    success",
  "  1    the command ran and found problems: reconcile findings left unfixed, a store",
  "       down (status), files or documents that failed (ingest)",
  "  2    usage error: unknown command, bad flag or value",
  "  3    configuration error (error code CONFIGURATION)",
  "  4    any other failure, printed as CODE: message",
  "  130  interrupted (Ctrl-C); what was finished is kept",
];

export function globalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return [
    "dualstore: PostgreSQL and a vector index, kept in sync.",
    "",
    "Usage: dualstore <command> [options]",
    "",
    "Commands:",
    ...commands.map((command) => `  ${command.name.padEnd(width)} ${command.summary}`),
    `  ${"help".padEnd(width)} help for a command: dualstore help <command>`,
    "",
    ...CONNECTION_HELP,
    "",
    ...OUTPUT_HELP,
    "",
    ...EXIT_CODES_HELP,
  ].join("\n");
}

export function commandHelp(command: Command): string {
  return [
    `Usage: ${command.usage}`,
    "",
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    "",
    ...(command.help.length > 0 ? ["Options:", ...command.help, ""] : []),
    ...CONNECTION_HELP,
    "",
    ...OUTPUT_HELP,
    "",
    ...EXIT_CODES_HELP,
  ].join("\n");
}
