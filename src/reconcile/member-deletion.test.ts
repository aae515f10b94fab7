import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { resolveTenant } from '../api/resolve.ts';
import { parseTenant } from '../api/validate.ts';
import type { KubeObject } from '../kube/objects.ts';
import { FINALIZER } from '../render/meta.ts';
import { type PendingCleanup, finalizeOnUnreachableMember } from './member-deletion.ts';
import type { ReconcileServices, TenantObject } from './ports.ts';

const DELETED = '2030-01-01T00:00:00Z';
const MINUTE = 60_000;

function setup(options: {
  nowMs: number;
  authFails?: boolean;
  unreachableSince?: string;
  cleanupMs?: number;
}) {
  const t: TenantObject = {
    apiVersion: 'neurallog.io/v1',
    kind: 'Tenant',
    metadata: {
      name: 'acme',
      uid: 'u1',
      resourceVersion: '7',
      deletionTimestamp: DELETED,
      finalizers: [FINALIZER],
    },
    status: {
      phase: 'Running',
      conditions: [
        {
          type: 'AuthRegistered',
          status: 'True',
          reason: 'Registered',
          message: 'registered',
          lastTransitionTime: DELETED,
        },
      ],
    },
  };
  const resolved = resolveTenant(parseTenant({ ...t, metadata: { name: 'acme', uid: 'u1' } }));
  const writes: string[] = [];
  const events: string[] = [];
  const deferred: PendingCleanup[] = [];
  const services: ReconcileServices = {
    events: { record: async (_t, type, reason) => void events.push(`${type} ${reason}`) },
    metrics: { tenantCreated: () => {}, tenantDeleted: () => {}, driftCorrected: () => {} },
    auth: {
      register: async () => ({}),
      deregister: async () => {
        writes.push('deregister');
        if (options.authFails) throw new Error('connection refused');
        return {};
      },
    },
    authUrl: 'http://auth',
    authDeregisterTimeoutMs: 10 * MINUTE,
    now: () => new Date(new Date(DELETED).getTime() + options.nowMs),
    generatePassword: () => 'x',
  };
  const home = {
    patchTenantStatus: async (_n: string, status: Record<string, unknown>) => {
      writes.push(`status ${String(status['phase'])}`);
      t.status = status as TenantObject['status'];
      return t as KubeObject;
    },
    setTenantFinalizers: async (_n: string, finalizers: string[]) => {
      writes.push(`finalizers ${JSON.stringify(finalizers)}`);
      return t as KubeObject;
    },
  };
  const run = () =>
    finalizeOnUnreachableMember({
      t,
      resolved,
      clusterName: 'prod-1',
      why: 'prod-1 does not answer',
      ...(options.unreachableSince ? { unreachableSince: options.unreachableSince } : {}),
      home,
      services,
      log: pino({ level: 'silent' }),
      cleanupTimeoutMs: options.cleanupMs ?? 10 * MINUTE,
      deferCleanup: async (entry) => void deferred.push(entry),
    });
  return { run, writes, events, deferred };
}

describe('finalizeOnUnreachableMember', () => {
  it('deregisters at once and waits for the member within the timeout', async () => {
    const s = setup({ nowMs: MINUTE });
    const result = await s.run();
    assert.deepEqual(s.writes, ['deregister', 'status Terminating']);
    assert.ok((result.requeueAfterMs ?? 0) > 0);
    assert.deepEqual(s.deferred, []);
  });

  it('lets the Tenant go after the timeout, leaving its namespace to the pending cleanup', async () => {
    const s = setup({ nowMs: 11 * MINUTE });
    await s.run();
    assert.deepEqual(
      s.deferred.map((d) => [d.tenant, d.uid, d.namespace]),
      [['acme', 'u1', 'tenant-acme']],
    );
    assert.deepEqual(s.events, ['Warning MemberCleanupDeferred']);
    assert.equal(s.writes.at(-1), 'finalizers []');
  });

  it('counts the wait from when the member went away, when that is later than the deletion', async () => {
    const s = setup({ nowMs: 11 * MINUTE, unreachableSince: '2030-01-01T00:05:00Z' });
    await s.run();
    assert.deepEqual(s.deferred, [], 'only 6 of the 10 minutes since the member went away');
  });

  it('gives up on the Auth service after --auth-deregister-timeout, as a deletion on one cluster does', async () => {
    const waiting = setup({ nowMs: 5 * MINUTE, authFails: true, cleanupMs: 2 * MINUTE });
    await waiting.run();
    assert.equal(
      waiting.writes.at(-1),
      'status Terminating',
      'a failing Auth service holds it within its timeout',
    );
    assert.deepEqual(waiting.deferred, []);
    const gaveUp = setup({ nowMs: 11 * MINUTE, authFails: true });
    await gaveUp.run();
    assert.deepEqual(gaveUp.events, ['Warning AuthDeregistrationTimedOut', 'Warning MemberCleanupDeferred']);
    assert.equal(gaveUp.writes.at(-1), 'finalizers []');
  });

  it('gives up on the Auth service once: the next look neither calls it nor warns again', async () => {
    const s = setup({ nowMs: 11 * MINUTE, authFails: true, cleanupMs: 20 * MINUTE });
    await s.run();
    assert.deepEqual(s.events, ['Warning AuthDeregistrationTimedOut']);
    assert.equal(
      s.writes.filter((w) => w === 'deregister').length,
      1,
      'the member is still awaited after the give-up',
    );
    await s.run();
    assert.deepEqual(s.events, ['Warning AuthDeregistrationTimedOut'], 'no second Warning');
    assert.equal(s.writes.filter((w) => w === 'deregister').length, 1, 'no second call');
  });
});
