/**
 * Counts and times every statement node-postgres sends, by wrapping `Client.prototype.query`
 * (which pg.Pool and @prisma/adapter-pg both go through). Used the same way for both libraries,
 * so their SQL figures are measured at the same place, independently of any library's own
 * instrumentation.
 */

type Query = (this: unknown, ...args: unknown[]) => unknown;

export interface SqlCounter {
  count: number;
  ms: number;
}

export function countPgQueries(client: { prototype: object }): SqlCounter {
  const counter: SqlCounter = { count: 0, ms: 0 };
  const prototype = client.prototype as { query: Query };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    counter.count++;
    const started = performance.now();
    const done = () => void (counter.ms += performance.now() - started);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (...results: unknown[]) => {
        done();
        return (callback as (...results: unknown[]) => unknown)(...results);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result instanceof Promise) result.then(done, done);
    else done();
    return result;
  };
  return counter;
}
