import type { Dualstore } from "../../client.js";
import type { DualstoreOptions } from "../../options.js";
import type { Flags, OptionSpecs } from "../args.js";
import type { ExitCodeValue, Output } from "../output.js";

/** What a command gets to run with. */
export interface CommandContext {
  readonly flags: Flags;
  readonly positionals: readonly string[];
  readonly out: Output;
  /** The working directory: relative paths in input and output are relative to it. */
  readonly cwd: string;
  /**
   * Opens dualstore as the connection flags and environment say, with `overrides` on top
   * (e.g. no vector index for `migrate`). The command closes it.
   */
  open(overrides?: Pick<DualstoreOptions, "migrate" | "vectorStore">): Promise<Dualstore>;
}

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis, e.g. `dualstore search "<query>" [options]`. */
  readonly usage: string;
  /** The command's own options and notes, one help line each (already indented). */
  readonly help: readonly string[];
  readonly options: OptionSpecs;
  run(context: CommandContext): Promise<ExitCodeValue>;
}
