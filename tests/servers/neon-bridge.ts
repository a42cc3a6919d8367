// A local stand-in for Neon's wsproxy: a WebSocket server that tunnels each connection's binary
// frames to a TCP socket on a real PostgreSQL, so Neon's serverless driver (and
// @prisma/adapter-neon over it) can be tested without Neon.
//
// @neondatabase/serverless 1.x opens `ws://` + wsProxy(host, port) when `wsProxy` is a function
// (and `ws://<wsProxy>?address=<host>:<port>` when it is a string), using Node 22's global
// WebSocket. The address the driver asks for is recorded but not honoured: every tunnel goes to
// the configured target, whatever host the connection string names.

import { createServer, type IncomingMessage } from "node:http";
import { createConnection, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";

export interface NeonBridgeOptions {
  /** PostgreSQL host every tunnel connects to. Default `127.0.0.1`. */
  targetHost?: string;
  /** PostgreSQL port every tunnel connects to. Default `5432`. */
  targetPort?: number;
}

/** The `neonConfig` settings that send Neon's driver through the bridge (plain ws://, no TLS, no pipelining). */
export interface NeonBridgeSettings {
  wsProxy: (host: string, port: number | string) => string;
  useSecureWebSocket: false;
  pipelineTLS: false;
  pipelineConnect: false;
}

export interface NeonBridge {
  /** The port the bridge listens on, on 127.0.0.1. */
  readonly port: number;
  /** `neonConfig.wsProxy` for this bridge: `127.0.0.1:<port>/v2?address=<host>:<port>`. */
  readonly wsProxy: NeonBridgeSettings["wsProxy"];
  /** Everything to apply to `neonConfig` (or pass as dualstore's `database.neon`). */
  readonly neonSettings: NeonBridgeSettings;
  /** WebSocket connections accepted since the bridge started. */
  readonly connections: number;
  /** Tunnels open right now. */
  readonly openConnections: number;
  /** The `address` each connection asked for (`host:port`, as the driver sent it), in order. */
  readonly requestedAddresses: readonly string[];
  /** Terminates every tunnel and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Above this many bytes queued towards the WebSocket client, reading from PostgreSQL pauses. */
const HIGH_WATER_MARK = 1024 * 1024;

export async function startNeonBridge(options: NeonBridgeOptions = {}): Promise<NeonBridge> {
  const targetHost = options.targetHost ?? "127.0.0.1";
  const targetPort = options.targetPort ?? 5432;
  const tunnels = new Set<{ ws: WebSocket; tcp: Socket }>();
  const requestedAddresses: string[] = [];
  let accepted = 0;

  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http = createServer((_request, response) => {
    response.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" });
    response.end("WebSocket upgrade required\n");
  });
  http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      const address = new URL(request.url ?? "/", "ws://bridge").searchParams.get("address");
      requestedAddresses.push(address ?? "");
      accepted += 1;
      tunnel(ws);
    });
  });

  function tunnel(ws: WebSocket): void {
    const tcp = createConnection({ host: targetHost, port: targetPort });
    tcp.setNoDelay(true);
    const entry = { ws, tcp };
    tunnels.add(entry);

    // Frames that arrive before the TCP connection is up are queued by the socket itself.
    ws.on("message", (data: RawData) => {
      if (!tcp.write(toBuffer(data))) ws.pause();
    });
    tcp.on("drain", () => ws.resume());

    tcp.on("data", (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(chunk, { binary: true }, () => {
        if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER_MARK) tcp.resume();
      });
      if (ws.bufferedAmount >= HIGH_WATER_MARK) tcp.pause();
    });

    // Either side ending ends the other: a client's close half-closes towards PostgreSQL (so a
    // Terminate message already written still arrives); PostgreSQL going away closes the client.
    ws.on("close", () => {
      tunnels.delete(entry);
      tcp.end();
    });
    ws.on("error", () => tcp.destroy());
    tcp.on("error", () => ws.terminate());
    tcp.on("close", () => {
      tunnels.delete(entry);
      if (ws.readyState === ws.OPEN) ws.close(1000, "upstream closed");
      else if (ws.readyState === ws.CONNECTING) ws.terminate();
    });
  }

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(0, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const bound = http.address();
  if (bound === null || typeof bound === "string") throw new Error("neon bridge: no TCP address after listen");
  const port = bound.port;

  const wsProxy = (host: string, requestedPort: number | string): string =>
    `127.0.0.1:${port}/v2?address=${encodeURIComponent(`${host}:${requestedPort}`)}`;

  let closing: Promise<void> | undefined;
  return {
    port,
    wsProxy,
    neonSettings: { wsProxy, useSecureWebSocket: false, pipelineTLS: false, pipelineConnect: false },
    get connections() {
      return accepted;
    },
    get openConnections() {
      return tunnels.size;
    },
    requestedAddresses,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const { ws, tcp } of tunnels) {
          ws.terminate();
          tcp.destroy();
        }
        tunnels.clear();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
