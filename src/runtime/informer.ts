/**
 * A watch cache: reflector (list, then watch from the list's resourceVersion),
 * store (objects keyed `namespace/name`, or `name` when cluster-scoped) and
 * handlers (called one at a time, in order, awaited).
 *
 * It survives everything and never stops on its own: a stream that ends or
 * fails is resumed from the last resourceVersion seen, with capped, jittered
 * exponential backoff; an expired resourceVersion (410 Gone) leads to a full
 * list whose difference with the store is delivered as add/update/delete; a
 * watchdog restarts a stream that delivered nothing (not even a bookmark) for
 * `watchdogMs`; a periodic resync hands every cached object to `onResync`.
 * Every failure is logged and retried until `stop()`.
 */
import type { Logger } from 'pino';
import { Backoff, sleep } from './backoff.ts';
import type { BackoffOptions } from './backoff.ts';
import { createSystemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { isResourceVersionExpired } from './informer-source.ts';
import type { InformerObject, ListResult, WatchEventType, WatchSource } from './informer-source.ts';

export type { InformerObject, ListResult, WatchEventType, WatchSource } from './informer-source.ts';
export { ResourceVersionExpiredError, isResourceVersionExpired } from './informer-source.ts';

export interface InformerHandlers<T> {
  onAdd?(obj: T): void | Promise<void>;
  onUpdate?(oldObj: T, newObj: T): void | Promise<void>;
  /** Receives the last state known: the server's final state, or the cached one after a relist. */
  onDelete?(obj: T): void | Promise<void>;
  /** Called for every cached object each `resyncPeriodMs`. */
  onResync?(obj: T): void | Promise<void>;
}

export type WatchRestartReason = 'stream-ended' | 'stream-error' | 'watchdog';
export type ListReason = 'initial' | 'expired' | 'repeated-watch-failures';

/** Observability hooks; they must not throw (a throwing hook is logged and ignored). */
export interface InformerHooks {
  /** A watch stream is about to be opened again from the last resourceVersion. */
  onWatchRestart?(reason: WatchRestartReason): void;
  /** A full list is about to be made (including the initial one). */
  onList?(reason: ListReason): void;
  /** A list or watch failed (it will be retried). */
  onError?(phase: 'list' | 'watch', err: unknown): void;
  /** A handler threw or rejected. */
  onHandlerError?(event: 'add' | 'update' | 'delete' | 'resync', err: unknown): void;
  /** The store holds the first complete list and its handlers have run. */
  onSynced?(): void;
}

export interface InformerOptions<T> {
  /** Names the cache in logs, e.g. `tenants` or `deployments`. */
  name: string;
  source: WatchSource<T>;
  logger: Logger;
  handlers?: InformerHandlers<T>;
  hooks?: InformerHooks;
  clock?: Clock;
  /** Period of `onResync` calls; 0 disables. Default 10 min. */
  resyncPeriodMs?: number;
  /**
   * Restart a watch that delivered neither an event nor a bookmark for this
   * long; 0 disables. The API server sends bookmarks about once a minute, so
   * the default of 3 min only fires on a stream that really went dead.
   */
  watchdogMs?: number;
  /**
   * After this many consecutive watch failures without any event in
   * between, list again instead of resuming (in case the resourceVersion
   * itself is the problem). Default 5.
   */
  relistAfterWatchFailures?: number;
  /**
   * Abort a list (all its pages) that takes longer than this, and retry it.
   * Default 2 min; 0 disables.
   */
  listTimeoutMs?: number;
  /** Retry pacing; the clock defaults to `clock`. */
  backoff?: Omit<BackoffOptions, 'clock'>;
  /**
   * Applied to every object before it is stored (after `managedFields` are dropped), e.g. to share
   * strings between cached objects. It may change the object in place: it is the cache's own copy.
   */
  transform?: (obj: T) => T;
}

export interface InformerStats {
  lists: number;
  watchRestarts: number;
  watchdogRestarts: number;
  listErrors: number;
  watchErrors: number;
  handlerErrors: number;
  events: number;
  lastResourceVersion: string | undefined;
  synced: boolean;
}

/** The informer was stopped before the awaited condition happened. */
export class InformerStoppedError extends Error {
  override readonly name = 'InformerStoppedError';
  constructor(informer: string) {
    super(`informer "${informer}" was stopped before it synced; start it again or stop waiting on it`);
  }
}

/** A list did not complete within `listTimeoutMs`; it is retried with backoff. */
export class InformerListTimeoutError extends Error {
  override readonly name = 'InformerListTimeoutError';
  constructor(informer: string, timeoutMs: number) {
    super(
      `listing "${informer}" took longer than ${timeoutMs} ms and was aborted; it will be retried. ` +
        'If the collection is very large, raise listTimeoutMs.',
    );
  }
}

/** Cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: InformerObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new TypeError('cannot key an object without metadata.name');
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** A shallow copy without `metadata.managedFields` (large and never needed by the controller). */
export function trimManagedFields<T extends InformerObject>(obj: T): T {
  if (!obj.metadata || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

type WatchOutcome = 'ended' | 'watchdog' | 'stopped';

export class Informer<T extends InformerObject> {
  readonly name: string;
  readonly #source: WatchSource<T>;
  readonly #log: Logger;
  readonly #handlers: InformerHandlers<T>;
  readonly #hooks: InformerHooks;
  readonly #clock: Clock;
  readonly #resyncPeriodMs: number;
  readonly #watchdogMs: number;
  readonly #relistAfterWatchFailures: number;
  readonly #listTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #transform: (obj: T) => T;

  #store = new Map<string, T>();
  #lastResourceVersion: string | undefined;
  #synced = false;
  #syncWaiters = new Set<{ resolve: () => void; reject: (err: unknown) => void }>();
  #stopController = new AbortController();
  #running: Promise<void> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #resyncTimer: TimerHandle | undefined;
  #stats: Omit<InformerStats, 'lastResourceVersion' | 'synced'> = {
    lists: 0,
    watchRestarts: 0,
    watchdogRestarts: 0,
    listErrors: 0,
    watchErrors: 0,
    handlerErrors: 0,
    events: 0,
  };

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#source = options.source;
    this.#log = options.logger.child({ informer: options.name });
    this.#handlers = options.handlers ?? {};
    this.#hooks = options.hooks ?? {};
    this.#clock = options.clock ?? createSystemClock();
    this.#resyncPeriodMs = options.resyncPeriodMs ?? 600_000;
    this.#watchdogMs = options.watchdogMs ?? 180_000;
    this.#relistAfterWatchFailures = Math.max(1, options.relistAfterWatchFailures ?? 5);
    this.#listTimeoutMs = options.listTimeoutMs ?? 120_000;
    this.#backoff = new Backoff({ ...options.backoff, clock: this.#clock });
    this.#transform = options.transform ?? ((obj) => obj);
  }

  /** Begin listing and watching in the background. Calling it twice does nothing more. */
  start(): void {
    if (this.#stopController.signal.aborted) {
      throw new Error(`informer "${this.name}" was stopped; create a new Informer instead of restarting it`);
    }
    if (this.#running) return;
    this.#running = this.#runForever();
    this.#armResync();
  }

  /** Stop watching, wait for the handler in flight, and reject pending `waitForSync` calls. */
  async stop(): Promise<void> {
    if (!this.#stopController.signal.aborted) {
      this.#stopController.abort(new InformerStoppedError(this.name));
    }
    if (this.#resyncTimer !== undefined) this.#clock.clearTimeout(this.#resyncTimer);
    this.#resyncTimer = undefined;
    for (const waiter of this.#syncWaiters) waiter.reject(new InformerStoppedError(this.name));
    this.#syncWaiters.clear();
    await this.#running;
    await this.#chain;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once the first list is stored and its handlers ran; rejects on `signal` or `stop()`. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (this.#stopController.signal.aborted) return Promise.reject(new InformerStoppedError(this.name));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#syncWaiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#syncWaiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  stats(): InformerStats {
    return { ...this.#stats, lastResourceVersion: this.#lastResourceVersion, synced: this.#synced };
  }

  // ---- reflector loop -------------------------------------------------------

  /** `#run` handles every expected failure; this guards against a bug escaping it. */
  async #runForever(): Promise<void> {
    const stop = this.#stopController.signal;
    while (!stop.aborted) {
      try {
        await this.#run();
      } catch (err) {
        const retryInMs = this.#backoff.next();
        this.#log.fatal({ err, retryInMs }, 'informer loop crashed (a bug); restarting it');
        await sleep(this.#clock, retryInMs, stop);
      }
    }
  }

  async #run(): Promise<void> {
    const stop = this.#stopController.signal;
    let listReason: ListReason | undefined = 'initial';
    let watchFailures = 0;
    while (!stop.aborted) {
      let delayMs = 0;
      try {
        if (listReason !== undefined) {
          this.#stats.lists++;
          this.#hook(() => this.#hooks.onList?.(listReason ?? 'initial'));
          await this.#listAndReplace();
          if (stop.aborted) break;
          listReason = undefined;
          watchFailures = 0;
        }
        const eventsBefore = this.#stats.events;
        const outcome = await this.#watchOnce();
        if (outcome === 'stopped' || stop.aborted) break;
        if (this.#stats.events > eventsBefore) watchFailures = 0;
        this.#stats.watchRestarts++;
        if (outcome === 'watchdog') {
          this.#stats.watchdogRestarts++;
          this.#log.warn(
            { resourceVersion: this.#lastResourceVersion, silentForMs: this.#watchdogMs },
            'watch delivered nothing (not even a bookmark) for too long; restarting it from the last resourceVersion',
          );
          this.#hook(() => this.#hooks.onWatchRestart?.('watchdog'));
        } else {
          this.#log.debug({ resourceVersion: this.#lastResourceVersion }, 'watch stream ended; resuming');
          this.#hook(() => this.#hooks.onWatchRestart?.('stream-ended'));
          delayMs = this.#backoff.next();
        }
      } catch (err) {
        if (stop.aborted) break;
        delayMs = this.#backoff.next();
        if (isResourceVersionExpired(err)) {
          this.#log.warn(
            { resourceVersion: this.#lastResourceVersion, err, retryInMs: delayMs },
            'resourceVersion expired (410 Gone); listing everything again',
          );
          listReason = 'expired';
        } else if (listReason !== undefined) {
          this.#stats.listErrors++;
          this.#hook(() => this.#hooks.onError?.('list', err));
          this.#log.error({ err, retryInMs: delayMs }, 'list failed; retrying with backoff');
        } else {
          this.#stats.watchErrors++;
          this.#stats.watchRestarts++;
          watchFailures++;
          this.#hook(() => this.#hooks.onError?.('watch', err));
          this.#hook(() => this.#hooks.onWatchRestart?.('stream-error'));
          if (watchFailures >= this.#relistAfterWatchFailures) {
            listReason = 'repeated-watch-failures';
            this.#log.error(
              { err, failures: watchFailures, retryInMs: delayMs },
              'watch failed repeatedly without delivering anything; listing everything again',
            );
          } else {
            this.#log.warn(
              { err, resourceVersion: this.#lastResourceVersion, retryInMs: delayMs },
              'watch failed; resuming from the last resourceVersion with backoff',
            );
          }
        }
      }
      if (delayMs > 0) await sleep(this.#clock, delayMs, stop);
    }
    this.#log.debug('informer stopped');
  }

  async #listAndReplace(): Promise<void> {
    const stop = this.#stopController.signal;
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    let timedOut = false;
    const timer =
      this.#listTimeoutMs > 0
        ? this.#clock.setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, this.#listTimeoutMs)
        : undefined;
    let result: ListResult<T> | undefined;
    try {
      result = await untilAborted(this.#source.list(controller.signal), controller.signal);
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
    if (timedOut) {
      throw new InformerListTimeoutError(this.name, this.#listTimeoutMs);
    }
    if (result === undefined) return;
    const fresh = new Map<string, T>();
    for (const item of result.items) {
      const trimmed = this.#transform(trimManagedFields(item));
      const name = trimmed.metadata?.name;
      if (!name) {
        this.#log.error(
          { item: trimmed },
          'listed object without metadata.name; leaving it out of the cache',
        );
        continue;
      }
      fresh.set(objectKey(trimmed), trimmed);
    }
    await this.#serial(async () => {
      const previous = this.#store;
      this.#store = fresh;
      this.#lastResourceVersion = result.resourceVersion;
      for (const [key, old] of previous) {
        if (!fresh.has(key)) await this.#call('delete', () => this.#handlers.onDelete?.(old));
      }
      for (const [key, obj] of fresh) {
        const old = previous.get(key);
        if (old === undefined) {
          await this.#call('add', () => this.#handlers.onAdd?.(obj));
        } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
          await this.#call('update', () => this.#handlers.onUpdate?.(old, obj));
        }
      }
      if (!this.#synced) {
        this.#synced = true;
        this.#log.info({ objects: fresh.size, resourceVersion: result.resourceVersion }, 'cache synced');
        for (const waiter of this.#syncWaiters) waiter.resolve();
        this.#syncWaiters.clear();
        this.#hook(() => this.#hooks.onSynced?.());
      }
    });
  }

  async #watchOnce(): Promise<WatchOutcome> {
    const stop = this.#stopController.signal;
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    let watchdogFired = false;
    let timer: TimerHandle | undefined;
    const disarm = (): void => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      timer = undefined;
    };
    const arm = (): void => {
      disarm();
      if (this.#watchdogMs <= 0 || controller.signal.aborted) return;
      timer = this.#clock.setTimeout(() => {
        watchdogFired = true;
        controller.abort(new Error(`watch of "${this.name}" silent for ${this.#watchdogMs} ms`));
      }, this.#watchdogMs);
    };
    const onEvent = async (type: WatchEventType, obj: T): Promise<void> => {
      if (controller.signal.aborted) return;
      disarm();
      try {
        await this.#serial(() => this.#apply(type, obj));
      } finally {
        arm();
      }
    };
    try {
      arm();
      const resourceVersion = this.#lastResourceVersion ?? '';
      await untilAborted(this.#source.watch(resourceVersion, onEvent, controller.signal), controller.signal);
      if (stop.aborted) return 'stopped';
      if (watchdogFired) return 'watchdog';
      return 'ended';
    } catch (err) {
      if (stop.aborted) return 'stopped';
      if (watchdogFired) return 'watchdog';
      throw err;
    } finally {
      disarm();
      stop.removeEventListener('abort', onStop);
      controller.abort();
    }
  }

  async #apply(type: WatchEventType, obj: T): Promise<void> {
    if (type === 'BOOKMARK') {
      const rv = obj.metadata?.resourceVersion;
      if (rv) this.#lastResourceVersion = rv;
      return;
    }
    this.#stats.events++;
    const trimmed = this.#transform(trimManagedFields(obj));
    let key: string;
    try {
      key = objectKey(trimmed);
    } catch (err) {
      this.#log.error({ err, type }, 'watch event without metadata.name; ignoring it');
      return;
    }
    const rv = trimmed.metadata?.resourceVersion;
    const old = this.#store.get(key);
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.#store.set(key, trimmed);
        if (rv) this.#lastResourceVersion = rv;
        if (old === undefined) await this.#call('add', () => this.#handlers.onAdd?.(trimmed));
        else await this.#call('update', () => this.#handlers.onUpdate?.(old, trimmed));
        return;
      case 'DELETED':
        this.#store.delete(key);
        if (rv) this.#lastResourceVersion = rv;
        if (old !== undefined) await this.#call('delete', () => this.#handlers.onDelete?.(trimmed));
        return;
      default:
        this.#log.error({ type, key }, 'unknown watch event type; ignoring it');
    }
  }

  // ---- resync ---------------------------------------------------------------

  #armResync(): void {
    if (this.#resyncPeriodMs <= 0 || !this.#handlers.onResync) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      this.#resyncTimer = undefined;
      if (this.#stopController.signal.aborted) return;
      void this.#serial(async () => {
        if (!this.#synced) return;
        const objects = [...this.#store.values()];
        this.#log.debug({ objects: objects.length }, 'resync');
        for (const obj of objects) {
          if (this.#stopController.signal.aborted) return;
          await this.#call('resync', () => this.#handlers.onResync?.(obj));
        }
      })
        .catch(() => {}) // already logged by #serial
        .finally(() => {
          if (!this.#stopController.signal.aborted) this.#armResync();
        });
    }, this.#resyncPeriodMs);
  }

  // ---- helpers --------------------------------------------------------------

  /** Run `fn` after everything queued before it; handlers never overlap. */
  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn);
    this.#chain = next.catch((err: unknown) => {
      this.#log.error({ err }, 'internal error in informer dispatch');
    });
    return next;
  }

  async #call(event: 'add' | 'update' | 'delete' | 'resync', fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#stats.handlerErrors++;
      this.#log.error({ err, event }, 'informer handler failed; the cache keeps going');
      this.#hook(() => this.#hooks.onHandlerError?.(event, err));
    }
  }

  #hook(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, 'informer hook threw; ignoring it');
    }
  }
}

/**
 * Settle with `promise`, or with `undefined` as soon as `signal` aborts (a
 * source that is slow to notice the abort cannot hold the loop).
 */
function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R | undefined> {
  promise.catch(() => {}); // a late rejection after abort is expected and not interesting
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<R | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
