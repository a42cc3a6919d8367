import type { z } from "zod";
import { ConfigurationError, ValidationError, type ValidationIssue } from "../errors.js";
import { nearest } from "./nearest.js";

/**
 * Keys a type declares that its strict schema lacks. `Covered<Unchecked<Options, typeof schema>>`
 * compiles only when there are none: an option added to a type alone would be refused at run
 * time as unknown, so it fails the build instead.
 */
export type Unchecked<Declared, Schema extends z.ZodType> = Exclude<keyof Declared, keyof NonNullable<z.input<Schema>>>;
export type Covered<Missing extends never> = Missing;

/** Parses `input` with `schema`; on failure throws a ValidationError naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input, { error: unknownKeysMessage("field") });
  if (result.success) return result.data;
  throw new ValidationError(what, toIssues(result.error));
}

/**
 * zod's issues as dualstore's: an unknown key is reported at its own path (`database.databse`),
 * so `fields` names it, not the object around it.
 */
export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys" && issue.keys.length > 0) path.push(issue.keys[0]!);
    return { path: path.join("."), message: issue.message };
  });
}

/**
 * Parses configuration with `schema`; on failure throws a ConfigurationError naming the first bad
 * option under `prefix` and what was expected, never the value (it may be a secret).
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, prefix?: string): z.output<S> {
  const result = schema.safeParse(input, { error: unknownKeysMessage("option") });
  if (result.success) return result.data;
  const [issue] = toIssues(result.error);
  const option = [prefix, issue!.path].filter(Boolean).join(".");
  throw new ConfigurationError(`${option || "(options)"}: ${issue!.message}`, { option });
}

interface UnknownKeysIssue {
  readonly code: string;
  readonly keys?: readonly string[];
  readonly inst?: unknown;
}

/**
 * A per-parse zod error map: a strict object's unknown key is named, with the nearest key the
 * object knows ("unknown option 'databse' (did you mean 'database'?)"): a misspelled option
 * must never be ignored, and the fix should be one glance away.
 */
export function unknownKeysMessage(noun: "field" | "option") {
  return (issue: UnknownKeysIssue): string | undefined => {
    if (issue.code !== "unrecognized_keys" || !issue.keys?.length) return undefined;
    const known = knownKeys(issue.inst);
    return issue.keys
      .map((key) => {
        const suggestion = nearest(key, known);
        return `unknown ${noun} '${key}'${suggestion === undefined ? "" : ` (did you mean '${suggestion}'?)`}`;
      })
      .join("; ");
  };
}

/** The keys a zod object schema declares (the schema that raised the issue). */
function knownKeys(schema: unknown): string[] {
  const shape = (schema as { shape?: unknown } | undefined)?.shape;
  return typeof shape === "object" && shape !== null ? Object.keys(shape) : [];
}
