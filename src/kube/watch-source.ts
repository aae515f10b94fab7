/**
 * `WatchSource` for one API collection, spoken over the HTTP edge in rest.ts.
 *
 * A stream lives until the server's `timeoutSeconds` (randomised 5–10 min, as
 * client-go does), the informer's watchdog, or the caller's abort; there is no
 * client-side idle timeout, which a quiet collection with minute-spaced
 * bookmarks would trip. Aborting a response that is still streaming destroys
 * its socket (HTTP/1.1 cannot cancel a request otherwise), so the connection
 * is closed at once.
 */
import type { Readable } from 'node:stream';
import type { HttpAnswer } from '../http/client.ts';
import { ResourceVersionExpiredError, isResourceVersionExpired } from '../runtime/informer-source.ts';
import type { InformerObject, ListResult, WatchEventType, WatchSource } from '../runtime/informer-source.ts';
import { KubeApiError, type KubeStatusBody } from './errors.ts';
import type { KubeRest } from './rest.ts';

export { KubeApiError, KubeConnectionError } from './errors.ts';

export { ResourceVersionExpiredError } from '../runtime/informer-source.ts';

export interface KubeWatchSourceOptions {
  rest: KubeRest;
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
  /** Overrides the user agent of `rest`. */
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

type StatusBody = KubeStatusBody;

interface ListBody<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

export class KubeWatchSource<T extends InformerObject> implements WatchSource<T> {
  readonly #rest: KubeRest;
  readonly #path: string;
  readonly #labelSelector: string | undefined;
  readonly #fieldSelector: string | undefined;
  readonly #pageSize: number;
  readonly #minTimeout: number;
  readonly #random: () => number;
  readonly #userAgent: string | undefined;
  readonly #metadataOnly: boolean;

  constructor(options: KubeWatchSourceOptions) {
    if (!options.path.startsWith('/')) {
      throw new TypeError(`watch path must start with "/", got "${options.path}"`);
    }
    this.#rest = options.rest;
    this.#path = options.path.replace(/\/$/, '');
    this.#labelSelector = options.labelSelector || undefined;
    this.#fieldSelector = options.fieldSelector || undefined;
    this.#pageSize = options.pageSize ?? 500;
    this.#minTimeout = options.minWatchTimeoutSeconds ?? 300;
    this.#random = options.random ?? Math.random;
    this.#userAgent = options.userAgent;
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
    // The caller's signal, and ours: leaving early (an error in a handler) must end the request too.
    const own = new AbortController();
    const both = AbortSignal.any([signal, own.signal]);
    try {
      const response = await this.#send(
        {
          watch: 'true',
          allowWatchBookmarks: 'true',
          resourceVersion: resourceVersion || undefined,
          timeoutSeconds: String(timeoutSeconds),
        },
        both,
        this.#metadataOnly ? METADATA_WATCH_ACCEPT : JSON_ACCEPT,
      );
      if (response.status !== 200) {
        throw statusError(response.status, await safeText(response), 'WATCH', this.#path, resourceVersion);
      }
      await this.#readEvents(response.body, resourceVersion, onEvent, signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      own.abort();
    }
  }

  async #listPages(signal: AbortSignal, limit: number): Promise<ListResult<T>> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string;
    let listKind: string | undefined;
    let apiVersion: string | undefined;
    do {
      const body = await this.#getJson<ListBody<T>>(
        { limit: limit > 0 ? String(limit) : undefined, continue: continueToken },
        signal,
      );
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

  async #getJson<B>(query: Record<string, string | undefined>, signal: AbortSignal): Promise<B> {
    const response = await this.#send(query, signal, this.#metadataOnly ? METADATA_LIST_ACCEPT : JSON_ACCEPT);
    const text = await response.text();
    if (response.status !== 200) {
      throw statusError(response.status, text, 'LIST', this.#path, undefined);
    }
    try {
      return JSON.parse(text) as B;
    } catch (err) {
      throw new WatchStreamError(this.#path, 'the list response is not JSON', { cause: err });
    }
  }

  #send(query: Record<string, string | undefined>, signal: AbortSignal, accept: string): Promise<HttpAnswer> {
    return this.#rest.send(this.#path, {
      query: { labelSelector: this.#labelSelector, fieldSelector: this.#fieldSelector, ...query },
      signal,
      accept,
      ...(this.#userAgent ? { userAgent: this.#userAgent } : {}),
    });
  }

  async #readEvents(
    body: Readable,
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    body.setEncoding('utf8');
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
    // Leaving the loop early (abort, a handler's error) destroys the body and with it the socket.
    for await (const chunk of body) {
      buffer += chunk as string;
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

async function safeText(response: HttpAnswer): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}
