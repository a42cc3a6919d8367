import { checkFilter, type FilterValue, type VectorFilter } from "../filter.js";

/**
 * Translates a filter into a parameterised condition on the jsonb `metadata` column. Field
 * names and values both travel as parameters; the SQL text holds only placeholders. Each test
 * is a containment (`@>`) so a GIN index on metadata serves it; the second form matches a value
 * inside a list (tags).
 */
export function filterToSql(filter: VectorFilter, params: unknown[]): string {
  checkFilter(filter);
  if ("and" in filter) return `(${filter.and.map((inner) => filterToSql(inner, params)).join(" AND ")})`;
  const values: readonly FilterValue[] = "eq" in filter ? [filter.eq] : filter.in;
  params.push(filter.field);
  const field = `$${params.length}::text`;
  const tests = values.map((value) => {
    params.push(JSON.stringify(value));
    const json = `$${params.length}::jsonb`;
    return `metadata @> jsonb_build_object(${field}, ${json}) OR metadata @> jsonb_build_object(${field}, jsonb_build_array(${json}))`;
  });
  return `(${tests.join(" OR ")})`;
}
