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

/** Deepest nesting accepted in a JSON value (an object or array inside another counts one level). */
export const MAX_JSON_DEPTH = 64;

/**
 * Checks a JSON value without recursion before the recursive schema sees it: 10,000 nested
 * arrays would otherwise overflow the stack. A `__proto__` key is refused, not dropped: a plain
 * object cannot hold it as data (assigning it sets the prototype), so it would silently vanish.
 */
function checkJsonShape(value: unknown, ctx: z.RefinementCtx): void {
  const pending: Array<{ node: unknown; depth: number; path: PropertyKey[] }> = [{ node: value, depth: 0, path: [] }];
  while (pending.length > 0) {
    const { node, depth, path } = pending.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      // Named at its top-level key: the full path would be as deep as the nesting.
      ctx.addIssue({ code: "custom", path: path.slice(0, 1), message: `nests deeper than ${MAX_JSON_DEPTH} levels` });
      return;
    }
    for (const key of Object.keys(node)) {
      if (key === "__proto__") {
        ctx.addIssue({ code: "custom", path: [...path, key], message: "the key '__proto__' is not accepted: a JavaScript object cannot hold it as data" });
        return;
      }
      pending.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1, path: [...path, key] });
    }
  }
}

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

/** A JSON object with bounded nesting, as the metadata columns take it. */
export const jsonObject = z
  .unknown()
  .superRefine(checkJsonShape)
  .pipe(z.record(text({ max: 200 }), jsonValue));

/** Tags: short labels, deduplicated, order kept. */
export const tags = z
  .array(text({ min: 1, max: 100 }))
  .max(100)
  .transform((values) => [...new Set(values)]);

/**
 * The instants a timestamp column holds and reads back as the same Date: years 1 to 9999.
 * PostgreSQL stores more (4713 BC to 294276 AD), but the drivers parse only four-digit years.
 */
export const EARLIEST_DATE = new Date("0001-01-01T00:00:00.000Z");
export const LATEST_DATE = new Date("9999-12-31T23:59:59.999Z");

export function storableDate(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST_DATE.getTime() && time <= LATEST_DATE.getTime();
}

/** A Date, an ISO string or epoch milliseconds, within what the columns store. */
export const dateInput = z
  .union([z.date(), z.string().min(1).max(100), z.number()], { error: "must be a Date, an ISO date string or epoch milliseconds" })
  .pipe(z.coerce.date())
  .refine((d) => !Number.isNaN(d.getTime()), { message: "must be a valid date" })
  .refine(storableDate, { message: "must be between the years 1 and 9999" });

/** An AbortSignal, as every long call takes one. */
export const abortSignal = z.instanceof(AbortSignal, { message: "must be an AbortSignal" });

/** A function the caller passes (a progress callback, a loader). */
export const callback = z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", { message: "must be a function" });
