/**
 * The contract between a watch cache (`informer.ts`) and whatever feeds it:
 * the API server (`kube/watch-source.ts`) or a fake in tests.
 */

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** The part of a Kubernetes object the cache relies on. */
export interface InformerObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    managedFields?: unknown;
  };
}

export interface ListResult<T> {
  items: T[];
  /** The collection's resourceVersion, from which a watch continues. */
  resourceVersion: string;
}

export interface WatchSource<T> {
  /** A full, consistent list of the collection. */
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Stream changes after `resourceVersion` (bookmarks included) and call
   * `onEvent` for each, awaiting it before delivering the next one.
   *
   * Resolves when the server ends the stream normally. Rejects with
   * `ResourceVersionExpiredError` when `resourceVersion` is too old
   * (HTTP 410 Gone, or an ERROR event with code 410), and with any other
   * error when the stream fails. Must settle promptly and release the
   * connection once `signal` aborts.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void>;
}

/**
 * The server no longer has the history a watch (or a paginated list) asked
 * for. The informer recovers by listing again; it is only worth a look when
 * it repeats constantly (an overloaded or restarted etcd).
 */
export class ResourceVersionExpiredError extends Error {
  override readonly name = 'ResourceVersionExpiredError';
  readonly resourceVersion: string | undefined;

  constructor(options: { resourceVersion?: string; detail?: string; cause?: unknown }) {
    super(
      `resourceVersion ${options.resourceVersion ?? '(unknown)'} is too old for the API server (410 Gone` +
        `${options.detail ? `: ${options.detail}` : ''}); the cache will list everything again to recover`,
      { cause: options.cause },
    );
    this.resourceVersion = options.resourceVersion;
  }
}

/** True for `ResourceVersionExpiredError`, also across duplicated module copies. */
export function isResourceVersionExpired(err: unknown): err is ResourceVersionExpiredError {
  return (
    err instanceof ResourceVersionExpiredError ||
    (err instanceof Error && err.name === 'ResourceVersionExpiredError')
  );
}
