/**
 * The one HTTP edge to the API server: plain JSON requests, watches and Lease calls, all over one
 * keep-alive connection pool set up with the connection's TLS material, and authenticated per
 * request (tokens rotate). A thin layer of our own (rather than generated clients) keeps every request
 * explicit, so "no write when nothing changed" is visible in the code.
 */
import { type HttpAnswer, createHttpClient } from '../http/client.ts';
import type { KubeConnection } from './connection.ts';
import { KubeApiError, KubeConnectionError, type KubeStatusBody } from './errors.ts';

export {
  KubeApiError,
  KubeConnectionError,
  type KubeStatusBody,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
} from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Accept header; default `application/json`. */
  accept?: string;
  /** Overrides the client's user agent for this request. */
  userAgent?: string;
  signal?: AbortSignal;
}

export interface KubeRest {
  /** The API server's base URL. */
  readonly server: string;
  /** A JSON request; a non-2xx answer throws `KubeApiError`. */
  request<T>(method: HttpMethod, path: string, options?: RequestOptions): Promise<T>;
  /** A raw streaming GET (watches); a non-2xx answer throws `KubeApiError`. */
  stream(path: string, options: RequestOptions): Promise<HttpAnswer>;
  /**
   * A GET whose answer is returned whatever its status, without a deadline of its own (the
   * caller's signal ends it). Only a failure to reach the server throws (`KubeConnectionError`).
   */
  send(path: string, options: RequestOptions): Promise<HttpAnswer>;
  /** Closes the pooled connections; requests still in flight fail (call it last, on shutdown). */
  close(): Promise<void>;
}

export interface RestOptions {
  /** Per-request deadline for non-streaming calls. */
  timeoutMs?: number;
  userAgent?: string;
}

function buildUrl(server: string, path: string, query: RequestOptions['query']): string {
  const url = new URL(server + path);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

const ok = (answer: HttpAnswer): boolean => answer.status >= 200 && answer.status < 300;

export function createKubeRest(connection: KubeConnection, options: RestOptions = {}): KubeRest {
  const { server, tls, credentials } = connection;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const userAgent = options.userAgent ?? 'tenant-operator';
  const http = createHttpClient(server, {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername: tls.serverName,
    rejectUnauthorized: !tls.insecureSkipTlsVerify,
  });

  async function send(method: HttpMethod, path: string, opts: RequestOptions, deadline: boolean) {
    const url = buildUrl(server, path, opts.query);
    const headers: Record<string, string> = {
      accept: opts.accept ?? 'application/json',
      'user-agent': opts.userAgent ?? userAgent,
    };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const signals = [opts.signal, deadline ? AbortSignal.timeout(timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    let response: HttpAnswer;
    try {
      const authorization = await credentials.authorization();
      if (authorization) headers.authorization = authorization;
      response = await http.send({
        method,
        url,
        headers,
        body,
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      throw new KubeConnectionError(server, path, error);
    }
    // Rotated token, expired exec credential: read it afresh for the next request.
    if (response.status === 401) credentials.invalidate();
    return response;
  }

  async function failure(method: string, path: string, response: HttpAnswer): Promise<KubeApiError> {
    const text = await response.text().catch(() => '');
    let body: KubeStatusBody | undefined;
    try {
      body = JSON.parse(text) as KubeStatusBody;
    } catch {
      body = { message: text.slice(0, 300) || `HTTP ${response.status}` };
    }
    return new KubeApiError({ method, path, status: response.status, body });
  }

  return {
    server,
    async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}) {
      const response = await send(method, path, opts, true);
      if (!ok(response)) throw await failure(method, path, response);
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stream(path: string, opts: RequestOptions) {
      const response = await send('GET', path, opts, false);
      if (!ok(response)) throw await failure('GET', path, response);
      return response;
    },
    send: (path, opts) => send('GET', path, opts, false),
    close: async () => http.close(),
  };
}
