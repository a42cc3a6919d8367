/**
 * The bench's protocol servers run in a process of their own (so their CPU is not the
 * libraries'); this is how the parent and that process talk: commands with an id over Node's
 * IPC channel, each answered by a reply with the same id, and reply 0, sent unasked, once the
 * servers listen (it carries their endpoints).
 */
import { fork } from "node:child_process";

export type ServerReply = { id: number; result: unknown } | { id: number; error: string };

/** A command before it is given its id (Omit over each member of the union). */
export type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

export interface ServerProcess<Command, Ready> {
  /** What the process sent once its servers listened. */
  readonly ready: Ready;
  ask<T>(request: WithoutId<Command>): Promise<T>;
  /** Sends `{ type: "close" }` and waits for the process to exit (killed after 10 s). */
  close(): Promise<void>;
}

/** Starts `script` (TypeScript, through hooks.ts) and waits for its reply 0. */
export async function forkServerProcess<Command extends { id: number; type: string }, Ready>(
  script: URL,
  options: { name: string; heapMb: number; env?: NodeJS.ProcessEnv },
): Promise<ServerProcess<Command, Ready>> {
  const child = fork(script, [], {
    execArgv: ["--import", new URL("./hooks.ts", import.meta.url).href, `--max-old-space-size=${options.heapMb}`],
    env: options.env ?? process.env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let exited: Error | undefined;
  child.on("message", (reply: ServerReply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if ("error" in reply) pending?.reject(new Error(`${options.name}: ${reply.error}`));
    else pending?.resolve(reply.result);
  });
  child.on("exit", (code, signal) => {
    exited = new Error(`${options.name} exited (${signal ?? code})`);
    for (const pending of waiting.values()) pending.reject(exited);
    waiting.clear();
  });
  let nextId = 1;
  const ask = <T>(request: WithoutId<Command>): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  };
  const ready = await new Promise<Ready>((resolve, reject) => waiting.set(0, { resolve: resolve as (value: unknown) => void, reject }));
  return {
    ready,
    ask,
    async close() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      await ask<void>({ type: "close" } as WithoutId<Command>).catch(() => undefined);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** In the servers' process: answers each command with `handle`'s result, then says it is `ready`. */
export function serveCommands<Command extends { id: number }>(handle: (command: Command) => Promise<unknown>, ready: unknown): void {
  process.on("message", (command: Command) => {
    handle(command).then(
      (result) => process.send!({ id: command.id, result } satisfies ServerReply),
      (error: unknown) => process.send!({ id: command.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies ServerReply),
    );
  });
  process.send!({ id: 0, result: ready } satisfies ServerReply);
}
