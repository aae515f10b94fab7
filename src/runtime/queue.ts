/**
 * A keyed, rate-limited work queue modelled on client-go's `util/workqueue`.
 *
 * - De-duplication: a key queued many times before a worker takes it is
 *   handed out once.
 * - A key being processed (between `get` and `done`) is never handed to a
 *   second worker; adding it meanwhile marks it dirty, and `done` queues it
 *   again.
 * - `addAfter` delays a key; when the same key is already waiting, the
 *   earlier time wins.
 * - `addRateLimited` delays a key by what the rate limiter says (default:
 *   max of per-item 5 ms · 2^n backoff capped at 1000 s and a 10 qps /
 *   burst 100 token bucket); `forget` resets the per-item backoff.
 *
 * Priorities, like controller-runtime's priority queue but with three levels: a key waits in the
 * highest level it was added at, and keys of a higher level are handed out first (FIFO within a
 * level). The operator puts what completes work already under way (a child of a tenant changed, a
 * person changed a Tenant) above new tenants, and those above the initial list and resyncs — so in
 * a burst of hundreds of new tenants, each tenant's status-completing reconcile does not wait for
 * every other tenant's first one.
 *
 * One deliberate difference from client-go: after `shutDown` the queue hands
 * out nothing more (`get` resolves `undefined` at once, queued keys are
 * dropped) — on SIGTERM the operator stops taking work and a new leader
 * resyncs every tenant anyway. `shutDownWithDrain` additionally waits until
 * every key already handed out has been `done`.
 */
import { createSystemClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { createDefaultControllerRateLimiter } from './rate-limiter.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface WorkQueueOptions<K> {
  /** Time source for delays; defaults to the system clock. */
  clock?: Clock;
  /** Used by `addRateLimited`; defaults to client-go's default controller rate limiter. */
  rateLimiter?: RateLimiter<K>;
  /** Called with the number of keys ready to be handed out whenever it changes (for a depth gauge). */
  onDepthChange?: (depth: number) => void;
}

/** `high`: work under way (a child changed, a spec changed); `normal`: new work; `low`: lists and resyncs. */
export type Priority = 'high' | 'normal' | 'low';
const LEVELS: readonly Priority[] = ['high', 'normal', 'low'];
const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

interface Delayed<K> {
  key: K;
  readyAt: number;
  seq: number;
  priority: Priority;
}

export class WorkQueue<K> {
  #clock: Clock;
  #rateLimiter: RateLimiter<K>;
  #onDepthChange: ((depth: number) => void) | undefined;

  /** Keys ready to be handed out, in FIFO order per priority. Every key here is also dirty. */
  #queues: Record<Priority, Set<K>> = { high: new Set(), normal: new Set(), low: new Set() };
  /** Keys that need processing (queued, or re-added while processing), with their priority. */
  #dirty = new Map<K, Priority>();
  /** Keys handed out and not yet `done`. */
  #processing = new Set<K>();
  #getters: Array<(key: K | undefined) => void> = [];

  /** Min-heap of delayed keys by (readyAt, seq); entries whose seq is no longer current are stale. */
  #heap: Delayed<K>[] = [];
  #delayed = new Map<K, Delayed<K>>();
  #seq = 0;
  #timer: TimerHandle | undefined;
  #timerDueAt = Infinity;

  #shuttingDown = false;
  #drainWaiters: Array<() => void> = [];
  #lastDepth = 0;

  constructor(options: WorkQueueOptions<K> = {}) {
    this.#clock = options.clock ?? createSystemClock();
    this.#rateLimiter = options.rateLimiter ?? createDefaultControllerRateLimiter<K>({ clock: this.#clock });
    this.#onDepthChange = options.onDepthChange;
  }

  /**
   * Queue `key` now at `priority` (default `normal`). A key already queued stays queued once, at
   * the higher of its priorities; nothing happens after shutdown.
   */
  add(key: K, priority: Priority = 'normal'): void {
    if (this.#shuttingDown) return;
    const known = this.#dirty.get(key);
    if (known !== undefined && RANK[known] <= RANK[priority]) return;
    this.#dirty.set(key, priority);
    if (this.#processing.has(key)) return;
    if (known !== undefined) this.#queues[known].delete(key);
    this.#queues[priority].add(key);
    this.#dispatch();
  }

  /** Queue `key` after `delayMs`; if it is already waiting, the earlier time wins. */
  addAfter(key: K, delayMs: number, priority: Priority = 'normal'): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key, priority);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing !== undefined && existing.readyAt <= readyAt) return;
    const entry: Delayed<K> = { key, readyAt, seq: this.#seq++, priority };
    this.#delayed.set(key, entry);
    this.#heapPush(entry);
    this.#armTimer();
  }

  /** Queue `key` after the delay its rate limiter gives (records one failure). */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Reset the backoff of `key` (call after it was processed successfully). */
  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  /** Failures recorded for `key` since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * The next key to process; waits until one is ready. Resolves `undefined`
   * once the queue is shut down. The caller must call `done(key)` afterwards.
   */
  get(): Promise<K | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    if (this.len() > 0) return Promise.resolve(this.#take());
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Mark `key` as processed; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    const priority = this.#dirty.get(key);
    if (!this.#shuttingDown && priority !== undefined) {
      this.#queues[priority].add(key);
      this.#dispatch();
    }
    if (this.#processing.size === 0 && this.#drainWaiters.length > 0) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Keys ready to be handed out (not counting delayed or in-process keys). */
  len(): number {
    return this.#queues.high.size + this.#queues.normal.size + this.#queues.low.size;
  }

  /** Keys ready to be handed out at `priority`. */
  lenAt(priority: Priority): number {
    return this.#queues[priority].size;
  }

  /** Keys waiting for their `addAfter`/`addRateLimited` delay. */
  delayedLen(): number {
    return this.#delayed.size;
  }

  /** Keys handed out and not yet `done`. */
  processingLen(): number {
    return this.#processing.size;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stop: no more adds, `get` resolves `undefined`, queued and delayed keys are dropped. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueAt = Infinity;
    this.#heap = [];
    this.#delayed.clear();
    for (const level of LEVELS) this.#queues[level].clear();
    this.#dirty.clear();
    this.#emitDepth();
    const getters = this.#getters;
    this.#getters = [];
    for (const resolve of getters) resolve(undefined);
  }

  /** `shutDown`, then resolve once every key already handed out has been `done`. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #take(): K {
    const level = LEVELS.find((l) => this.#queues[l].size > 0);
    const first = level === undefined ? undefined : this.#queues[level].values().next();
    if (level === undefined || first === undefined || first.done === true)
      throw new Error('work queue invariant broken: take() on an empty queue');
    const key = first.value;
    this.#queues[level].delete(key);
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#emitDepth();
    return key;
  }

  /** Hand ready keys to waiting getters, then report the depth. */
  #dispatch(): void {
    while (this.#getters.length > 0 && this.len() > 0) {
      const resolve = this.#getters.shift();
      resolve?.(this.#take());
    }
    this.#emitDepth();
  }

  #emitDepth(): void {
    const depth = this.len();
    if (depth === this.#lastDepth) return;
    this.#lastDepth = depth;
    this.#onDepthChange?.(depth);
  }

  #armTimer(): void {
    this.#dropStaleTop();
    const top = this.#heap[0];
    if (top === undefined) {
      if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDueAt = Infinity;
      return;
    }
    if (this.#timer !== undefined && this.#timerDueAt <= top.readyAt) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerDueAt = top.readyAt;
    this.#timer = this.#clock.setTimeout(() => this.#onTimer(), top.readyAt - this.#clock.now());
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDueAt = Infinity;
    if (this.#shuttingDown) return;
    const now = this.#clock.now();
    for (;;) {
      this.#dropStaleTop();
      const top = this.#heap[0];
      if (top === undefined || top.readyAt > now) break;
      this.#heapPop();
      this.#delayed.delete(top.key);
      this.add(top.key, top.priority);
    }
    this.#armTimer();
  }

  #dropStaleTop(): void {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || this.#delayed.get(top.key) === top) return;
      this.#heapPop();
    }
  }

  #heapPush(entry: Delayed<K>): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #heapPop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < heap.length && before(heap[l]!, heap[smallest]!)) smallest = l;
      if (r < heap.length && before(heap[r]!, heap[smallest]!)) smallest = r;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

function before<K>(a: Delayed<K>, b: Delayed<K>): boolean {
  return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
}
