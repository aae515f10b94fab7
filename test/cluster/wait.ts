// Waiting on conditions, never on the clock: poll a probe until it yields a
// value or the deadline passes, then fail with what was last observed.

export interface WaitOptions {
  /** Give up after this long (milliseconds). */
  timeoutMs: number;
  /** What is being waited for, used in the error message. */
  description: string;
  /** Pause between probes (milliseconds). Default 250. */
  intervalMs?: number;
  /** Aborts the wait early (e.g. a test's own signal). */
  signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  readonly description: string;
  readonly lastObserved: unknown;

  constructor(description: string, timeoutMs: number, lastObserved: unknown, cause?: unknown) {
    super(
      `timed out after ${timeoutMs} ms waiting for ${description}` +
        (lastObserved === undefined ? '' : `; last observed: ${describe(lastObserved)}`),
      cause === undefined ? undefined : { cause },
    );
    this.name = 'WaitTimeoutError';
    this.description = description;
    this.lastObserved = lastObserved;
  }
}

/** A probe result that means "not yet", with an optional note for the error message. */
export interface NotYet {
  readonly notYet: true;
  readonly observed?: unknown;
}

export function notYet(observed?: unknown): NotYet {
  return { notYet: true, observed };
}

function isNotYet(value: unknown): value is NotYet {
  return typeof value === 'object' && value !== null && (value as { notYet?: unknown }).notYet === true;
}

/**
 * Calls `probe` until it returns something other than `undefined`, `false`,
 * `null` or `notYet(...)`, and returns that. A probe that throws is retried
 * (the error is kept for the timeout message) unless it throws a
 * `FatalWaitError`, which ends the wait at once.
 */
export async function waitFor<T>(
  probe: () => Promise<T | NotYet | undefined | null | false> | T | NotYet | undefined | null | false,
  options: WaitOptions,
): Promise<T> {
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + options.timeoutMs;
  let lastObserved: unknown;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await probe();
      if (isNotYet(value)) {
        lastObserved = value.observed;
      } else if (value !== undefined && value !== null && value !== false) {
        return value;
      } else {
        lastObserved = value;
      }
      lastError = undefined;
    } catch (error) {
      if (error instanceof FatalWaitError) throw error;
      lastError = error;
      lastObserved = error instanceof Error ? error.message : error;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new WaitTimeoutError(options.description, options.timeoutMs, lastObserved, lastError);
    }
    await delay(Math.min(intervalMs, remaining), options.signal);
  }
}

/** Thrown from a probe to stop waiting immediately (e.g. the process being waited on died). */
export class FatalWaitError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalWaitError';
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 500 ? `${value.slice(0, 500)}…` : value;
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 500 ? `${json.slice(0, 500)}…` : json;
  } catch {
    return String(value);
  }
}
