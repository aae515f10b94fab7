/**
 * Time as a dependency: the work queue, rate limiter and controller read the
 * time and arm timers only through a `Clock`, so tests can drive them with
 * `FakeClock` instead of sleeping.
 */

/** Opaque handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since an arbitrary epoch; only differences are meaningful. */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock and the global timers. `now()` is wall-clock milliseconds
 * measured monotonically (`performance.timeOrigin + performance.now()`), so
 * durations never go negative when the system time is adjusted.
 */
export function createSystemClock(): Clock {
  return {
    now: () => performance.timeOrigin + performance.now(),
    setTimeout: (fn, delayMs) => setTimeout(fn, Math.max(0, delayMs)),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

interface FakeTimer {
  id: number;
  dueAt: number;
  fn: () => void;
}

/**
 * A manual clock for tests. Time moves only through `advance`/`set`; timers
 * due within the advanced window fire in due-time order (ties in creation
 * order), including timers armed by other timers during the advance.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, FakeTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, dueAt: this.#now + Math.max(0, delayMs), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Number of armed, not yet fired timers. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /** Due time of the earliest armed timer, or undefined when none is armed. */
  nextDueAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers.values()) if (min === undefined || t.dueAt < min) min = t.dueAt;
    return min;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`FakeClock.advance needs a non-negative duration, got ${ms}`);
    this.set(this.#now + ms);
  }

  /** Move time forward to the absolute time `targetMs`. */
  set(targetMs: number): void {
    if (targetMs < this.#now) {
      throw new RangeError(`FakeClock cannot go back in time (now ${this.#now}, asked for ${targetMs})`);
    }
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.dueAt <= targetMs && (next === undefined || t.dueAt < next.dueAt)) next = t;
      }
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.dueAt);
      next.fn();
    }
    this.#now = targetMs;
  }
}
