/**
 * Kubernetes Events about Tenants (what `kubectl describe tenant` shows). Identical events
 * (same tenant, type, reason and message) are aggregated into one Event whose count grows,
 * as client-go's recorder does, instead of a new object each time.
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

export type EventType = 'Normal' | 'Warning';

export interface TenantRef {
  name: string;
  uid?: string;
}

export interface EventRecorder {
  record(tenant: TenantRef, type: EventType, reason: string, message: string): Promise<void>;
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
}): EventRecorder {
  const { rest, logger, instance } = options;
  const now = options.now ?? (() => new Date());
  const seen = new Map<string, Remembered>();

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

  return {
    async record(tenant, type, reason, message) {
      const at = now();
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
    },
  };
}
