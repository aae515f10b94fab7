/**
 * `WatchSource` for one API collection, spoken over HTTP with the
 * credentials, TLS settings and proxy of a client-node `KubeConfig`.
 *
 * We do not use client-node's `Watch`/`ListWatch`: `ListWatch` stops on any
 * error but 410, and `Watch` aborts a stream after 30 s without data (its
 * private `requestTimeoutMs`), which a quiet collection with minute-spaced
 * bookmarks trips all the time. Here a stream lives until the server's
 * `timeoutSeconds` (randomised 5–10 min, as client-go does), the informer's
 * watchdog, or the caller's abort; aborting destroys the request's own
 * connection pool, so the socket is closed at once.
 */
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig, ResponseContext } from '@kubernetes/client-node';
import { ResourceVersionExpiredError, isResourceVersionExpired } from '../runtime/informer-source.ts';
import type { InformerObject, ListResult, WatchEventType, WatchSource } from '../runtime/informer-source.ts';
import { KubeApiError, KubeConnectionError, type KubeStatusBody } from './errors.ts';

export { KubeApiError, KubeConnectionError } from './errors.ts';

export { ResourceVersionExpiredError } from '../runtime/informer-source.ts';

export interface KubeWatchSourceOptions {
  kubeConfig: KubeConfig;
  /**
   * Collection path: `/apis/neurallog.io/v1/tenants`, `/api/v1/namespaces`,
   * `/apis/apps/v1/deployments` (all namespaces), …
   */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page (`limit`); 0 lists in one response. Default 500. */
  pageSize?: number;
  /** Server-side watch timeout is drawn from [min, 2·min) seconds. Default 300. */
  minWatchTimeoutSeconds?: number;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
  userAgent?: string;
  /**
   * List and watch `PartialObjectMetadata` instead of whole objects: the API server sends only
   * each object's metadata (a Secret's data never leaves it).
   */
  metadataOnly?: boolean;
}

const JSON_ACCEPT = 'application/json';
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** The watch stream carried something that is not a watch event. */
export class WatchStreamError extends Error {
  override readonly name = 'WatchStreamError';
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`malformed watch stream from ${path}: ${problem}; the watch will be restarted`, options);
  }
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

type StatusBody = KubeStatusBody;

interface ListBody<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

export class KubeWatchSource<T extends InformerObject> implements WatchSource<T> {
  readonly #kc: KubeConfig;
  readonly #path: string;
  readonly #labelSelector: string | undefined;
  readonly #fieldSelector: string | undefined;
  readonly #pageSize: number;
  readonly #minTimeout: number;
  readonly #random: () => number;
  readonly #userAgent: string;
  readonly #metadataOnly: boolean;
  readonly #http = new IsomorphicFetchHttpLibrary();

  constructor(options: KubeWatchSourceOptions) {
    if (!options.path.startsWith('/')) {
      throw new TypeError(`watch path must start with "/", got "${options.path}"`);
    }
    this.#kc = options.kubeConfig;
    this.#path = options.path.replace(/\/$/, '');
    this.#labelSelector = options.labelSelector || undefined;
    this.#fieldSelector = options.fieldSelector || undefined;
    this.#pageSize = options.pageSize ?? 500;
    this.#minTimeout = options.minWatchTimeoutSeconds ?? 300;
    this.#random = options.random ?? Math.random;
    this.#userAgent = options.userAgent ?? 'neurallog-tenant-operator';
    this.#metadataOnly = options.metadataOnly ?? false;
  }

  async list(signal: AbortSignal): Promise<ListResult<T>> {
    try {
      return await this.#listPages(signal, this.#pageSize);
    } catch (err) {
      // A continue token expired between pages: one unpaginated list is consistent by construction.
      if (isResourceVersionExpired(err) && this.#pageSize > 0 && !signal.aborted) {
        return await this.#listPages(signal, 0);
      }
      throw err;
    }
  }

  async watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const timeoutSeconds = Math.floor(this.#minTimeout * (1 + this.#random()));
    const url = this.#url({
      watch: 'true',
      allowWatchBookmarks: 'true',
      resourceVersion: resourceVersion || undefined,
      timeoutSeconds: String(timeoutSeconds),
    });
    let sent: { response: ResponseContext; dispatcher: Dispatcher | undefined } | undefined;
    try {
      sent = await this.#send(url, signal, this.#metadataOnly ? METADATA_WATCH_ACCEPT : JSON_ACCEPT);
      const { response } = sent;
      if (response.httpStatusCode !== 200) {
        throw statusError(
          response.httpStatusCode,
          await safeText(response),
          'WATCH',
          this.#path,
          resourceVersion,
        );
      }
      const stream = response.body.stream();
      if (!stream) throw new WatchStreamError(this.#path, 'the response has no body');
      await this.#readEvents(stream, resourceVersion, onEvent, signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      // Per-request pool (client-node builds one per request): destroying it closes the socket now.
      if (sent?.dispatcher) void sent.dispatcher.destroy().catch(() => {});
    }
  }

  async #listPages(signal: AbortSignal, limit: number): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    let listKind: string | undefined;
    let apiVersion: string | undefined;
    do {
      const url = this.#url({ limit: limit > 0 ? String(limit) : undefined, continue: continueToken });
      const body = await this.#getJson<ListBody<T>>(url, signal);
      items.push(...(body.items ?? []));
      resourceVersion = body.metadata?.resourceVersion ?? '';
      continueToken = body.metadata?.continue || undefined;
      listKind ??= body.kind;
      apiVersion ??= body.apiVersion;
    } while (continueToken);
    if (!resourceVersion) {
      throw new WatchStreamError(this.#path, 'the list response carries no metadata.resourceVersion');
    }
    // List items come without apiVersion/kind; watch events carry them. Make both look alike.
    const kind = listKind?.endsWith('List') ? listKind.slice(0, -'List'.length) : undefined;
    for (const item of items) {
      if (kind && item.kind === undefined) item.kind = kind;
      if (apiVersion && item.apiVersion === undefined) item.apiVersion = apiVersion;
    }
    return { items, resourceVersion };
  }

  async #getJson<B>(url: URL, signal: AbortSignal): Promise<B> {
    const { response, dispatcher } = await this.#send(
      url,
      signal,
      this.#metadataOnly ? METADATA_LIST_ACCEPT : JSON_ACCEPT,
    );
    try {
      const text = await response.body.text();
      if (response.httpStatusCode !== 200) {
        throw statusError(response.httpStatusCode, text, 'LIST', this.#path, undefined);
      }
      try {
        return JSON.parse(text) as B;
      } catch (err) {
        throw new WatchStreamError(this.#path, 'the list response is not JSON', { cause: err });
      }
    } finally {
      if (dispatcher) void dispatcher.close().catch(() => {});
    }
  }

  async #send(
    url: URL,
    signal: AbortSignal,
    accept: string,
  ): Promise<{ response: ResponseContext; dispatcher: Dispatcher | undefined }> {
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.#kc.applySecurityAuthentication(ctx);
    ctx.setHeaderParam('Accept', accept);
    ctx.setHeaderParam('User-Agent', this.#userAgent);
    ctx.setSignal(signal);
    const dispatcher = ctx.getDispatcher();
    try {
      const response = await this.#http.send(ctx).toPromise();
      return { response, dispatcher };
    } catch (err) {
      if (dispatcher) void dispatcher.destroy().catch(() => {});
      if (signal.aborted) throw err;
      throw new KubeConnectionError(url.origin, this.#path, err);
    }
  }

  async #readEvents(
    stream: ReadableStream<Uint8Array>,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const handleLine = async (line: string): Promise<void> => {
      let event: { type?: unknown; object?: unknown };
      try {
        event = JSON.parse(line) as { type?: unknown; object?: unknown };
      } catch (err) {
        throw new WatchStreamError(this.#path, `a line is not JSON: ${line.slice(0, 200)}`, { cause: err });
      }
      const { type, object } = event;
      if (type === 'ERROR') {
        const status = (object ?? {}) as StatusBody;
        throw statusError(status.code ?? 500, JSON.stringify(status), 'WATCH', this.#path, resourceVersion);
      }
      if (
        typeof type !== 'string' ||
        !EVENT_TYPES.has(type) ||
        typeof object !== 'object' ||
        object === null
      ) {
        throw new WatchStreamError(this.#path, `unexpected event ${line.slice(0, 200)}`);
      }
      await onEvent(type as WatchEventType, object as T);
    };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) await handleLine(line);
          if (signal.aborted) return;
        }
      }
      const rest = buffer.trim();
      if (rest) await handleLine(rest);
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  #url(params: Record<string, string | undefined>): URL {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) {
      throw new TypeError('the KubeConfig has no current cluster; resolve it with resolveKubeConfig() first');
    }
    const url = new URL(cluster.server + this.#path);
    const all = { labelSelector: this.#labelSelector, fieldSelector: this.#fieldSelector, ...params };
    for (const [key, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }
}

function statusError(
  statusCode: number,
  bodyText: string,
  method: string,
  path: string,
  resourceVersion: string | undefined,
): Error {
  let status: StatusBody;
  try {
    status = JSON.parse(bodyText) as StatusBody;
  } catch {
    status = { message: bodyText.slice(0, 500) };
  }
  if (statusCode === 410) {
    return new ResourceVersionExpiredError({
      resourceVersion: resourceVersion || undefined,
      detail: status.message,
    });
  }
  return new KubeApiError({ status: statusCode, body: status, method, path });
}

async function safeText(response: ResponseContext): Promise<string> {
  try {
    return await response.body.text();
  } catch {
    return '';
  }
}
