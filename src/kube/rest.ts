/**
 * The one HTTP edge to the API server: plain JSON requests authenticated by the KubeConfig.
 * A thin layer of our own (rather than the generated clients) keeps every request explicit, so
 * "no write when nothing changed" is visible in the code.
 */
import { type HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { type Response, fetch } from 'undici';
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

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Accept header; default `application/json`. */
  accept?: string;
  signal?: AbortSignal;
}

export interface KubeRest {
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options?: RequestOptions,
  ): Promise<T>;
  /** A raw streaming GET (watches). */
  stream(path: string, options: RequestOptions): Promise<Response>;
}

export interface RestOptions {
  /** Per-request deadline for non-streaming calls. */
  timeoutMs?: number;
  userAgent?: string;
}

function buildUrl(server: string, path: string, query: RequestOptions['query']): string {
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

export function createKubeRest(kc: KubeConfig, options: RestOptions = {}): KubeRest {
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new Error('the kubeconfig has no current cluster: set a current-context that names a cluster');
  const server = cluster.server;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const userAgent = options.userAgent ?? 'tenant-operator';

  // client-node builds a new undici Agent (so a new TLS connection) for every request; keeping the
  // first one lets requests share connections. Headers are still computed per request (tokens rotate).
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;

  async function send(method: string, path: string, opts: RequestOptions, streaming: boolean) {
    const url = buildUrl(server, path, opts.query);
    const ctx = new RequestContext(url, method as HttpMethod);
    await kc.applySecurityAuthentication(ctx);
    dispatcher ??= ctx.getDispatcher();
    const headers: Record<string, string> = {
      ...ctx.getHeaders(),
      accept: opts.accept ?? 'application/json',
      'user-agent': userAgent,
    };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const signals = [opts.signal, streaming ? undefined : AbortSignal.timeout(timeoutMs)].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    try {
      return await fetch(url, {
        method,
        headers,
        body,
        dispatcher: dispatcher as never,
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      throw new KubeConnectionError(server, path, error);
    }
  }

  async function failure(method: string, path: string, response: Response): Promise<KubeApiError> {
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
    async request<T>(
      method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      path: string,
      opts: RequestOptions = {},
    ) {
      const response = await send(method, path, opts, false);
      if (!response.ok) throw await failure(method, path, response);
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stream(path: string, opts: RequestOptions) {
      const response = await send('GET', path, opts, true);
      if (!response.ok) throw await failure('GET', path, response);
      return response;
    },
  };
}
