import { z } from "zod";
import { ConfigurationError } from "../../errors.js";
import { toIssues, unknownKeysMessage } from "../../internal/validate.js";

/** Options of `vectorStore: { provider: "pinecone", ... }`. Either `index` or `host` is required. */
export interface PineconeVectorStoreConfig {
  /** Pinecone API key. Default: the PINECONE_API_KEY environment variable. */
  apiKey?: string;
  /**
   * Name of the index. Default: the PINECONE_INDEX environment variable. With a name, dualstore
   * checks the index's dimension and metric through the control plane (and can create it).
   */
  index?: string;
  /**
   * Data-plane host of the index (as the Pinecone console shows it). Default: the PINECONE_HOST
   * environment variable when `index` is unset or is PINECONE_INDEX (the variable is that
   * index's host), else the host the control plane reports for `index`.
   */
  host?: string;
  /** Control-plane URL, for tests and proxies. Default: Pinecone's own (https://api.pinecone.io). */
  controllerHostUrl?: string;
  /**
   * Create the index when it does not exist: serverless, with the embedder's dimension and the
   * cosine metric, then wait until it is ready. Needs `index`. Default: not set (a missing
   * index is a ConfigurationError that says how to create it).
   */
  createIfMissing?: { cloud: "aws" | "gcp" | "azure"; region: string; metric?: "cosine" };
  /** Time limit for one HTTP request, in milliseconds. Default 30,000. */
  requestTimeoutMs?: number;
  /** Prefix added to every namespace dualstore uses, so several apps can share one index. Default "". */
  namespacePrefix?: string;
}

const ENVIRONMENT = { apiKey: "PINECONE_API_KEY", index: "PINECONE_INDEX", host: "PINECONE_HOST" } as const;
type EnvironmentOption = keyof typeof ENVIRONMENT;

const required = (issue: { input: unknown }) => (issue.input === undefined ? "is required" : undefined);

const settingsSchema = z.strictObject({
  apiKey: z.string({ error: required }).min(1),
  // Pinecone's own index-name rule, so a typo fails here rather than as a 404 later.
  index: z
    .string()
    .max(45)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lower-case letters, digits and '-'")
    .optional(),
  host: z.string().regex(/^\S+$/, "must be a host name or URL without spaces").optional(),
  controllerHostUrl: z.url().optional(),
  createIfMissing: z
    .strictObject({
      cloud: z.enum(["aws", "gcp", "azure"]),
      region: z.string().min(1),
      metric: z.literal("cosine").optional(),
    })
    .optional(),
  requestTimeoutMs: z.number().int().positive().default(30_000),
  namespacePrefix: z.string().default(""),
});

/** The checked configuration, with environment fallbacks and defaults applied. */
export type PineconeSettings = z.output<typeof settingsSchema>;

/**
 * Checks the configuration, filling in environment fallbacks and defaults. A missing or
 * malformed setting is a ConfigurationError naming the option or environment variable it came
 * from, never its value.
 */
export function parsePineconeConfig(config: PineconeVectorStoreConfig, env: NodeJS.ProcessEnv): PineconeSettings {
  // An empty variable counts as unset.
  const fromEnvironment = (option: EnvironmentOption) => env[ENVIRONMENT[option]] || undefined;
  const input = {
    ...config,
    apiKey: config.apiKey ?? fromEnvironment("apiKey"),
    index: config.index ?? fromEnvironment("index"),
    // PINECONE_HOST is PINECONE_INDEX's host: another index named here is found by its name, never
    // sent to that host (a model change's new index, opened by a process deployed with the old one's).
    host: config.host ?? (config.index === undefined || config.index === fromEnvironment("index") ? fromEnvironment("host") : undefined),
  };
  // Names where a setting came from: the option, or the environment variable it fell back to.
  const label = (option: string): string => {
    const variable: string | undefined = ENVIRONMENT[option as EnvironmentOption];
    if (variable === undefined || config[option as EnvironmentOption] !== undefined) return `vectorStore.${option}`;
    return input[option as EnvironmentOption] === undefined ? `vectorStore.${option} (or ${variable})` : variable;
  };

  const result = settingsSchema.safeParse(input, { error: unknownKeysMessage("option") });
  if (!result.success) {
    const issues = toIssues(result.error);
    const problems = issues.map((issue) => {
      const [option = "", ...rest] = issue.path.split(".");
      return `${[label(option), ...rest].join(".")}: ${issue.message}`;
    });
    throw new ConfigurationError(`Pinecone vector store: ${problems.join("; ")}`, { option: `vectorStore.${issues[0]!.path}` });
  }
  const settings = result.data;
  if (settings.index === undefined && settings.host === undefined) {
    throw new ConfigurationError(`Pinecone vector store: ${label("index")} or ${label("host")} is required`);
  }
  if (settings.createIfMissing && settings.index === undefined) {
    throw new ConfigurationError(`Pinecone vector store: vectorStore.createIfMissing needs ${label("index")}: an index is created by name`);
  }
  return settings;
}
