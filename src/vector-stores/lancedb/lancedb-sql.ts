import type { FilterValue, VectorFilter } from "../filter.js";
import type { VectorMetadata } from "../vector-store.js";

// The SQL predicates LanceDB runs. Values only ever appear inside escaped string literals;
// field names only inside the JSON of a filter term, itself a string literal.

/** One term per (field, value) pair, one per element for a list: what a filter on that field can match. */
export function filterTerms(metadata: VectorMetadata): string[] {
  const terms = new Set<string>();
  for (const [field, value] of Object.entries(metadata)) {
    for (const element of Array.isArray(value) ? value : [value]) terms.add(filterTerm(field, element));
  }
  return [...terms];
}

function filterTerm(field: string, value: FilterValue): string {
  return JSON.stringify([field, value]);
}

export function filterPredicate(filter: VectorFilter): string {
  if ("and" in filter) return `(${filter.and.map(filterPredicate).join(" AND ")})`;
  const values = "eq" in filter ? [filter.eq] : filter.in;
  return `array_has_any(filter_terms, make_array(${values.map((value) => sqlString(filterTerm(filter.field, value))).join(", ")}))`;
}

export function inNamespace(namespace: string): string {
  return `namespace = ${sqlString(namespace)}`;
}

/** A plain prefix test: no LIKE, so `%` and `_` in ids are just characters. */
export function withPrefix(prefix: string): string | undefined {
  return prefix === "" ? undefined : `starts_with(id, ${sqlString(prefix)})`;
}

export function and(...conditions: Array<string | undefined>): string {
  return conditions.filter((condition) => condition !== undefined).join(" AND ");
}

/** A SQL string literal. LanceDB's SQL reads backslashes literally, so doubling the quote is the whole escape. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
