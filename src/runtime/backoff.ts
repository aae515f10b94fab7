/**
 * Retry pacing for long-running loops (watch caches, leader election):
 * exponential growth, a cap, jitter so that many replicas do not retry in
 * lock-step, and a reset once the loop has been healthy for a while.
 */
import type { Clock } from './clock.ts';

export interface BackoffOptions {
  clock: Clock;
  /** First delay. Default 500 ms. */
  initialMs?: number;
  /** Upper bound of any delay, jitter included. Default 30 s. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /**
   * Fraction of each delay that is randomised, 0..1. With 0.5 a nominal
   * delay `d` becomes a value in `[d/2, d]`. Default 0.5.
   */
  jitter?: number;
  /**
   * When `next()` has not been called for this long, the loop is considered
   * healthy again and the delay starts over from `initialMs`. Default 2 min
   * (client-go's reflector uses the same figure).
   */
  resetAfterMs?: number;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  random?: () => number;
}

export class Backoff {
  readonly #clock: Clock;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfterMs: number;
  readonly #random: () => number;
  #attempt = 0;
  #lastAt: number | undefined;

  constructor(options: BackoffOptions) {
    this.#clock = options.clock;
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.#resetAfterMs = options.resetAfterMs ?? 120_000;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs) || !(this.#factor >= 1)) {
      throw new RangeError(
        `Backoff needs 0 < initialMs <= maxMs and factor >= 1 (got initialMs=${this.#initialMs}, ` +
          `maxMs=${this.#maxMs}, factor=${this.#factor})`,
      );
    }
  }

  /** Number of delays handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay to wait before the next attempt; each call counts as one failure. */
  next(): number {
    const now = this.#clock.now();
    if (this.#lastAt !== undefined && now - this.#lastAt >= this.#resetAfterMs) this.#attempt = 0;
    this.#lastAt = now;
    const nominal = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt++;
    const delay = nominal * (1 - this.#jitter) + nominal * this.#jitter * this.#random();
    return Math.min(this.#maxMs, Math.max(0, Math.round(delay)));
  }

  /** Start over from `initialMs` (after a clear success). */
  reset(): void {
    this.#attempt = 0;
    this.#lastAt = undefined;
  }
}

/**
 * Wait `ms` on `clock`, or less if `signal` aborts. Never rejects: callers
 * check `signal.aborted` afterwards.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clock.clearTimeout(handle);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const handle = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
