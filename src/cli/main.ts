#!/usr/bin/env node
import packageJson from "../../package.json" with { type: "json" };
import { createDualstore } from "../client.js";
import { parseCommandLine, UsageError, type OptionSpecs } from "./args.js";
import type { Command } from "./commands/command.js";
import { embeddingsCommand } from "./commands/embeddings.js";
import { evaluateCommand } from "./commands/evaluate.js";
import { ingestCommand } from "./commands/ingest.js";
import { migrateCommand } from "./commands/migrate.js";
import { reconcileCommand } from "./commands/reconcile.js";
import { schemaCommand } from "./commands/schema.js";
import { searchCommand } from "./commands/search.js";
import { statusCommand } from "./commands/status.js";
import { workerCommand } from "./commands/worker.js";
import { connectionOptions } from "./config.js";
import { commandHelp, globalHelp } from "./help.js";
import { ExitCode, Output, type OutputStreams } from "./output.js";

const commands: readonly Command[] = [migrateCommand, schemaCommand, ingestCommand, searchCommand, evaluateCommand, reconcileCommand, statusCommand, workerCommand, embeddingsCommand];
const byName = new Map(commands.map((command) => [command.name, command]));
/** `help <command>` takes no options of its own. */
const helpOptions: OptionSpecs = {};
const everyCommandsOptions: OptionSpecs = Object.assign({}, ...commands.map((command) => command.options));

/** Runs one command line and resolves to the process exit code. */
async function runCli(args: readonly string[], streams: OutputStreams, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  // Until --json has been read, errors are reported as text.
  let out = new Output(false, streams);
  try {
    const { command: name, flags, positionals } = parseCommandLine(
      args,
      (command) => (command === "help" ? helpOptions : byName.get(command)?.options),
      everyCommandsOptions,
    );
    out = new Output(flags.boolean("json"), streams);
    if (flags.boolean("version")) {
      out.print(packageJson.version);
      return ExitCode.OK;
    }
    if (name === "help") {
      const topic = positionals[0] === undefined ? undefined : byName.get(positionals[0]);
      if (positionals[0] !== undefined && !topic) throw new UsageError(`unknown command ${JSON.stringify(positionals[0])}`);
      out.print(topic ? commandHelp(topic) : globalHelp(commands));
      return ExitCode.OK;
    }
    const command = name === undefined ? undefined : byName.get(name);
    if (!command) {
      if (flags.boolean("help")) {
        out.print(globalHelp(commands));
        return ExitCode.OK;
      }
      out.note(globalHelp(commands));
      throw new UsageError("expected a command");
    }
    if (flags.boolean("help")) {
      out.print(commandHelp(command));
      return ExitCode.OK;
    }
    return await command.run({
      flags,
      positionals,
      out,
      cwd,
      open: async (overrides = {}) => createDualstore({ ...(await connectionOptions(flags, env, cwd)), ...overrides }),
    });
  } catch (error) {
    return out.fail(error);
  }
}

void runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, process.env, process.cwd()).then((code) => {
  process.exitCode = code;
});
