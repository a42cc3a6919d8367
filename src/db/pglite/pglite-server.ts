import { rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../../core/logger.js";

/** node-postgres finds a server's socket as `<dir>/.s.PGSQL.<port>`, as libpq does. */
export const SOCKET_PORT = 5432;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': not in a transaction block
const SYNC_MESSAGE = Uint8Array.of(0x53, 0, 0, 0, 4);

export interface PgliteServer {
  /** The directory holding the socket: node-postgres's `host`. */
  readonly socketDir: string;
  /** Stops accepting, ends every session (rolling back an open transaction) and removes the socket. */
  close(): Promise<void>;
}

/**
 * Serves one PGlite instance over the PostgreSQL protocol on a Unix socket in `socketDir` (a
 * private directory: only this user can connect), so other processes can use the database this
 * process holds. PGlite has one backend, so sessions take turns: a session holds the database
 * from its first message until PGlite reports it idle again (ReadyForQuery "I"), so a
 * transaction or an extended-query batch (Parse ... Sync) is never interleaved with another
 * session's statements, nor with this process's own queries, which wait on the same PGlite lock.
 * (@electric-sql/pglite-socket interleaves by message, which breaks concurrent parameterised
 * queries: "unnamed prepared statement does not exist".)
 */
export async function servePglite(pglite: PGlite, socketDir: string, logger: Logger): Promise<PgliteServer> {
  const sessions = new Set<Session>();
  const server: Server = createServer((socket) => {
    const session = new Session(pglite, socket, logger);
    sessions.add(session);
    void session.finished.then(() => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(join(socketDir, `.s.PGSQL.${SOCKET_PORT}`), () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    socketDir,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...sessions].map((session) => session.end()));
        await stopped;
        await rm(socketDir, { recursive: true, force: true });
      })()),
  };
}

/** One client connection: frames its messages and runs them on PGlite in turn. */
class Session {
  private buffer: Buffer = Buffer.alloc(0);
  private startup = true;
  /** Runs this session's messages one after another. */
  private work: Promise<void> = Promise.resolve();
  /** Releases PGlite's transaction lock while this session holds it. */
  private release: (() => void) | undefined;
  private ended = false;
  readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly pglite: PGlite,
    private readonly socket: Socket,
    private readonly logger: Logger,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("close", () => void this.end());
    socket.on("error", () => void this.end());
  }

  /** Ends the session after the message running now: an unfinished batch or transaction is rolled back. */
  end(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.socket.destroy();
      this.work = this.work.then(() => this.abandon()).finally(() => this.finish());
    }
    return this.finished;
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = this.nextFrame();
      if (frame === undefined) return;
      this.work = this.work.then(() => this.handle(frame));
    }
  }

  /** The next complete message, or undefined until more bytes arrive. Startup-phase messages have no type byte. */
  private nextFrame(): Buffer | undefined {
    const headerLength = this.startup ? 0 : 1;
    if (this.buffer.length < headerLength + 4) return undefined;
    const length = headerLength + this.buffer.readInt32BE(headerLength);
    if (this.buffer.length < length) return undefined;
    const frame = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    if (this.startup) {
      const code = frame.readInt32BE(4);
      // Encryption requests are answered "no" and followed by another startup-phase message.
      this.startup = code === SSL_REQUEST || code === GSSENC_REQUEST;
    }
    return frame;
  }

  private async handle(frame: Buffer): Promise<void> {
    if (this.ended) return;
    if (frame.length === 8 && [SSL_REQUEST, GSSENC_REQUEST].includes(frame.readInt32BE(4))) {
      this.socket.write("N");
      return;
    }
    // PGlite has no backend to cancel; Terminate ends the session without reaching PGlite.
    // (Not awaited: end() runs after the message in progress, which is this one.)
    if ((frame.length === 16 && frame.readInt32BE(4) === CANCEL_REQUEST) || frame[0] === TERMINATE) {
      void this.end();
      return;
    }
    this.release ??= await holdPglite(this.pglite);
    try {
      const status = await this.run(frame, (data) => this.socket.write(data));
      if (status === IDLE) this.releaseLock();
    } catch (error) {
      this.logger.warn("a shared PGlite session failed; closing it", { error });
      void this.end();
    }
  }

  /** Runs one message; returns the status of the last ReadyForQuery in its response, if any. */
  private async run(message: Uint8Array, write: (data: Buffer) => void): Promise<number | undefined> {
    const scanner = new ReadyForQueryScanner();
    await this.pglite.runExclusive(() =>
      this.pglite.execProtocolRawStream(message, {
        onRawData: (data) => {
          // PGlite hands out a view of its own memory: copy before it is reused.
          const copy = Buffer.from(data);
          scanner.feed(copy);
          if (!this.ended) write(copy);
        },
      }),
    );
    return scanner.status;
  }

  /** After a disconnect: ends a half-sent batch and rolls back an open transaction, then lets others in. */
  private async abandon(): Promise<void> {
    if (!this.release) return;
    try {
      if ((await this.run(SYNC_MESSAGE, () => {})) !== IDLE) await this.run(simpleQuery("ROLLBACK"), () => {});
    } catch (error) {
      this.logger.warn("could not roll back a disconnected PGlite session", { error });
    } finally {
      this.releaseLock();
    }
  }

  private releaseLock(): void {
    this.release?.();
    this.release = undefined;
  }
}

/**
 * Takes PGlite's transaction lock, the one its own query(), exec() and transaction() take, and
 * keeps it until the returned function is called. (PGlite exposes it as _runExclusiveTransaction.)
 */
function holdPglite(pglite: PGlite): Promise<() => void> {
  return new Promise((granted) => {
    void pglite._runExclusiveTransaction(() => new Promise<void>((release) => granted(release)));
  });
}

/** Finds ReadyForQuery messages in a backend byte stream, across chunk boundaries. */
class ReadyForQueryScanner {
  status: number | undefined;
  private readonly header = Buffer.alloc(5);
  private headerFilled = 0;
  private type = 0;
  private remaining = 0;

  feed(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      if (this.remaining === 0) {
        this.header[this.headerFilled++] = data[offset++]!;
        if (this.headerFilled === 5) {
          this.headerFilled = 0;
          this.type = this.header[0]!;
          this.remaining = this.header.readInt32BE(1) - 4;
        }
        continue;
      }
      if (this.type === READY_FOR_QUERY) this.status = data[offset];
      const taken = Math.min(this.remaining, data.length - offset);
      offset += taken;
      this.remaining -= taken;
    }
  }
}

function simpleQuery(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}
