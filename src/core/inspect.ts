/**
 * `util.inspect()` (and console.log) of dualstore's public objects. Their fields hold clients
 * whose own fields hold secrets (node-postgres keeps the connection string, password included;
 * the OpenAI SDK keeps its API key), so each shows a summary of safe facts instead.
 */
const inspectCustom = Symbol.for("nodejs.util.inspect.custom");

type InspectFunction = (value: unknown, options: unknown) => string;

/** Makes `util.inspect(target)` print `<name> <summary>`; `summary` must hold no secret. */
export function showAs<T extends object>(target: T, name: string, summary: () => Record<string, unknown>): T {
  Object.defineProperty(target, inspectCustom, {
    value: (_depth: number, options: unknown, inspect: InspectFunction) => `${name} ${inspect(summary(), options)}`,
    enumerable: false,
    configurable: true,
  });
  return target;
}
