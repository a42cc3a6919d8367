import { ExitCode, type Output } from "./output.js";

export interface Interrupt {
  /** Aborts on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Removes the handlers (and so restores Node's default: exit at once). */
  dispose(): void;
}

/**
 * Lets a long command stop cleanly: the first SIGINT (Ctrl-C) or SIGTERM aborts `signal`, and
 * the command finishes its current batch, closes the database and exits. A second signal exits
 * at once with code 130, for when waiting is not wanted (the database then misses its clean close).
 */
export function handleInterrupts(out: Output, stopping: string): Interrupt {
  const controller = new AbortController();
  // On a terminal the progress line may be mid-redraw: start the note on a line of its own.
  const lineBreak = out.stderrIsTTY ? "\n" : "";
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      out.note(`${lineBreak}${name} again: exiting now.`);
      process.exit(ExitCode.INTERRUPTED);
    }
    out.note(`${lineBreak}${name}: ${stopping} (press Ctrl-C again to exit at once).`);
    controller.abort(new Error(`received ${name}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
