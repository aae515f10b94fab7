/**
 * Kubernetes Events about Tenants (what `kubectl describe tenant` shows). Identical events
 * (same tenant, type, reason and message) are aggregated into one Event whose count grows,
 * as client-go's recorder does, instead of a new object each time.
 *
 * Like client-go's broadcaster, recording never waits for the API server: `record` queues the
 * event and returns, and a few senders write them in parallel — Warnings before Normal events,
 * each (tenant, type, reason, message) one at a time so that aggregation stays in order. A
 * reconcile therefore costs no round-trips for its events. The queue is bounded: when it is full, a
 * Warning takes the place of the oldest waiting Normal event; anything that cannot be kept is
 * dropped, counted (`onDropped`, the `neurallog_operator_events_dropped_total` metric) and logged —
 * never silently, and never blocking a reconcile.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { API_VERSION, KIND } from '../api/tenant.ts';
import { type KubeRest, isNotFound } from './rest.ts';
import { EVENT_TYPE, collectionPath, objectPath } from './resources.ts';

export const REPORTING_CONTROLLER = 'tenant-controller';
/** Events about cluster-scoped objects live in `default`, as client-go's recorder puts them. */
export const EVENT_NAMESPACE = 'default';
const AGGREGATION_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;
const DEFAULT_MAX_PENDING = 10_000;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_FLUSH_TIMEOUT_MS = 5_000;

export type EventType = 'Normal' | 'Warning';

export interface TenantRef {
  name: string;
  uid?: string;
}

export interface EventRecorder {
  record(tenant: TenantRef, type: EventType, reason: string, message: string): Promise<void>;
}

export interface QueuedEventRecorder extends EventRecorder {
  /** Resolves once every event queued so far has been written (or given up on), or after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  /** Events waiting to be written. */
  pending(): number;
}

interface PendingEvent {
  tenant: TenantRef;
  type: EventType;
  reason: string;
  message: string;
  at: Date;
}

interface Remembered {
  name: string;
  count: number;
  firstTimestamp: string;
  lastSeenMs: number;
}

export function createEventRecorder(options: {
  rest: KubeRest;
  logger: Logger;
  instance: string;
  now?: () => Date;
  /** Events that may wait to be written; more are dropped (Normal ones first). Default 10 000. */
  maxPending?: number;
  /** Events written at once. Default 4. */
  concurrency?: number;
  /** Called for every event that could not be kept. */
  onDropped?: (type: EventType) => void;
}): QueuedEventRecorder {
  const { rest, logger, instance } = options;
  const now = options.now ?? (() => new Date());
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const seen = new Map<string, Remembered>();
  const queues: Record<EventType, PendingEvent[]> = { Warning: [], Normal: [] };
  /** Keys being written now: the same key is never written twice at once. */
  const inFlight = new Set<string>();
  let senders = 0;
  let dropped = 0;
  const idle: Array<() => void> = [];

  function forgetOldest(): void {
    if (seen.size <= MAX_REMEMBERED) return;
    const oldest = seen.keys().next().value;
    if (oldest !== undefined) seen.delete(oldest);
  }

  async function create(tenant: TenantRef, type: EventType, reason: string, message: string, at: Date) {
    const name = `${tenant.name}.${randomBytes(8).toString('hex')}`;
    const timestamp = at.toISOString();
    await rest.request('POST', collectionPath(EVENT_TYPE, EVENT_NAMESPACE), {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: EVENT_NAMESPACE },
        involvedObject: {
          apiVersion: API_VERSION,
          kind: KIND,
          name: tenant.name,
          ...(tenant.uid ? { uid: tenant.uid } : {}),
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        source: { component: REPORTING_CONTROLLER },
        reportingComponent: REPORTING_CONTROLLER,
        reportingInstance: instance,
      },
    });
    return { name, count: 1, firstTimestamp: timestamp, lastSeenMs: at.getTime() };
  }

  const keyOf = ({ tenant, type, reason, message }: PendingEvent) =>
    `${tenant.uid ?? tenant.name}\u0000${type}\u0000${reason}\u0000${message}`;

  async function write(event: PendingEvent): Promise<void> {
    const { tenant, type, reason, message, at } = event;
    const key = keyOf(event);
    const previous = seen.get(key);
    try {
      if (previous && at.getTime() - previous.lastSeenMs < AGGREGATION_WINDOW_MS) {
        const count = previous.count + 1;
        try {
          await rest.request('PATCH', objectPath(EVENT_TYPE, previous.name, EVENT_NAMESPACE), {
            body: { count, lastTimestamp: at.toISOString() },
            contentType: 'application/merge-patch+json',
          });
          seen.delete(key);
          seen.set(key, { ...previous, count, lastSeenMs: at.getTime() });
          return;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      seen.delete(key);
      seen.set(key, await create(tenant, type, reason, message, at));
      forgetOldest();
    } catch (error) {
      // An event that cannot be written must never fail a reconcile.
      logger.warn({ err: error, tenant: tenant.name, reason }, 'could not record event');
    }
  }

  const waiting = () => queues.Warning.length + queues.Normal.length;

  /** The next event whose key is not being written: Warnings first, oldest first. */
  function takeNext(): PendingEvent | undefined {
    for (const queue of [queues.Warning, queues.Normal]) {
      const i = queue.findIndex((e) => !inFlight.has(keyOf(e)));
      if (i >= 0) return queue.splice(i, 1)[0];
    }
    return undefined;
  }

  async function sender(): Promise<void> {
    for (let next = takeNext(); next; next = takeNext()) {
      const key = keyOf(next);
      inFlight.add(key);
      try {
        await write(next);
      } finally {
        inFlight.delete(key);
      }
    }
    senders -= 1;
    // A key that was in flight may have held back others: keep enough senders running.
    startSenders();
    if (senders === 0 && waiting() === 0) for (const resolve of idle.splice(0)) resolve();
  }

  function startSenders(): void {
    while (senders < concurrency && takeable()) {
      senders += 1;
      void sender();
    }
  }

  const takeable = () =>
    queues.Warning.some((e) => !inFlight.has(keyOf(e))) || queues.Normal.some((e) => !inFlight.has(keyOf(e)));

  function drop(event: Pick<PendingEvent, 'tenant' | 'type' | 'reason'>): void {
    options.onDropped?.(event.type);
    if (dropped++ % 100 === 0) {
      logger.warn(
        { tenant: event.tenant.name, type: event.type, reason: event.reason, dropped },
        'event queue full; dropping events',
      );
    }
  }

  return {
    record(tenant, type, reason, message) {
      const event: PendingEvent = { tenant, type, reason, message, at: now() };
      if (waiting() >= maxPending) {
        // A Warning is worth more than the oldest waiting Normal event.
        const evicted = type === 'Warning' ? queues.Normal.shift() : undefined;
        if (!evicted) {
          drop(event);
          return Promise.resolve();
        }
        drop(evicted);
      }
      queues[type].push(event);
      startSenders();
      return Promise.resolve();
    },
    async flush(timeoutMs = DEFAULT_FLUSH_TIMEOUT_MS) {
      if (senders === 0 && waiting() === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([new Promise<void>((resolve) => idle.push(resolve)), expired]);
      clearTimeout(timer);
    },
    pending: waiting,
  };
}
