import { parseArgs, type ParseArgsOptionDescriptor } from "node:util";

/** Option descriptors as `node:util` parseArgs takes them. */
export type OptionSpecs = Record<string, ParseArgsOptionDescriptor>;

/** Bad command-line input: exit code 2, with the message on stderr. Never leaves the CLI. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help the message should point at, if one was recognised. */
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options every command accepts. */
const globalOptions = {
  "database-url": { type: "string" },
  schema: { type: "string" },
  "vector-store": { type: "string" },
  "lancedb-uri": { type: "string" },
  embedder: { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const satisfies OptionSpecs;

type Value = string | boolean | Array<string | boolean> | undefined;

/** Parsed flag values, read through accessors that check them and name the flag when they are wrong. */
export class Flags {
  constructor(
    private readonly values: Record<string, Value>,
    private readonly command: string | undefined,
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value === "") throw new UsageError(`--${name}: expected a value`, this.command);
    return value;
  }

  boolean(name: string): boolean {
    return this.values[name] === true;
  }

  integer(name: string, range: { min: number; max: number }): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < range.min || value > range.max) {
      throw new UsageError(`--${name}: expected an integer from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`, this.command);
    }
    return value;
  }

  number(name: string, range: { min: number; max: number }): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value < range.min || value > range.max) {
      throw new UsageError(`--${name}: expected a number from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`, this.command);
    }
    return value;
  }

  /** A comma-separated list, blanks dropped: `--tags a,b`. */
  list(name: string): string[] | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const items = raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    if (items.length === 0) throw new UsageError(`--${name}: expected a comma-separated list`, this.command);
    return items;
  }

  /** One of `choices`, or undefined when the flag is absent. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`--${name}: expected one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`, this.command);
    }
    return raw as T;
  }
}

export interface ParsedCommandLine {
  /** The command name, as typed (undefined when none was given). */
  readonly command: string | undefined;
  readonly flags: Flags;
  readonly positionals: string[];
}

/**
 * Parses `args` in two passes, so global options may come before or after the command: the
 * first pass, lenient and knowing every option's type, finds the command (the first
 * positional); the second parses the rest strictly with the options that command accepts.
 */
export function parseCommandLine(
  args: readonly string[],
  commandOptions: (command: string) => OptionSpecs | undefined,
  everyCommandsOptions: OptionSpecs,
): ParsedCommandLine {
  const { tokens } = parseArgs({
    args: [...args],
    options: { ...globalOptions, ...everyCommandsOptions },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const commandToken = tokens.find((token) => token.kind === "positional");
  const command = commandToken?.kind === "positional" ? commandToken.value : undefined;
  const rest = commandToken ? args.filter((_, index) => index !== commandToken.index) : [...args];
  const options = command === undefined ? globalOptions : commandOptions(command);
  if (options === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  try {
    const parsed = parseArgs({ args: rest, options: { ...globalOptions, ...options }, strict: true, allowPositionals: true });
    return { command, flags: new Flags(parsed.values, command), positionals: parsed.positionals };
  } catch (error) {
    // parseArgs reports unknown options and missing values with a message fit for the user.
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(error.message, command);
    }
    throw error;
  }
}
