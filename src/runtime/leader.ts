/**
 * Leader election on a Lease, following client-go's `leaderelection`:
 *
 * - A candidate takes the lease when it does not exist, is released
 *   (empty holder), is already ours, or has not changed for the holder's
 *   `leaseDurationSeconds` as measured on *our* clock since we last saw it
 *   change (so clock skew between replicas does not matter).
 * - The leader renews every `retryPeriodMs`. If no renewal succeeds within
 *   `renewDeadlineMs` of the last good one, it stops leading at once
 *   (`onStoppedLeading('lost')`); since `renewDeadlineMs < leaseDurationMs`
 *   it has stopped before any standby may take over.
 * - Writes are optimistic (resourceVersion); a 409 is just a failed attempt.
 * - `release()` (graceful shutdown) writes an empty holder with a 1 s
 *   duration so a standby takes over on its next try.
 * - A standby retries every `retryPeriodMs` (jittered), but also wakes exactly
 *   when the lease it observed expires, so a dead leader is replaced within
 *   one polling interval plus the lease duration, not two polling intervals
 *   plus the lease duration (≤ 19.4 s instead of ≤ 23.8 s with 15 s / 2 s).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { sleep } from './backoff.ts';
import { createSystemClock } from './clock.ts';
import type { Clock } from './clock.ts';

/** The election-relevant part of `coordination.k8s.io/v1` LeaseSpec; times are `clock` milliseconds. */
export interface LeaseRecord {
  /** Empty when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number | undefined;
  renewTime: number | undefined;
  leaseTransitions: number;
}

export interface LeaseSnapshot {
  record: LeaseRecord;
  resourceVersion: string;
}

/** Storage of one Lease object. Implemented over the API server by `kube/lease-client.ts`. */
export interface LeaseClient {
  /** For logs, e.g. `lease neurallog-system/neurallog-operator.neurallog.io`. */
  readonly description: string;
  /** The lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<LeaseSnapshot | undefined>;
  /** Create it; throws `LeaseConflictError` when it already exists. */
  create(record: LeaseRecord, signal: AbortSignal): Promise<LeaseSnapshot>;
  /** Replace it if still at `resourceVersion`; throws `LeaseConflictError` otherwise. */
  update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<LeaseSnapshot>;
}

/** Someone else wrote the lease first (HTTP 409); the next attempt will read it again. */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
  constructor(what: string, options?: { cause?: unknown }) {
    super(
      `${what} was changed by another candidate in the meantime; it will be read again and retried`,
      options,
    );
  }
}

export type StoppedLeadingReason = 'lost' | 'released';

export interface LeaderElectorOptions {
  client: LeaseClient;
  /** Unique per process; see `defaultLeaderIdentity()`. */
  identity: string;
  logger: Logger;
  clock?: Clock;
  /** How long a standby waits for a silent lease before taking it. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before giving up. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Source of randomness in [0, 1) for retry jitter. Default `Math.random`. */
  random?: () => number;
  /** We became leader. `signal` aborts when leadership ends for any reason. */
  onStartedLeading?(signal: AbortSignal): void;
  /**
   * Leadership ended: `lost` (renewal failed past the deadline, or another
   * holder appeared — the process must stop reconciling now) or `released`
   * (after `release()` or the `run()` signal).
   */
  onStoppedLeading?(reason: StoppedLeadingReason): void;
  /** The observed holder changed (our own identity included). */
  onNewLeader?(identity: string): void;
}

/** `hostname_<random hex>`, as client-go-based operators do. */
export function defaultLeaderIdentity(hostname: string = os.hostname()): string {
  return `${hostname}_${randomBytes(4).toString('hex')}`;
}

const JITTER_FACTOR = 1.2; // client-go's JitterFactor for acquire retries

export class LeaderElector {
  readonly identity: string;
  readonly #client: LeaseClient;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #random: () => number;
  readonly #callbacks: Pick<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>;

  #observed: LeaseSnapshot | undefined;
  #observedAt = 0;
  #leading = false;
  #heldByOther = false;
  /** When the lease another holder has stops being valid, on our clock (when `#heldByOther`). */
  #heldUntil = 0;
  #releaseController = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.#client = options.client;
    this.#clock = options.clock ?? createSystemClock();
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#random = options.random ?? Math.random;
    this.#callbacks = options;
    this.#log = options.logger.child({ lease: options.client.description, identity: options.identity });
    if (!options.identity) throw new RangeError('leader election needs a non-empty identity');
    if (this.#leaseDurationMs % 1000 !== 0) {
      throw new RangeError(
        `leaseDurationMs must be whole seconds (the Lease stores seconds), got ${this.#leaseDurationMs}`,
      );
    }
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs)) {
      throw new RangeError(
        `leaseDurationMs (${this.#leaseDurationMs}) must be greater than renewDeadlineMs (${this.#renewDeadlineMs}), ` +
          'or two replicas could lead at once',
      );
    }
    if (!(this.#renewDeadlineMs > JITTER_FACTOR * this.#retryPeriodMs)) {
      throw new RangeError(
        `renewDeadlineMs (${this.#renewDeadlineMs}) must be greater than ${JITTER_FACTOR} × retryPeriodMs ` +
          `(${this.#retryPeriodMs})`,
      );
    }
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last observed in the lease ('' when released, undefined before the first read). */
  observedLeader(): string | undefined {
    return this.#observed?.record.holderIdentity;
  }

  /**
   * Campaign, lead, and return when leadership ends (lost or released) or
   * `signal` aborts before we ever led. Aborting `signal` while leading
   * releases the lease like `release()`.
   */
  run(signal?: AbortSignal): Promise<void> {
    if (this.#running)
      throw new Error('LeaderElector.run() is already running; create one elector per campaign');
    this.#running = this.#run(signal);
    return this.#running;
  }

  /** Stop campaigning; if leading, hand the lease over so a standby takes it at once. */
  async release(): Promise<void> {
    this.#releaseController.abort();
    await this.#running;
  }

  async #run(external: AbortSignal | undefined): Promise<void> {
    const stop = external
      ? AbortSignal.any([external, this.#releaseController.signal])
      : this.#releaseController.signal;
    this.#log.info('campaigning for leadership');

    while (!stop.aborted) {
      if (await this.#attempt(stop, this.#clock.now() + this.#renewDeadlineMs)) break;
      const retryMs = this.#retryPeriodMs * (1 + this.#random() * JITTER_FACTOR);
      const untilExpiryMs = this.#heldByOther ? this.#heldUntil - this.#clock.now() : retryMs;
      await sleep(this.#clock, Math.max(0, Math.min(retryMs, untilExpiryMs)), stop);
    }
    if (stop.aborted) {
      this.#log.info('stopped campaigning before becoming leader');
      return;
    }

    let lastRenewAt = this.#observedAt;
    const leadership = new AbortController();
    this.#leading = true;
    this.#log.info('became leader');
    this.#safely('onStartedLeading', () => this.#callbacks.onStartedLeading?.(leadership.signal));

    let lost = false;
    while (!stop.aborted && !lost) {
      await sleep(this.#clock, this.#retryPeriodMs, stop);
      if (stop.aborted) break;
      const deadlineAt = lastRenewAt + this.#renewDeadlineMs;
      let renewed = false;
      while (!stop.aborted && this.#clock.now() < deadlineAt) {
        if (await this.#attempt(stop, deadlineAt)) {
          renewed = true;
          lastRenewAt = this.#observedAt;
          break;
        }
        const left = deadlineAt - this.#clock.now();
        if (this.#heldByOther || left <= 0) break;
        await sleep(this.#clock, Math.min(this.#retryPeriodMs, left), stop);
      }
      if (!renewed && !stop.aborted) lost = true;
    }

    this.#leading = false;
    leadership.abort();
    if (lost) {
      this.#log.error(
        { renewDeadlineMs: this.#renewDeadlineMs, heldBy: this.observedLeader() },
        'lost leadership: could not renew the lease in time; stop reconciling now',
      );
      this.#safely('onStoppedLeading', () => this.#callbacks.onStoppedLeading?.('lost'));
      return;
    }
    await this.#releaseLease();
    this.#safely('onStoppedLeading', () => this.#callbacks.onStoppedLeading?.('released'));
  }

  /** One acquire-or-renew try, cut off at `deadlineAt`. */
  async #attempt(stop: AbortSignal, deadlineAt: number): Promise<boolean> {
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    const timer = this.#clock.setTimeout(
      () => controller.abort(new Error('leader election attempt hit its deadline')),
      deadlineAt - this.#clock.now(),
    );
    try {
      const attempt = this.#tryAcquireOrRenew(controller.signal);
      attempt.catch(() => {});
      const aborted = new Promise<false>((resolve) =>
        controller.signal.addEventListener('abort', () => resolve(false), { once: true }),
      );
      return await Promise.race([attempt, aborted]);
    } catch (err) {
      this.#log.error({ err }, 'leader election attempt failed unexpectedly; retrying');
      return false;
    } finally {
      this.#clock.clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
      controller.abort();
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    this.#heldByOther = false;
    const now = this.#clock.now();
    let current: LeaseSnapshot | undefined;
    try {
      current = await this.#client.get(signal);
    } catch (err) {
      if (!signal.aborted) this.#log.warn({ err }, 'could not read the lease; retrying');
      return false;
    }
    if (signal.aborted) return false;

    if (current === undefined) {
      const record: LeaseRecord = {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.#leaseDurationMs / 1000,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
      try {
        this.#observe(await this.#client.create(record, signal), now);
        return !signal.aborted;
      } catch (err) {
        this.#logWriteFailure(err, signal, 'create');
        return false;
      }
    }

    // As client-go does: the lease was observed when the answer arrived, not when it was asked for
    // (a slow GET must not shorten the lease another replica holds).
    this.#observe(current, this.#clock.now());
    const holder = current.record.holderIdentity;
    const expiresAt = this.#observedAt + current.record.leaseDurationSeconds * 1000;
    if (holder !== '' && holder !== this.identity && expiresAt > now) {
      this.#heldByOther = true;
      this.#heldUntil = expiresAt;
      return false;
    }
    const ours = holder === this.identity;
    const record: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.#leaseDurationMs / 1000,
      acquireTime: ours ? (current.record.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: ours ? current.record.leaseTransitions : current.record.leaseTransitions + 1,
    };
    try {
      this.#observe(await this.#client.update(record, current.resourceVersion, signal), now);
      return !signal.aborted;
    } catch (err) {
      this.#logWriteFailure(err, signal, ours ? 'renew' : 'take over');
      return false;
    }
  }

  #observe(snapshot: LeaseSnapshot, now: number): void {
    const previous = this.#observed;
    if (previous?.resourceVersion === snapshot.resourceVersion) return;
    this.#observed = snapshot;
    this.#observedAt = now;
    const holder = snapshot.record.holderIdentity;
    if (holder !== '' && holder !== previous?.record.holderIdentity) {
      if (holder !== this.identity) this.#log.info({ leader: holder }, 'observed a new leader');
      this.#safely('onNewLeader', () => this.#callbacks.onNewLeader?.(holder));
    }
  }

  #logWriteFailure(err: unknown, signal: AbortSignal, what: string): void {
    if (signal.aborted) return;
    if (err instanceof LeaseConflictError) this.#log.debug({ err }, `lease ${what} lost a race; retrying`);
    else this.#log.warn({ err }, `could not ${what} the lease; retrying`);
  }

  async #releaseLease(): Promise<void> {
    const controller = new AbortController();
    const timer = this.#clock.setTimeout(
      () => controller.abort(new Error('lease release timed out')),
      this.#renewDeadlineMs,
    );
    try {
      const current = await this.#client.get(controller.signal);
      if (!current || current.record.holderIdentity !== this.identity) {
        this.#log.info('lease no longer ours; nothing to release');
        return;
      }
      const now = this.#clock.now();
      this.#observe(
        await this.#client.update(
          {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: current.record.leaseTransitions,
          },
          current.resourceVersion,
          controller.signal,
        ),
        now,
      );
      this.#log.info('released the lease; a standby can take over at once');
    } catch (err) {
      this.#log.warn(
        { err, leaseDurationMs: this.#leaseDurationMs },
        'could not release the lease; a standby takes over once it expires',
      );
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  #safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, `${what} callback threw; ignoring it`);
    }
  }
}
