import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResolvedTenant } from '../api/resolve.ts';
import { CONDITION_TYPES, type Condition, type TenantStatus } from '../api/status.ts';
import { resolvedTenant } from '../render/fixtures.test-util.ts';
import { type StatusInput, type Workload, authStateFromStatus, deriveStatus } from './status.ts';

const T0 = new Date('2030-01-01T00:00:00.123Z');
const T1 = new Date('2030-01-01T00:05:00Z');

/** A workload whose controller has caught up and reports `ready` of `replicas` ready. */
function workload(replicas: number, ready = replicas, extra: Workload['status'] = {}): Workload {
  return {
    metadata: { generation: 3 },
    status: {
      observedGeneration: 3,
      replicas,
      readyReplicas: ready,
      updatedReplicas: replicas,
      ...extra,
    },
  };
}

function input(overrides: Partial<StatusInput> = {}, tenant: ResolvedTenant = resolvedTenant()): StatusInput {
  return {
    tenant,
    generation: 2,
    previous: undefined,
    deleting: false,
    namespace: 'ready',
    redis: workload(1),
    server: workload(1),
    auth: { state: 'registered' },
    now: T0,
    ...overrides,
  };
}

function cond(status: TenantStatus, type: string): Condition {
  const c = status.conditions?.find((x) => x.type === type);
  assert.ok(c, `condition ${type} present`);
  return c;
}

describe('deriveStatus: phase', () => {
  it('is Pending before anything exists', () => {
    const s = deriveStatus(input({ namespace: 'absent', redis: undefined, server: undefined }));
    assert.equal(s.phase, 'Pending');
    assert.equal(cond(s, 'NamespaceReady').status, 'False');
    assert.equal(cond(s, 'Ready').status, 'False');
  });

  it('is Provisioning while objects exist but replicas are not ready', () => {
    const s = deriveStatus(input({ redis: workload(1, 0), server: workload(1, 0) }));
    assert.equal(s.phase, 'Provisioning');
    assert.deepEqual(s.redisStatus, {
      phase: 'Provisioning',
      message: 'Redis is being provisioned',
      readyReplicas: 0,
      totalReplicas: 1,
    });
    assert.equal(s.serverStatus?.message, 'Server is being provisioned');
    const ready = cond(s, 'Ready');
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'Provisioning');
    assert.equal(ready.message, 'Redis is being provisioned; Server is being provisioned');
  });

  it('is Provisioning (not Degraded) when replicas are short but the tenant never ran', () => {
    const t = resolvedTenant({ server: { replicas: 2 } });
    const s = deriveStatus(input({ server: workload(2, 1) }, t));
    assert.equal(s.phase, 'Provisioning');
    assert.equal(s.serverStatus?.message, 'Server is being provisioned: 1/2 replicas ready');
  });

  it('is Running when every component has all desired replicas ready', () => {
    const s = deriveStatus(input());
    assert.equal(s.phase, 'Running');
    assert.deepEqual(s.redisStatus, {
      phase: 'Running',
      message: 'Redis is running',
      readyReplicas: 1,
      totalReplicas: 1,
    });
    assert.deepEqual(s.serverStatus, {
      phase: 'Running',
      message: 'Server is running',
      readyReplicas: 1,
      totalReplicas: 1,
    });
    const ready = cond(s, 'Ready');
    assert.deepEqual([ready.status, ready.reason, ready.message], ['True', 'Running', 'Tenant is running']);
  });

  it('is Degraded only after Running, and back to Running once replicas recover', () => {
    const t = resolvedTenant({ server: { replicas: 2 } });
    const running = deriveStatus(input({ server: workload(2) }, t));
    assert.equal(running.phase, 'Running');
    const degraded = deriveStatus(input({ previous: running, server: workload(2, 1), now: T1 }, t));
    assert.equal(degraded.phase, 'Degraded');
    assert.deepEqual(degraded.serverStatus, {
      phase: 'Degraded',
      message: 'Server is degraded: 1/2 replicas ready',
      readyReplicas: 1,
      totalReplicas: 2,
    });
    assert.equal(degraded.redisStatus?.phase, 'Running');
    assert.equal(cond(degraded, 'Ready').reason, 'Degraded');
    assert.equal(cond(degraded, 'ServerReady').reason, 'ServerNotReady');
    // Still degraded on the next pass (previous is Degraded now), even with nobody ready.
    const stillDegraded = deriveStatus(input({ previous: degraded, server: workload(2, 0), now: T1 }, t));
    assert.equal(stillDegraded.phase, 'Degraded');
    assert.equal(stillDegraded.serverStatus?.message, 'Server is degraded: 0/2 replicas ready');
    const recovered = deriveStatus(input({ previous: stillDegraded, server: workload(2), now: T1 }, t));
    assert.equal(recovered.phase, 'Running');
  });

  it('is not Running during a rolling update until the updated replicas settle', () => {
    // Deployment: the new pod is surging; old pods are still all ready.
    const rolling = deriveStatus(input({ server: workload(1, 1, { replicas: 2, updatedReplicas: 1 }) }));
    assert.equal(rolling.phase, 'Provisioning');
    assert.equal(rolling.serverStatus?.message, 'Server is rolling out an update: 1/1 replicas ready');
    // The controller has not yet seen the new generation.
    const unobserved = deriveStatus(input({ server: workload(1, 1, { observedGeneration: 2 }) }));
    assert.equal(unobserved.phase, 'Provisioning');
    // StatefulSet: pods ready, but not all on the update revision yet.
    const stsRolling = deriveStatus(
      input({ redis: workload(1, 1, { currentRevision: 'r-1', updateRevision: 'r-2', updatedReplicas: 0 }) }),
    );
    assert.equal(stsRolling.phase, 'Provisioning');
    assert.match(stsRolling.redisStatus?.message ?? '', /^Redis is rolling out an update/);
    const settled = deriveStatus(
      input({ redis: workload(1, 1, { currentRevision: 'r-2', updateRevision: 'r-2' }) }),
    );
    assert.equal(settled.phase, 'Running');
  });

  it('counts a server scaled to 0 as Disabled, which does not hold the tenant back', () => {
    const t = resolvedTenant({ server: { replicas: 0 } });
    const s = deriveStatus(input({ server: workload(0) }, t));
    assert.equal(s.phase, 'Running');
    assert.deepEqual(s.serverStatus, {
      phase: 'Disabled',
      message: 'Server is disabled (0 replicas)',
      readyReplicas: 0,
      totalReplicas: 0,
    });
    assert.deepEqual([cond(s, 'ServerReady').status, cond(s, 'ServerReady').reason], ['True', 'Disabled']);
    // The older spelling does the same.
    const legacy = resolvedTenant({ services: { logServer: { enabled: false } } });
    assert.equal(deriveStatus(input({ server: workload(0) }, legacy)).serverStatus?.phase, 'Disabled');
  });

  it('is Failed with NamespaceConflict when the namespace belongs to someone else', () => {
    const s = deriveStatus(input({ namespace: 'conflict', redis: undefined, server: undefined }));
    assert.equal(s.phase, 'Failed');
    const ready = cond(s, 'Ready');
    assert.deepEqual([ready.status, ready.reason], ['False', 'NamespaceConflict']);
    assert.match(ready.message, /tenant-acme already exists and is not owned by this Tenant/);
    assert.equal(cond(s, 'NamespaceReady').reason, 'NamespaceConflict');
  });

  it('is Failed with QuotaTooSmall when its own workloads do not fit the quota', () => {
    const s = deriveStatus(input({ quotaProblem: 'pods needs 22 but the quota allows 10' }));
    assert.equal(s.phase, 'Failed');
    const ready = cond(s, 'Ready');
    assert.deepEqual(
      [ready.status, ready.reason, ready.message],
      ['False', 'QuotaTooSmall', 'pods needs 22 but the quota allows 10'],
    );
  });

  it('is Terminating while deleting, whatever else holds', () => {
    const s = deriveStatus(input({ deleting: true, namespace: 'conflict', quotaProblem: 'x' }));
    assert.equal(s.phase, 'Terminating');
    assert.deepEqual([cond(s, 'Ready').status, cond(s, 'Ready').reason], ['False', 'Terminating']);
  });
});

describe('deriveStatus: conditions and fields', () => {
  it('lists all six condition types with observedGeneration, plus namespace and endpoints', () => {
    const s = deriveStatus(input());
    assert.deepEqual(
      s.conditions?.map((c) => c.type),
      [...CONDITION_TYPES],
    );
    for (const c of s.conditions ?? []) {
      assert.equal(c.observedGeneration, 2);
      assert.equal(c.lastTransitionTime, '2030-01-01T00:00:00Z', 'RFC 3339 without fractions');
      assert.ok(['True', 'False', 'Unknown'].includes(c.status));
      assert.ok(c.reason.length > 0 && /^[A-Za-z]+$/.test(c.reason), c.reason);
    }
    assert.equal(s.observedGeneration, 2);
    assert.equal(s.namespace, 'tenant-acme');
    assert.deepEqual(s.endpoints, {
      server: 'http://acme-server.tenant-acme.svc:3030',
      redis: 'redis://acme-redis.tenant-acme.svc:6379',
    });
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'True', 'Running'],
        ['NamespaceReady', 'True', 'NamespaceReady'],
        ['RedisReady', 'True', 'RedisRunning'],
        ['ServerReady', 'True', 'ServerRunning'],
        ['NetworkPolicyReady', 'True', 'PoliciesApplied'],
        ['AuthRegistered', 'True', 'Registered'],
      ],
    );
  });

  it('uses the tenant id (not the object name) in the namespace and endpoints', () => {
    const s = deriveStatus(input({}, resolvedTenant({ tenantId: 'globex' }, { name: 'some-name' })));
    assert.equal(s.namespace, 'tenant-globex');
    assert.equal(s.endpoints?.server, 'http://globex-server.tenant-globex.svc:3030');
  });

  it('keeps lastTransitionTime while a condition status holds and moves it when it changes', () => {
    const first = deriveStatus(input({ redis: workload(1, 0), server: workload(1, 0) }));
    const same = deriveStatus(
      input({ previous: first, redis: workload(1, 0), server: workload(1, 0), now: T1 }),
    );
    assert.deepEqual(same, first, 'an unchanged situation derives an identical status (no write)');

    const running = deriveStatus(input({ previous: first, now: T1 }));
    assert.equal(cond(running, 'Ready').lastTransitionTime, '2030-01-01T00:05:00Z');
    assert.equal(cond(running, 'RedisReady').lastTransitionTime, '2030-01-01T00:05:00Z');
    // Status unchanged (True), even though nothing else is compared: the time stays.
    assert.equal(cond(running, 'NamespaceReady').lastTransitionTime, '2030-01-01T00:00:00Z');
    assert.equal(cond(running, 'AuthRegistered').lastTransitionTime, '2030-01-01T00:00:00Z');
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const t = resolvedTenant({ server: { replicas: 2 } });
    const provisioning = deriveStatus(input({ server: workload(2, 0) }, t));
    const partly = deriveStatus(input({ previous: provisioning, server: workload(2, 1), now: T1 }, t));
    assert.notEqual(cond(partly, 'ServerReady').message, cond(provisioning, 'ServerReady').message);
    assert.equal(cond(partly, 'ServerReady').lastTransitionTime, '2030-01-01T00:00:00Z');
  });

  it('is Ready only once registered with Auth, unless registration is disabled', () => {
    const pending = deriveStatus(input({ auth: { state: 'pending' } }));
    assert.equal(pending.phase, 'Running');
    assert.notEqual(cond(pending, 'Ready').status, 'True');
    assert.equal(cond(pending, 'Ready').reason, 'Pending');
    assert.equal(cond(pending, 'AuthRegistered').status, 'Unknown');

    const down = deriveStatus(input({ auth: { state: 'unavailable', message: 'connection refused' } }));
    assert.equal(down.phase, 'Running', 'the Kubernetes objects are made regardless');
    for (const type of ['Ready', 'AuthRegistered']) {
      const c = cond(down, type);
      assert.deepEqual(
        [c.status, c.reason, c.message],
        ['False', 'AuthServiceUnavailable', 'connection refused'],
      );
    }

    const rejected = deriveStatus(input({ auth: { state: 'rejected', message: '403' } }));
    assert.equal(cond(rejected, 'AuthRegistered').reason, 'AuthServiceRejected');
    assert.equal(cond(rejected, 'Ready').status, 'False');

    const disabled = deriveStatus(input({ auth: { state: 'disabled' } }));
    assert.equal(cond(disabled, 'Ready').status, 'True');
    assert.deepEqual(
      [cond(disabled, 'AuthRegistered').status, cond(disabled, 'AuthRegistered').reason],
      ['False', 'Disabled'],
    );
  });

  it('reports StorageChangeNotApplied on RedisReady, keeping the Redis health status', () => {
    const s = deriveStatus(input({ storageChange: { current: '1Gi', requested: '5Gi' } }));
    const c = cond(s, 'RedisReady');
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'StorageChangeNotApplied');
    assert.match(c.message, /asks for 5Gi but existing volume claims keep 1Gi/);
    assert.equal(s.phase, 'Running', 'data is kept; the tenant keeps running');
  });

  it('reports NetworkPolicyReady as Disabled when network isolation is off', () => {
    const s = deriveStatus(input({}, resolvedTenant({ networkPolicy: { enabled: false } })));
    assert.deepEqual(
      [cond(s, 'NetworkPolicyReady').status, cond(s, 'NetworkPolicyReady').reason],
      ['True', 'Disabled'],
    );
  });

  it('omits observedGeneration when the generation is unknown', () => {
    const s = deriveStatus(input({ generation: undefined }));
    assert.equal('observedGeneration' in s, false);
    for (const c of s.conditions ?? []) assert.equal('observedGeneration' in c, false);
  });

  it('survives a JSON round trip unchanged (what the API server stores compares equal)', () => {
    const s = deriveStatus(
      input({ storageChange: { current: '1Gi', requested: '2Gi' }, auth: { state: 'pending' } }),
    );
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });
});

describe('authStateFromStatus', () => {
  it('remembers a registration and a deregistration, nothing else', () => {
    const registered = deriveStatus(input());
    assert.deepEqual(authStateFromStatus(registered), { state: 'registered' });
    assert.equal(
      authStateFromStatus(deriveStatus(input({ auth: { state: 'unavailable', message: 'x' } }))),
      undefined,
    );
    assert.equal(authStateFromStatus(deriveStatus(input({ auth: { state: 'disabled' } }))), undefined);
    assert.equal(authStateFromStatus(undefined), undefined);
    assert.deepEqual(authStateFromStatus(deriveStatus(input({ auth: { state: 'deregistered' } }))), {
      state: 'deregistered',
    });
  });
});
