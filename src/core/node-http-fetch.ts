import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** A fetch for a provider's SDK, and the connections it keeps open. */
export interface NodeHttpFetch {
  readonly fetch: typeof fetch;
  /** Closes the kept-alive connections. */
  close(): void;
}

/**
 * An SDK's requests over node:http(s) with kept-alive connections, instead of the global fetch
 * (the Pinecone and OpenAI SDKs take a fetch). The global fetch (undici) builds a Request,
 * Headers and web streams for every request, and encodes a string body to a new buffer, checks
 * it and copies it into a stream before writing it: for a 2 MB upsert of dense vectors that
 * cost more CPU than building the body, and for a search's small requests (the query's
 * embedding, the vector query) more than the rest of the request. node:http writes the string
 * or bytes as they are. Behaves as fetch does where an SDK can tell: a network failure rejects with a TypeError
 * whose `cause` is the socket's error, an abort with the signal's reason, and a response is a
 * Response (read whole, as the SDK reads every one).
 */
export function nodeHttpFetch(): NodeHttpFetch {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const send = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const { signal, body } = init;
      if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
        reject(new TypeError("this transport sends string and byte bodies only"));
        return;
      }
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const headers: Record<string, string> = Object.fromEntries(new Headers(init.headers));
      if (body) headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
      const secure = url.protocol === "https:";
      const request = (secure ? httpsRequest : httpRequest)(url, { method: init.method ?? "GET", headers, agent: secure ? agents.https : agents.http });
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", abort);
        reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error }));
      };
      const abort = () => request.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal?.addEventListener("abort", abort, { once: true });
      request.on("error", fail);
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", fail);
        response.on("close", () => {
          if (!response.complete) return fail(new Error("the connection closed before the response ended"));
          if (settled) return;
          settled = true;
          signal?.removeEventListener("abort", abort);
          const status = response.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, item);
          }
          // A Response refuses a body for these statuses.
          const empty = status === 204 || status === 205 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: response.statusMessage ?? "", headers: responseHeaders }));
        });
      });
      request.end(body ?? undefined);
    });
  return {
    fetch: send as typeof fetch,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
