/**
 * Pinecone's metadata filter language: `$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or`,
 * implicit equality (`{ field: value }`), and list-of-strings metadata matching `$eq`/`$in`
 * when any element matches (`$ne`/`$nin` when none does). Invalid filters throw
 * `FilterError`, which the server answers with 400, as Pinecone does.
 */
import { isRecord } from "./fault-server.js";
import type { Metadata, MetadataValue } from "./pinecone-store.js";

export type FilterPredicate = (metadata: Metadata | undefined) => boolean;

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

/** Pinecone's documented cap on values per `$in` / `$nin`. */
export const MAX_IN_VALUES = 10_000;

type Scalar = string | number | boolean;

const matchAll: FilterPredicate = () => true;

function isScalar(value: unknown): value is Scalar {
  return typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function scalarOperand(field: string, operator: string, operand: unknown): Scalar {
  if (!isScalar(operand)) {
    throw new FilterError(
      `Invalid filter: ${operator} for field '${field}' expects a string, number or boolean; got ${describe(operand)}`,
    );
  }
  return operand;
}

function numberOperand(field: string, operator: string, operand: unknown): number {
  if (typeof operand !== "number" || !Number.isFinite(operand)) {
    throw new FilterError(`Invalid filter: ${operator} for field '${field}' expects a number; got ${describe(operand)}`);
  }
  return operand;
}

function listOperand(field: string, operator: string, operand: unknown): Scalar[] {
  if (!Array.isArray(operand) || !operand.every(isScalar)) {
    throw new FilterError(
      `Invalid filter: ${operator} for field '${field}' expects an array of strings, numbers or booleans; got ${describe(operand)}`,
    );
  }
  if (operand.length > MAX_IN_VALUES) {
    throw new FilterError(
      `Invalid filter: ${operator} for field '${field}' has ${operand.length} values; the maximum is ${MAX_IN_VALUES}`,
    );
  }
  return operand;
}

function equals(value: MetadataValue | undefined, operand: Scalar): boolean {
  if (Array.isArray(value)) return value.some((element) => element === operand);
  return value === operand;
}

function within(value: MetadataValue | undefined, operands: readonly Scalar[]): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.some((element) => operands.includes(element));
  return operands.includes(value);
}

function compare(value: MetadataValue | undefined, test: (number: number) => boolean): boolean {
  return typeof value === "number" && test(value);
}

function compileOperator(field: string, operator: string, operand: unknown): FilterPredicate {
  const read = (metadata: Metadata | undefined): MetadataValue | undefined => metadata?.[field];
  switch (operator) {
    case "$eq": {
      const expected = scalarOperand(field, operator, operand);
      return (metadata) => equals(read(metadata), expected);
    }
    case "$ne": {
      const expected = scalarOperand(field, operator, operand);
      // A record without the field is "not equal"; a list matches only if no element is equal.
      return (metadata) => !equals(read(metadata), expected);
    }
    case "$gt": {
      const bound = numberOperand(field, operator, operand);
      return (metadata) => compare(read(metadata), (value) => value > bound);
    }
    case "$gte": {
      const bound = numberOperand(field, operator, operand);
      return (metadata) => compare(read(metadata), (value) => value >= bound);
    }
    case "$lt": {
      const bound = numberOperand(field, operator, operand);
      return (metadata) => compare(read(metadata), (value) => value < bound);
    }
    case "$lte": {
      const bound = numberOperand(field, operator, operand);
      return (metadata) => compare(read(metadata), (value) => value <= bound);
    }
    case "$in": {
      const operands = listOperand(field, operator, operand);
      return (metadata) => within(read(metadata), operands);
    }
    case "$nin": {
      const operands = listOperand(field, operator, operand);
      return (metadata) => !within(read(metadata), operands);
    }
    case "$exists": {
      if (typeof operand !== "boolean") {
        throw new FilterError(`Invalid filter: $exists for field '${field}' expects a boolean; got ${describe(operand)}`);
      }
      return (metadata) => (read(metadata) !== undefined) === operand;
    }
    default:
      throw new FilterError(`Invalid filter: unsupported operator '${operator}' for field '${field}'`);
  }
}

function compileField(field: string, condition: unknown): FilterPredicate {
  if (isScalar(condition)) return compileOperator(field, "$eq", condition);
  if (!isRecord(condition)) {
    throw new FilterError(`Invalid filter: the condition for field '${field}' must be a value or an operator object; got ${describe(condition)}`);
  }
  const entries = Object.entries(condition);
  if (entries.length === 0) throw new FilterError(`Invalid filter: the condition for field '${field}' is empty`);
  const predicates = entries.map(([operator, operand]) => {
    if (!operator.startsWith("$")) {
      throw new FilterError(`Invalid filter: expected an operator for field '${field}'; got '${operator}'`);
    }
    return compileOperator(field, operator, operand);
  });
  return (metadata) => predicates.every((predicate) => predicate(metadata));
}

function compileClauses(operator: "$and" | "$or", clauses: unknown): FilterPredicate[] {
  if (!Array.isArray(clauses) || clauses.length === 0) {
    throw new FilterError(`Invalid filter: ${operator} expects a non-empty array of filters`);
  }
  return clauses.map((clause) => {
    if (!isRecord(clause)) throw new FilterError(`Invalid filter: every ${operator} clause must be an object`);
    return compileObject(clause);
  });
}

function compileObject(filter: Record<string, unknown>): FilterPredicate {
  const predicates = Object.entries(filter).map(([key, value]): FilterPredicate => {
    if (key === "$and") {
      const clauses = compileClauses(key, value);
      return (metadata) => clauses.every((clause) => clause(metadata));
    }
    if (key === "$or") {
      const clauses = compileClauses(key, value);
      return (metadata) => clauses.some((clause) => clause(metadata));
    }
    if (key.startsWith("$")) throw new FilterError(`Invalid filter: unsupported operator '${key}'`);
    return compileField(key, value);
  });
  return (metadata) => predicates.every((predicate) => predicate(metadata));
}

/** Validates a filter and turns it into a predicate; an absent filter matches everything. */
export function compileFilter(filter: unknown): FilterPredicate {
  if (filter === undefined || filter === null) return matchAll;
  if (!isRecord(filter)) throw new FilterError(`Invalid filter: a filter must be an object; got ${describe(filter)}`);
  return compileObject(filter);
}
