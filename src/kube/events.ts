/**
 * Kubernetes Events about Tenants (what `kubectl describe tenant` shows). Identical events
 * (same tenant, type, reason and message) are aggregated into one Event whose count grows,
 * as client-go's recorder does, instead of a new object each time.
 *
 * Like client-go's broadcaster, recording never waits for the API server: `record` queues the
 * event and returns, and one sender writes them in order. A reconcile therefore costs no
 * round-trips for its events (on a first reconcile they are half of all requests). The queue is
 * bounded; when it is full new events are dropped with a warning, never blocking a reconcile.
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
const DEFAULT_MAX_PENDING = 1000;
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
  /** Events that may wait to be written; more are dropped. Default 1000. */
  maxPending?: number;
}): QueuedEventRecorder {
  const { rest, logger, instance } = options;
  const now = options.now ?? (() => new Date());
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const seen = new Map<string, Remembered>();
  const queue: PendingEvent[] = [];
  let sending: Promise<void> | undefined;
  let dropped = 0;

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

  async function write({ tenant, type, reason, message, at }: PendingEvent): Promise<void> {
    const key = `${tenant.uid ?? tenant.name}\u0000${type}\u0000${reason}\u0000${message}`;
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

  async function sendAll(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) await write(next);
    sending = undefined;
  }

  return {
    record(tenant, type, reason, message) {
      if (queue.length >= maxPending) {
        if (dropped++ % 100 === 0) {
          logger.warn({ tenant: tenant.name, reason, dropped }, 'event queue full; dropping events');
        }
        return Promise.resolve();
      }
      queue.push({ tenant, type, reason, message, at: now() });
      sending ??= sendAll();
      return Promise.resolve();
    },
    async flush(timeoutMs = DEFAULT_FLUSH_TIMEOUT_MS) {
      if (!sending) return;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([sending, expired]);
      clearTimeout(timer);
    },
    pending: () => queue.length,
  };
}
