import { z } from "zod";

/**
 * Field rules shared by every repository. Text must be storable as PostgreSQL text exactly as
 * given: no NUL characters (PostgreSQL refuses them) and no unpaired UTF-16 surrogates (the
 * driver would silently store U+FFFD instead, so what was read back would differ).
 */
export function text(options: { min?: number; max?: number } = {}) {
  return z
    .string()
    .min(options.min ?? 0)
    .max(options.max ?? Number.MAX_SAFE_INTEGER)
    .refine((value) => !value.includes("\u0000"), { message: "must not contain NUL (\\u0000) characters" })
    .refine((value) => value.isWellFormed(), { message: "must be well-formed UTF-16 (found an unpaired surrogate)" });
}

export const id = text({ min: 1, max: 200 });

/** A list of ids, as bulk operations take them. */
export const idList = z.array(id).max(1_000_000);

/**
 * A JSON value dualstore accepts for a Json column: finite numbers, strings PostgreSQL's jsonb can
 * store, plain objects and arrays (reads come back as the models' JsonValue).
 */
export type JsonInput = string | number | boolean | null | JsonInput[] | { [key: string]: JsonInput };

export const jsonValue: z.ZodType<JsonInput> = z.lazy(() =>
  z.union([
    text(),
    z.number().refine(Number.isFinite, { message: "must be a finite number" }),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(text(), jsonValue),
  ]),
);

/** Tags: short labels, deduplicated, order kept. */
export const tags = z
  .array(text({ min: 1, max: 100 }))
  .max(100)
  .transform((values) => [...new Set(values)]);

export const dateInput = z.coerce.date().refine((d) => !Number.isNaN(d.getTime()), { message: "must be a valid date" });
