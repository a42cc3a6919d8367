import { ValidationError } from "../errors.js";

export type FilterValue = string | number | boolean;

/**
 * The one metadata filter language every vector store understands. For list-valued metadata
 * (tags) `eq` matches when any element equals the value and `in` when any element is in the set,
 * as Pinecone defines it. Stores translate it to their own syntax, always with the values as
 * parameters or escaped literals; callers never pass raw filter strings.
 */
export type VectorFilter =
  | { readonly field: string; readonly eq: FilterValue }
  | { readonly field: string; readonly in: readonly FilterValue[] }
  | { readonly and: readonly VectorFilter[] };

export const eq = (field: string, value: FilterValue): VectorFilter => ({ field, eq: value });
export const inList = (field: string, values: readonly FilterValue[]): VectorFilter => ({ field, in: values });
export const and = (...filters: Array<VectorFilter | undefined>): VectorFilter | undefined => {
  const present = filters.filter((f): f is VectorFilter => f !== undefined);
  return present.length === 0 ? undefined : present.length === 1 ? present[0] : { and: present };
};

/** Field names a filter may use: identifiers and dotted paths only, so no store can be injected into. */
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

/** Throws a ValidationError for a malformed filter (bad field name, empty `in`, wrong value type). */
export function checkFilter(filter: VectorFilter, path = "filter"): void {
  const fail = (message: string) => {
    throw new ValidationError("vector filter", [{ path, message }]);
  };
  if ("and" in filter) {
    if (!Array.isArray(filter.and) || filter.and.length === 0) fail("`and` needs at least one filter");
    filter.and.forEach((inner, i) => checkFilter(inner, `${path}.and.${i}`));
    return;
  }
  if (typeof filter.field !== "string" || !FIELD.test(filter.field)) fail(`invalid field name ${JSON.stringify(filter.field)}`);
  const values = "eq" in filter ? [filter.eq] : filter.in;
  if (!Array.isArray(values) || values.length === 0) fail("`in` needs at least one value");
  for (const value of values) {
    const ok = typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
    if (!ok) fail(`unsupported value ${JSON.stringify(value)}`);
  }
}

/** Evaluates a filter against one record's metadata (the reference semantics the contract suite checks every store against). */
export function matchesFilter(metadata: Readonly<Record<string, unknown>>, filter: VectorFilter): boolean {
  if ("and" in filter) return filter.and.every((inner) => matchesFilter(metadata, inner));
  const stored = metadata[filter.field];
  const wanted = "eq" in filter ? [filter.eq] : filter.in;
  const values = Array.isArray(stored) ? stored : stored === undefined ? [] : [stored];
  return values.some((value) => wanted.includes(value as FilterValue));
}
