import type { z } from "zod";
import { ConfigurationError, ValidationError, type ValidationIssue } from "../errors.js";

/** Parses `input` with `schema`; on failure throws a ValidationError naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(what, toIssues(result.error));
}

export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
}

/**
 * Parses configuration with `schema`; on failure throws a ConfigurationError naming the first bad
 * option under `prefix` and what was expected, never the value (it may be a secret).
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String);
  throw new ConfigurationError(`${(prefix === undefined ? path : [prefix, ...path]).join(".")}: ${issue.message}`);
}
