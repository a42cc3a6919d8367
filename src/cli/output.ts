import { redact } from "../core/redact.js";
import { DualstoreError } from "../errors.js";
import { UsageError } from "./args.js";

/** What the process exit code means; documented in `dualstore --help`. */
export const ExitCode = {
  OK: 0,
  /** The command ran and found problems: reconcile findings left unfixed, a store down, files that failed. */
  PROBLEMS: 1,
  USAGE: 2,
  CONFIGURATION: 3,
  FAILURE: 4,
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface OutputStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

/**
 * Where a command writes. Results go to stdout: lines of text, or with `--json` exactly one
 * JSON document. Progress, notes and errors go to stderr, so stdout stays machine-readable.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly streams: OutputStreams,
  ) {}

  get stderrIsTTY(): boolean {
    return this.streams.stderr.isTTY === true;
  }

  /** The command's result: `value` as JSON with `--json`, else the text lines. */
  result(value: unknown, lines: () => readonly string[]): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else for (const line of lines()) this.streams.stdout.write(`${line}\n`);
  }

  /** A line of text on stdout, whatever the mode (help, version). */
  print(text: string): void {
    this.streams.stdout.write(`${text}\n`);
  }

  /** A note for the person at the terminal, on stderr. */
  note(text: string): void {
    this.streams.stderr.write(`${text}\n`);
  }

  /** Raw text on stderr (progress redraws). */
  writeStderr(text: string): void {
    this.streams.stderr.write(text);
  }

  /** Reports `error` on stderr (and as JSON on stdout with `--json`) and returns the exit code it means. */
  fail(error: unknown): ExitCodeValue {
    const code = exitCodeFor(error);
    const { name, message } = describeError(error);
    if (error instanceof UsageError) {
      this.note(`dualstore: ${message}`);
      this.note(`Run "dualstore ${error.command ? `${error.command} ` : ""}--help" for usage.`);
    } else {
      this.note(`${name}: ${message}`);
    }
    if (this.json) this.streams.stdout.write(`${JSON.stringify({ error: { code: name, message }, exitCode: code }, null, 2)}\n`);
    return code;
  }
}

function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof UsageError) return ExitCode.USAGE;
  if (error instanceof DualstoreError) {
    if (error.code === "CONFIGURATION") return ExitCode.CONFIGURATION;
    if (error.code === "ABORTED") return ExitCode.INTERRUPTED;
  }
  return ExitCode.FAILURE;
}

/** A stable code and a one-line message fit for display: secrets masked, whatever threw. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof UsageError) return { name: "USAGE", message: error.message };
  if (error instanceof DualstoreError) return { name: error.code, message: oneLine(redact(error.message)) };
  const code = typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "ERROR";
  return { name: code, message: oneLine(redact(error instanceof Error ? error.message : String(error))) };
}

/** Some driver messages span several lines with blank ones between; a log line or a status row needs one. */
function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, " ");
}
