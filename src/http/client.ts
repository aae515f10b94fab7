/**
 * HTTP/1.1 requests to one origin over `node:http`/`node:https`, through a keep-alive agent of
 * the client's own. Not `fetch`, on purpose: undici (Node's fetch, or the npm package) parses HTTP
 * with a WebAssembly build of llhttp whose compiled code and memory stay resident, tens of MiB
 * of the operator's idle RSS (bench/FINDINGS.md); `node:http` uses the parser built into `node`.
 */
import type http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

// Not `import … from 'node:http'`: building the ES module namespace of node:http reads every
// export, and its lazy `WebSocket` getter loads all of Node's bundled undici (+13 MiB of RSS).
const { Agent: HttpAgent, request: httpRequest } = process.getBuiltinModule('node:http');

/** TLS settings of the connections (https only). */
export interface HttpTls {
  /** PEM of the CA(s) to trust; Node's bundled roots when absent. */
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /** Name to send (SNI) and to verify the server's certificate against, instead of the URL's host. */
  servername?: string | undefined;
  /** false: accept any server certificate. */
  rejectUnauthorized?: boolean | undefined;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /**
   * Aborting it fails the request, or the reading of its body, with `signal.reason` and closes
   * the connection (HTTP/1.1 has no other way to cancel a request).
   */
  signal?: AbortSignal | undefined;
}

/** An answer whose headers have arrived; the body is read through `body` or `text()`, not both. */
export interface HttpAnswer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: http.IncomingHttpHeaders;
  /** The body as it arrives (a watch stream). Destroying it closes the connection. */
  readonly body: Readable;
  /** The whole body as UTF-8. */
  text(): Promise<string>;
}

/** Sends one request; rejects only when no answer arrived (connection failure or abort). */
export type HttpSend = (request: HttpRequest) => Promise<HttpAnswer>;

export interface HttpClient {
  send: HttpSend;
  /** Destroys every connection, idle or busy: requests in flight fail. */
  close(): void;
}

/**
 * A pooled connection idle this long is closed, as undici does by default, so a process at rest
 * holds no connections it does not use. The agent acts on the timeout of idle sockets only: a
 * quiet watch stays open.
 */
const IDLE_CLOSE_MS = 4_000;

/** A client for requests to `origin` (only its protocol matters: `https:` or `http:`). */
export function createHttpClient(origin: string, tls: HttpTls = {}): HttpClient {
  const secure = new URL(origin).protocol === 'https:';
  const pool = { keepAlive: true, timeout: IDLE_CLOSE_MS };
  const agent = secure ? new https.Agent({ ...pool, ...definedOnly(tls) }) : new HttpAgent(pool);
  const request = secure ? https.request : httpRequest;

  function send(options: HttpRequest): Promise<HttpAnswer> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const headers = { ...options.headers };
      if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
      const req = request(options.url, { method: options.method, headers, agent });
      let res: http.IncomingMessage | undefined;
      const onAbort = (): void => {
        const reason: unknown = signal?.reason;
        // Destroying the response (not yet complete) destroys its socket too.
        if (res) res.destroy(reason as Error);
        else req.destroy(reason as Error);
        reject(reason);
      };
      const settled = (): void => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Kept for the request's whole life: a socket error after the answer is emitted here too.
      req.on('error', (error) => {
        settled();
        reject(error);
      });
      req.on('response', (response) => {
        res = response;
        response.on('close', settled);
        resolve(answerOf(response));
      });
      req.end(options.body);
    });
  }

  return { send, close: () => agent.destroy() };
}

function answerOf(response: http.IncomingMessage): HttpAnswer {
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    body: response,
    async text() {
      response.setEncoding('utf8');
      let text = '';
      for await (const chunk of response) text += chunk as string;
      return text;
    },
  };
}

function definedOnly(tls: HttpTls): https.AgentOptions {
  return Object.fromEntries(Object.entries(tls).filter(([, value]) => value !== undefined));
}
