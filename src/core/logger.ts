import { redact } from "./redact.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/** Where dualstore reports what it does. Any object with these four methods works (pino, console, ...). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger that writes one line per event to stderr, from `level` up. */
export function consoleLogger(level: LogLevel = "info"): Logger {
  const write = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (order[at] < order[level]) return;
    const suffix = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
    console.error(`[dualstore] ${at} ${message}${suffix}`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** Wraps a user's logger so that nothing it receives can carry a secret. */
export function redactingLogger(inner: Logger): Logger {
  const clean = (fields?: LogFields): LogFields | undefined =>
    fields === undefined ? undefined : (JSON.parse(redact(JSON.stringify(fields, errorReplacer))) as LogFields);
  return {
    debug: (message, fields) => inner.debug(redact(message), clean(fields)),
    info: (message, fields) => inner.info(redact(message), clean(fields)),
    warn: (message, fields) => inner.warn(redact(message), clean(fields)),
    error: (message, fields) => inner.error(redact(message), clean(fields)),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}
