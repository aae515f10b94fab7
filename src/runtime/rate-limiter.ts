/**
 * Rate limiters for the work queue, after client-go's `util/workqueue`:
 * a per-item exponential backoff, an overall token bucket, and the maximum of
 * both as the default controller rate limiter.
 */
import type { Clock } from './clock.ts';

export interface RateLimiter<K> {
  /** How long `key` should wait before its next attempt; records one failure. */
  when(key: K): number;
  /** Clear the failure history of `key` (call after a success). */
  forget(key: K): void;
  /** How many times `key` has been rate-limited since it was last forgotten. */
  numRequeues(key: K): number;
}

export interface ExponentialBackoffOptions {
  /** Delay after the first failure, in ms. Default 5. */
  baseDelayMs?: number;
  /** Upper bound for the delay, in ms. Default 1 000 000 (1000 s). */
  maxDelayMs?: number;
}

/** Per-item exponential backoff: `baseDelayMs · 2^failures`, capped at `maxDelayMs`. */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  #failures = new Map<K, number>();
  #base: number;
  #max: number;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.#base = options.baseDelayMs ?? 5;
    this.#max = options.maxDelayMs ?? 1_000_000;
    if (!(this.#base >= 0) || !(this.#max >= this.#base)) {
      throw new RangeError(
        `exponential backoff needs 0 <= baseDelayMs <= maxDelayMs, got base ${this.#base} and max ${this.#max}`,
      );
    }
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2 ** 1100 is Infinity, so the cap also protects against overflow.
    return Math.min(this.#base * 2 ** failures, this.#max);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Tokens added per second. Default 10. */
  qps?: number;
  /** Bucket size (and initial fill). Default 100. */
  burst?: number;
  clock: Clock;
}

/**
 * Overall token bucket shared by all items: each call reserves one token and
 * returns how long the caller must wait for it (like `rate.Limiter.Reserve`).
 */
export class TokenBucketRateLimiter<K> implements RateLimiter<K> {
  #qps: number;
  #burst: number;
  #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(options: TokenBucketOptions) {
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
    if (!(this.#qps > 0) || !(this.#burst >= 1)) {
      throw new RangeError(
        `token bucket needs qps > 0 and burst >= 1, got qps ${this.#qps}, burst ${this.#burst}`,
      );
    }
    this.#clock = options.clock;
    this.#tokens = this.#burst;
    this.#last = options.clock.now();
  }

  when(_key: K): number {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#qps);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** Combines limiters: waits as long as the slowest one says. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  #limiters: RateLimiter<K>[];

  constructor(limiters: RateLimiter<K>[]) {
    if (limiters.length === 0) throw new RangeError('MaxOfRateLimiter needs at least one limiter');
    this.#limiters = limiters;
  }

  when(key: K): number {
    let max = 0;
    for (const limiter of this.#limiters) max = Math.max(max, limiter.when(key));
    return max;
  }

  forget(key: K): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: K): number {
    let max = 0;
    for (const limiter of this.#limiters) max = Math.max(max, limiter.numRequeues(key));
    return max;
  }
}

export interface DefaultControllerRateLimiterOptions extends ExponentialBackoffOptions {
  clock: Clock;
  qps?: number;
  burst?: number;
}

/** client-go's default: max(per-item 5 ms · 2^n capped at 1000 s, bucket 10 qps / burst 100). */
export function createDefaultControllerRateLimiter<K>(
  options: DefaultControllerRateLimiterOptions,
): RateLimiter<K> {
  return new MaxOfRateLimiter<K>([
    new ItemExponentialRateLimiter<K>(options),
    new TokenBucketRateLimiter<K>({ clock: options.clock, qps: options.qps, burst: options.burst }),
  ]);
}
