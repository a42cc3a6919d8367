import type { IngestProgress } from "../ingest/ingest-files.js";
import type { Output } from "./output.js";

const BAR_WIDTH = 24;
/** Fewest milliseconds between two redraws on a terminal: enough to look live, not enough to flicker. */
const REDRAW_MS = 100;

/**
 * Shows ingestion progress on stderr. On a terminal the line is redrawn in place (one line per
 * phase stays on screen); anywhere else (a pipe, a log file, CI) every update is its own line,
 * so a log shows one line per batch.
 */
export class ProgressDisplay {
  private shown: IngestProgress | undefined;
  private latest: IngestProgress | undefined;
  private lastDrawAt = 0;

  constructor(private readonly out: Output) {}

  update(progress: IngestProgress): void {
    if (!this.out.stderrIsTTY) {
      this.out.note(formatProgress(progress));
      return;
    }
    if (this.latest && this.latest.phase !== progress.phase) this.endLine();
    this.latest = progress;
    const phaseDone = progress.phase !== "scan" && progress.done >= progress.total;
    if (phaseDone || performance.now() - this.lastDrawAt >= REDRAW_MS) this.draw(progress);
  }

  /** Leaves the last state on screen and moves below it. */
  finish(): void {
    if (this.out.stderrIsTTY && this.latest) this.endLine();
  }

  private draw(progress: IngestProgress): void {
    this.out.writeStderr(`\r\x1b[2K${formatProgress(progress)}`);
    this.shown = progress;
    this.lastDrawAt = performance.now();
  }

  private endLine(): void {
    if (this.latest && this.shown !== this.latest) this.draw(this.latest);
    this.out.writeStderr("\n");
    this.latest = undefined;
    this.shown = undefined;
  }
}

function formatProgress(progress: IngestProgress): string {
  const { phase, done, total } = progress;
  if (phase === "scan") return `scan   ${count(done)} files found`;
  const unit = phase === "store" ? "files" : "docs";
  const parts = [`${phase.padEnd(6)} ${bar(done, total)} ${count(done)}/${count(total)} ${unit}`];
  if (phase === "index") parts.push(`${count(progress.chunks)} chunks`, `${count(progress.embedded)} embedded`);
  parts.push(`${progress.rate.toFixed(1)} ${unit}/s`, `ETA ${duration(progress.etaMs)}`);
  return parts.join("  ");
}

function bar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
}

export function count(value: number): string {
  return value.toLocaleString("en-US");
}

/** "4s", "2m05s", "1h02m", or "?" while unknown. */
function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "?";
  const seconds = Math.max(0, Math.round(ms / 1_000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
