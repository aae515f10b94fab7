/**
 * Runs `concurrency` workers over a work queue, calling an async reconcile
 * function per key — the queue + workers half of controller-runtime's
 * controller.
 *
 * Result contract (like controller-runtime's `reconcile.Result`):
 * - resolves `{}` / `undefined`: success; the key's backoff is forgotten.
 * - resolves `{ requeueAfterMs: n }` (n > 0): success, and the key runs
 *   again after n ms.
 * - throws: the key is retried with per-item exponential backoff.
 * - throws a `PermanentError` (anywhere in the `cause` chain): the problem
 *   needs a person, so the key is not retried hot; it comes back after a
 *   long delay (default 5 min), or earlier when a watch event re-adds it.
 *
 * A key is never reconciled by two workers at once (the queue guarantees
 * it). `stop()` stops taking work and resolves once the reconciles in flight
 * have finished.
 */
import type { Logger } from 'pino';
import { createSystemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { WorkQueue } from './queue.ts';

export interface ReconcileResult {
  /** Run this key again after this many ms (ignored when <= 0). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Aborted when the controller stops without draining; pass it to I/O. */
  signal: AbortSignal;
  /** The controller's logger with a `tenant` field set to the key. */
  logger: Logger;
}

export type ReconcileFn<K extends string> = (
  key: K,
  context: ReconcileContext,
) => Promise<ReconcileResult | void> | ReconcileResult | void;

/** `result` label of a finished reconcile. */
export type ReconcileOutcome = 'success' | 'error' | 'requeue';

/** Receives one call per finished reconcile; `OperatorMetrics` satisfies it. */
export interface ReconcileObserver {
  observeReconcile(result: ReconcileOutcome, durationSeconds: number): void;
}

/**
 * An error that retrying cannot fix — a bad spec, a namespace owned by
 * someone else. Report it as a condition and event; the controller requeues
 * the key only after a long delay.
 */
export class PermanentError extends Error {
  /** Overrides the controller's `permanentErrorRetryMs` for this error. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PermanentError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The first `PermanentError` in the error's `cause` chain, if any. */
export function findPermanentError(error: unknown): PermanentError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    if (current instanceof PermanentError) return current;
    seen.add(current);
    current = current.cause;
  }
  return undefined;
}

/** `start` was called on a controller that has been stopped. */
export class ControllerStoppedError extends Error {
  constructor(name: string) {
    super(`controller "${name}" was stopped and cannot start again; create a new work queue and controller`);
    this.name = 'ControllerStoppedError';
  }
}

export interface ControllerOptions<K extends string> {
  /** Used in log lines. Default `tenant`. */
  name?: string;
  /** The log field that carries the key being reconciled. Default `tenant`. */
  keyField?: string;
  /** The controller owns the queue's lifecycle: `stop()` shuts it down. */
  queue: WorkQueue<K>;
  reconcile: ReconcileFn<K>;
  logger: Logger;
  /** Keys reconciled at once. Default 1. */
  concurrency?: number;
  /** Delay before a key that failed with a `PermanentError` runs again. Default 300 000 (5 min). */
  permanentErrorRetryMs?: number;
  metrics?: ReconcileObserver;
  /** For reconcile durations and the stop timeout. Defaults to the system clock. */
  clock?: Clock;
}

export interface StopOptions {
  /**
   * true (default): let in-flight reconciles run to completion.
   * false: abort their signals at once (still waits for them to settle).
   */
  drain?: boolean;
  /** While draining, abort in-flight reconciles after this many ms (still waits for them to settle). */
  abortAfterMs?: number;
}

export class Controller<K extends string> {
  #name: string;
  #keyField: string;
  #queue: WorkQueue<K>;
  #reconcile: ReconcileFn<K>;
  #logger: Logger;
  #concurrency: number;
  #permanentRetryMs: number;
  #metrics: ReconcileObserver | undefined;
  #clock: Clock;

  #state: 'new' | 'running' | 'stopped' = 'new';
  #workers: Promise<void>[] = [];
  #inFlight = new Map<K, AbortController>();
  #stopping: Promise<void> | undefined;

  constructor(options: ControllerOptions<K>) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
    }
    this.#name = options.name ?? 'tenant';
    this.#keyField = options.keyField ?? 'tenant';
    this.#queue = options.queue;
    this.#reconcile = options.reconcile;
    this.#logger = options.logger;
    this.#concurrency = concurrency;
    this.#permanentRetryMs = options.permanentErrorRetryMs ?? 300_000;
    this.#metrics = options.metrics;
    this.#clock = options.clock ?? createSystemClock();
  }

  /** Start the workers. Calling it again while running does nothing. */
  start(): void {
    if (this.#state === 'running') return;
    if (this.#state === 'stopped') throw new ControllerStoppedError(this.#name);
    this.#state = 'running';
    this.#logger.info({ controller: this.#name, workers: this.#concurrency }, 'starting workers');
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#work());
  }

  /** Keys being reconciled right now. */
  inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Stop taking work (the queue is shut down), then resolve once every
   * in-flight reconcile has finished. Safe to call more than once.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#state = 'stopped';
    const drain = options.drain ?? true;
    this.#logger.info(
      { controller: this.#name, inFlight: this.#inFlight.size, drain },
      'stopping: taking no new work, waiting for reconciles in flight',
    );
    const drained = this.#queue.shutDownWithDrain();
    let timer: TimerHandle | undefined;
    if (!drain) this.#abortAll('stop without drain');
    else if (options.abortAfterMs !== undefined) {
      timer = this.#clock.setTimeout(() => this.#abortAll('drain timeout'), options.abortAfterMs);
    }
    try {
      await Promise.all(this.#workers);
      await drained;
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    }
    this.#logger.info({ controller: this.#name }, 'stopped');
  }

  #abortAll(reason: string): void {
    if (this.#inFlight.size === 0) return;
    this.#logger.warn(
      { controller: this.#name, inFlight: this.#inFlight.size, reason },
      'aborting reconciles',
    );
    for (const abort of this.#inFlight.values()) abort.abort(new Error(`controller stopping (${reason})`));
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      await this.#process(key);
    }
  }

  async #process(key: K): Promise<void> {
    const logger = this.#logger.child({ [this.#keyField]: key });
    const abort = new AbortController();
    this.#inFlight.set(key, abort);
    const started = this.#clock.now();
    let outcome: ReconcileOutcome;
    try {
      logger.debug('reconcile started');
      const result = await this.#reconcile(key, { signal: abort.signal, logger });
      this.#queue.forget(key);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        this.#queue.addAfter(key, after);
        outcome = 'requeue';
      } else {
        outcome = 'success';
      }
      logger.debug(
        { durationMs: this.#clock.now() - started, result: outcome, requeueAfterMs: after },
        'reconciled',
      );
    } catch (error) {
      outcome = 'error';
      this.#handleError(key, error, logger, abort.signal);
    } finally {
      this.#inFlight.delete(key);
      this.#queue.done(key);
    }
    try {
      this.#metrics?.observeReconcile(outcome, Math.max(0, this.#clock.now() - started) / 1000);
    } catch (error) {
      logger.warn({ err: error }, 'reconcile metrics observer failed');
    }
  }

  #handleError(key: K, error: unknown, logger: Logger, signal: AbortSignal): void {
    if (signal.aborted) {
      logger.warn({ err: error }, 'reconcile aborted by shutdown; the next leader picks the tenant up');
      return;
    }
    const permanent = findPermanentError(error);
    if (permanent !== undefined) {
      const retryMs = permanent.retryAfterMs ?? this.#permanentRetryMs;
      this.#queue.forget(key);
      this.#queue.addAfter(key, retryMs);
      logger.error(
        { err: error, permanent: true, retryAfterMs: retryMs },
        'reconcile failed with a problem that needs a person; not retrying until it changes or the delay passes',
      );
      return;
    }
    this.#queue.addRateLimited(key);
    logger.error(
      { err: error, requeues: this.#queue.numRequeues(key) },
      'reconcile failed; retrying with backoff',
    );
  }
}
