import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthServiceRejectedError, AuthServiceUnavailableError } from '../auth/errors.ts';
import { objectKey } from '../kube/resources.ts';
import { FINALIZER } from '../render/meta.ts';
import { PermanentError } from '../runtime/controller.ts';
import { localCluster, observedCluster, silentLogger, snapshotOf } from './fakes.test-util.ts';
import {
  AUTH_URL,
  DEREGISTER_TIMEOUT_MS,
  NS,
  assertNoWrites,
  condition,
  setup,
} from './harness.test-util.ts';
import { DIAGNOSE_AFTER_MS } from './diagnose.ts';
import { AuthPendingError, ChildWriteError, createReconciler } from './reconciler.ts';

const unavailable = () =>
  new AuthServiceUnavailableError('connect ECONNREFUSED 10.0.0.1:3000', { operation: 'register' });

describe('reconcile: a new tenant', () => {
  it('adds the finalizer, creates the namespace and Secret, applies the rest, writes status, registers once', async () => {
    const h = setup();
    const result = await h.reconcile();
    assert.deepEqual(result, { requeueAfterMs: DIAGNOSE_AFTER_MS }, 'looks again if it is not ready by then');

    const writes = h.server.writes.map((w) => `${w.verb} ${w.key}`);
    assert.equal(writes[0], 'setFinalizers Tenant//x', 'the finalizer comes before anything is made');
    assert.equal(writes[1], `create Namespace//${NS}`, 'the namespace is POSTed, never applied');
    assert.equal(writes.at(-1), 'patchStatus Tenant//x');
    assert.deepEqual(
      h.server.writes.filter((w) => w.verb === 'create').map((w) => w.key),
      [`Namespace//${NS}`, `Secret/${NS}/x-redis-auth`],
    );
    const applied = h.server.writes.filter((w) => w.verb === 'apply').map((w) => w.key);
    assert.ok(applied.length >= 14, `applied ${applied.length}`);
    for (const key of [
      `ResourceQuota/${NS}/tenant-quota`,
      `LimitRange/${NS}/tenant-limits`,
      `ServiceAccount/${NS}/tenant-service-account`,
      `Role/${NS}/tenant-role`,
      `RoleBinding/${NS}/tenant-role-binding`,
      `NetworkPolicy/${NS}/default-deny`,
      `ConfigMap/${NS}/x-redis-config`,
      `Service/${NS}/x-redis`,
      `StatefulSet/${NS}/x-redis`,
      `Service/${NS}/x-server`,
      `Deployment/${NS}/x-server`,
    ])
      assert.ok(applied.includes(key), key);
    assert.equal(h.server.writesTo('Namespace').length, 1);
    assert.equal(h.server.writesTo('Secret').length, 1);
    assert.equal(h.server.writesTo('PodDisruptionBudget').length, 0, 'one replica: no PDB');

    const tenant = h.server.tenant('x')!;
    assert.deepEqual(tenant.metadata.finalizers, [FINALIZER]);
    const ns = h.server.object('Namespace', NS)!;
    assert.equal(
      ns.metadata.ownerReferences?.[0]?.uid,
      tenant.metadata.uid,
      'the namespace is owned by the tenant',
    );
    for (const obj of h.server.objects.values()) {
      if (obj.kind === 'Tenant') continue;
      assert.equal(obj.metadata.ownerReferences?.[0]?.uid, tenant.metadata.uid, `${obj.kind} owned`);
      assert.equal(obj.metadata.labels?.['neurallog.io/tenant'], 'x');
    }
    const secret = h.server.object('Secret', 'x-redis-auth', NS)!;
    assert.equal(
      Buffer.from((secret.data as { password: string }).password, 'base64').toString(),
      'password-1',
    );

    const created = h.events.withReason('Created').map((e) => e.message);
    for (const message of [
      'Created namespace tenant-x',
      'Created Redis ConfigMap',
      'Created Redis Service',
      'Created Redis StatefulSet',
      'Created Server Service',
      'Created Server Deployment',
    ])
      assert.ok(created.includes(message), message);
    assert.equal(created[0], 'Created namespace tenant-x');
    assert.equal(created.length, 7, 'the six objects of the user guide and one summary');
    assert.equal(
      created[6],
      'Created isolation objects: ResourceQuota tenant-quota, LimitRange tenant-limits, ' +
        'ServiceAccount tenant-service-account, Role tenant-role, RoleBinding tenant-role-binding, ' +
        '6 NetworkPolicies, Redis Secret',
    );
    assert.equal(h.events.events.length, 7, 'nothing but the Created events');
    assert.ok(h.events.events.every((e) => e.type === 'Normal' && e.tenant === 'x'));
    assert.deepEqual(h.events.withReason('DriftCorrected'), []);

    assert.deepEqual(h.auth.calls, [{ op: 'register', tenantId: 'x' }]);
    assert.equal(h.metrics.created, 1);
    assert.deepEqual(h.metrics.drift, []);

    const status = h.status();
    assert.equal(status.phase, 'Provisioning');
    assert.equal(status.namespace, NS);
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.redisStatus?.message, 'Redis is being provisioned');
    assert.equal(condition(status, 'NamespaceReady').status, 'True');
    assert.equal(condition(status, 'AuthRegistered').reason, 'Registered');
    assert.equal(condition(status, 'Ready').status, 'False');
  });

  it('makes no writes, no Auth calls and no events on a second reconcile with nothing changed', async () => {
    const h = setup();
    await h.reconcile();
    h.reset();
    h.clock.advance(60_000);
    assert.deepEqual(
      await h.reconcile(),
      { requeueAfterMs: 60_000 },
      'not ready yet: looked into again later',
    );
    assertNoWrites(h.server);
    assert.deepEqual(h.auth.calls, []);
    assert.deepEqual(h.events.events, []);
    assert.equal(h.metrics.created, 1);
  });

  it('goes Running with a Running event once the workloads are ready, then stays quiet', async () => {
    const h = setup();
    await h.reconcile();
    h.server.makeWorkloadsReady('x');
    h.reset();
    h.clock.advance(30_000);

    await h.reconcile();
    assert.deepEqual(
      h.server.writes.map((w) => w.verb),
      ['patchStatus'],
      'only the status changes',
    );
    const status = h.status();
    assert.equal(status.phase, 'Running');
    assert.equal(status.redisStatus?.message, 'Redis is running');
    assert.equal(status.serverStatus?.message, 'Server is running');
    assert.deepEqual(
      [condition(status, 'Ready').status, condition(status, 'Ready').reason],
      ['True', 'Running'],
    );
    assert.equal(condition(status, 'Ready').lastTransitionTime, '2030-01-01T00:00:30Z');
    assert.equal(condition(status, 'NamespaceReady').lastTransitionTime, '2030-01-01T00:00:00Z');
    assert.deepEqual(h.events.events, [
      { tenant: 'x', type: 'Normal', reason: 'Running', message: 'Tenant is running' },
    ]);

    h.reset();
    h.clock.advance(30_000);
    await h.reconcile();
    assertNoWrites(h.server);
    assert.deepEqual(h.events.events, []);
  });

  it('reports Degraded when a ready replica is lost after Running', async () => {
    const h = setup({ server: { replicas: 2 } });
    await h.reconcile();
    h.server.makeWorkloadsReady('x');
    await h.reconcile();
    assert.equal(h.status().phase, 'Running');
    h.server.makeWorkloadsReady('x', { server: 1 });
    await h.reconcile();
    assert.equal(h.status().phase, 'Degraded');
    assert.equal(h.status().serverStatus?.message, 'Server is degraded: 1/2 replicas ready');
  });

  it('uses spec.tenantId, not the object name, for every name', async () => {
    const h = setup({ tenantId: 'globex' }, { name: 'globex-corp' });
    await h.reconcile();
    assert.ok(h.server.object('Namespace', 'tenant-globex'));
    assert.ok(h.server.object('Deployment', 'globex-server', 'tenant-globex'));
    assert.deepEqual(h.auth.calls, [{ op: 'register', tenantId: 'globex' }]);
    assert.equal(h.status().endpoints?.server, 'http://globex-server.tenant-globex.svc:3030');
  });
});

describe('reconcile: drift and changes', () => {
  it('a tenant full of empty lists, maps and values converges and then writes nothing', async () => {
    const h = setup({
      server: {
        env: [{ name: 'EMPTY', value: '' }],
        tolerations: [],
        podLabels: {},
        podAnnotations: {},
        nodeSelector: {},
      },
      redis: { config: {} },
      networkPolicy: { allowedNamespaces: [], ingressRules: [{ from: {}, ports: [] }], egressRules: [] },
    });
    await h.reconcile();
    await h.reconcile();
    h.reset();
    await h.reconcile();
    assertNoWrites(h.server, 'what the API server dropped is not drift');
    assert.deepEqual(h.events.withReason('DriftCorrected'), []);
  });

  it('restores a deleted child with a DriftCorrected event and the drift metric', async () => {
    const h = setup();
    await h.reconcile();
    h.reset();
    h.server.remove('Service', 'x-server', NS);

    await h.reconcile();
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`apply Service/${NS}/x-server`],
    );
    assert.ok(h.server.object('Service', 'x-server', NS));
    assert.deepEqual(h.events.events, [
      {
        tenant: 'x',
        type: 'Normal',
        reason: 'DriftCorrected',
        message: 'Restored Server Service (it was missing)',
      },
    ]);
    assert.deepEqual(h.metrics.drift, ['Service']);
    assert.equal(h.metrics.created, 1, 'a restored object is not a new tenant');
  });

  it('reverts a field changed by hand, naming it', async () => {
    const h = setup();
    await h.reconcile();
    h.reset();
    const dep = h.server.objects.get(`Deployment/${NS}/x-server`)!;
    (dep.spec as { replicas: number }).replicas = 4;

    await h.reconcile();
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`apply Deployment/${NS}/x-server`],
    );
    assert.equal((h.server.object('Deployment', 'x-server', NS)!.spec as { replicas: number }).replicas, 1);
    assert.deepEqual(
      h.events.withReason('DriftCorrected').map((e) => e.message),
      ['Restored Server Deployment (changed spec.replicas)'],
    );
    assert.deepEqual(h.metrics.drift, ['Deployment']);
  });

  it('recreates a deleted Redis Secret with POST', async () => {
    const h = setup();
    await h.reconcile();
    h.reset();
    h.server.remove('Secret', 'x-redis-auth', NS);
    await h.reconcile();
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`create Secret/${NS}/x-redis-auth`],
    );
    assert.deepEqual(h.metrics.drift, ['Secret']);
  });

  it('never rewrites the Redis Secret, whatever else changes', async () => {
    const h = setup();
    await h.reconcile();
    const before = h.server.object('Secret', 'x-redis-auth', NS);
    h.server.editTenantSpec('x', {
      server: { image: 'neurallog/server:2.0' },
      redis: { config: { 'maxmemory-policy': 'noeviction' } },
    });
    h.reset();
    await h.reconcile();
    assert.deepEqual(h.server.writesTo('Secret'), []);
    assert.deepEqual(h.server.object('Secret', 'x-redis-auth', NS), before);
  });

  it('applies a spec change with one Updated event naming what changed, was added and was removed', async () => {
    const h = setup();
    await h.reconcile();
    h.server.editTenantSpec('x', { server: { replicas: 2 }, networkPolicy: { enabled: false } });
    h.reset();

    await h.reconcile();
    const writes = h.server.writes.map((w) => `${w.verb} ${w.key}`);
    assert.ok(writes.includes(`apply Deployment/${NS}/x-server`));
    assert.ok(writes.includes(`apply PodDisruptionBudget/${NS}/x-server`));
    assert.ok(writes.includes(`delete NetworkPolicy/${NS}/default-deny`));
    assert.equal(
      h.server.writesTo('NetworkPolicy').every((w) => w.verb === 'delete'),
      true,
    );
    assert.equal(
      [...h.server.objects.values()].filter((o) => o.kind === 'NetworkPolicy').length,
      0,
      'every policy removed',
    );
    assert.deepEqual(
      h.events.events.map((e) => e.reason),
      ['Updated'],
      'one event for one change',
    );
    const message = h.events.events[0]?.message ?? '';
    assert.match(message, /^Updated Server Deployment, Server PodDisruptionBudget \(created\), /);
    assert.match(message, /NetworkPolicy default-deny \(deleted: no longer desired\)/);
    assert.deepEqual(h.metrics.drift, [], 'a spec change is not drift');
    assert.equal(h.status().observedGeneration, 2);
    assert.equal(condition(h.status(), 'NetworkPolicyReady').reason, 'Disabled');

    h.reset();
    await h.reconcile();
    assertNoWrites(h.server, 'converged');
  });

  it('keeps the existing volume size on a storage change, with one StorageChangeNotApplied warning', async () => {
    const h = setup();
    await h.reconcile();
    h.server.editTenantSpec('x', { redis: { storage: '5Gi' } });
    h.reset();

    await h.reconcile();
    assert.deepEqual(
      h.server.writesTo('StatefulSet').map((w) => w.verb),
      ['apply'],
      'applied once, with the existing claim size (only its desired hash moves)',
    );
    const sts = h.server.object('StatefulSet', 'x-redis', NS)!;
    const templates = (
      sts.spec as { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> }
    ).volumeClaimTemplates;
    assert.equal(templates[0]?.spec.resources.requests.storage, '1Gi');
    const redis = condition(h.status(), 'RedisReady');
    assert.equal(redis.reason, 'StorageChangeNotApplied');
    const warnings = h.events.events.filter((e) => e.type === 'Warning');
    assert.deepEqual(
      warnings.map((e) => e.reason),
      ['StorageChangeNotApplied'],
    );

    h.reset();
    await h.reconcile();
    assertNoWrites(h.server);
    assert.deepEqual(h.events.events, [], 'the warning is not repeated');
  });

  it('reports QuotaTooSmall as Failed with a Warning event, still making the objects', async () => {
    const h = setup({ server: { replicas: 20 } });
    await h.reconcile();
    const status = h.status();
    assert.equal(status.phase, 'Failed');
    assert.equal(condition(status, 'Ready').reason, 'QuotaTooSmall');
    assert.match(condition(status, 'Ready').message, /pods needs 22 but the quota allows 10/);
    assert.deepEqual(
      h.events.events.filter((e) => e.type === 'Warning').map((e) => e.reason),
      ['QuotaTooSmall'],
    );
    assert.ok(h.server.object('Deployment', 'x-server', NS));
  });
});

describe('reconcile: namespace safety', () => {
  function withForeignNamespace() {
    const h = setup();
    h.server.seed({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { team: 'someone-else' } },
    });
    return h;
  }

  it('never touches a namespace it does not own: Failed, NamespaceConflict, one Warning', async () => {
    const h = withForeignNamespace();
    const before = h.server.object('Namespace', NS);
    const result = await h.reconcile();
    assert.ok((result.requeueAfterMs ?? 0) > 0, 'rechecked later, not hot');

    assert.deepEqual(h.server.object('Namespace', NS), before);
    assert.deepEqual(
      h.server.writes.map((w) => w.verb),
      ['setFinalizers', 'patchStatus'],
      'nothing but the tenant itself is written',
    );
    const status = h.status();
    assert.equal(status.phase, 'Failed');
    assert.equal(condition(status, 'Ready').reason, 'NamespaceConflict');
    assert.equal(condition(status, 'NamespaceReady').reason, 'NamespaceConflict');
    const warnings = h.events.events.filter((e) => e.type === 'Warning');
    assert.equal(warnings.length, 1, 'one event for one problem');
    assert.equal(warnings[0]?.reason, 'NamespaceConflict');
    assert.deepEqual(h.auth.calls, [], "a tenant id whose namespace is someone else's is not registered");

    h.reset();
    await h.reconcile();
    assertNoWrites(h.server);
    assert.deepEqual(h.events.events, []);
  });

  it('on delete leaves the foreign namespace and the Auth registration alone', async () => {
    const h = withForeignNamespace();
    await h.reconcile();
    h.server.deleteTenant('x', h.clock.now());
    h.reset();

    const result = await h.reconcile();
    assert.deepEqual(result, {});
    assert.deepEqual(h.server.writesTo('Namespace'), []);
    assert.ok(h.server.object('Namespace', NS));
    assert.deepEqual(h.auth.calls, [], 'deregistering would cut off whoever owns this id');
    assert.equal(h.server.tenant('x'), undefined, 'the finalizer is removed in this same pass');
  });

  it('re-checks at once when the namespace appears between its read and its create', async () => {
    const h = setup();
    const server = h.server;
    const create = server.create.bind(server);
    server.create = async (obj) => {
      if (obj.kind === 'Namespace')
        server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      return create(obj);
    };
    const result = await h.reconcile();
    assert.ok((result.requeueAfterMs ?? 0) > 0, `requeueAfterMs ${result.requeueAfterMs} must requeue`);
    assert.deepEqual(
      server.writes.filter((w) => w.verb === 'apply'),
      [],
      'nothing is applied into a namespace that is not ours',
    );
    server.create = create;
    await h.reconcile();
    assert.equal(h.status().phase, 'Failed');
  });

  it('waits while its own namespace is still being deleted, then makes it again', async () => {
    const h = setup();
    await h.reconcile();
    await h.server.delete({ kind: 'Namespace', name: NS });
    h.reset();
    const result = await h.reconcile();
    assert.ok((result.requeueAfterMs ?? 0) > 0);
    assert.deepEqual(
      h.server.writes.filter((w) => w.verb !== 'patchStatus'),
      [],
    );
    assert.equal(condition(h.status(), 'NamespaceReady').reason, 'NamespaceTerminating');

    h.server.finishNamespaceDeletion(NS);
    h.reset();
    await h.reconcile();
    assert.ok(h.server.object('Namespace', NS));
    assert.ok(h.server.object('Deployment', 'x-server', NS));
    const restored = h.events.withReason('DriftCorrected');
    assert.equal(restored.length, 1, 'one event for the whole repair');
    assert.match(
      restored[0]?.message ?? '',
      /^Restored namespace tenant-x \(it was missing\), ResourceQuota/,
    );
  });
});

describe('reconcile: the Auth service', () => {
  it('still makes every object while Auth is down, reports it and throws for backoff', async () => {
    const h = setup();
    h.auth.failWith = unavailable();
    await assert.rejects(h.reconcile(), AuthPendingError);

    assert.ok(h.server.object('Namespace', NS));
    assert.ok(h.server.object('StatefulSet', 'x-redis', NS));
    assert.ok(h.server.object('Deployment', 'x-server', NS));
    const auth = condition(h.status(), 'AuthRegistered');
    assert.deepEqual([auth.status, auth.reason], ['False', 'AuthServiceUnavailable']);
    assert.match(auth.message, /ECONNREFUSED/);
    const warnings = h.events.events.filter((e) => e.type === 'Warning');
    assert.deepEqual(
      warnings.map((e) => e.reason),
      ['AuthServiceUnavailable'],
    );

    // Still down: retried, no new writes and no repeated warning.
    h.reset();
    await assert.rejects(h.reconcile(), AuthPendingError);
    assert.equal(h.auth.callsOf('register'), 1);
    assertNoWrites(h.server);
    assert.deepEqual(h.events.events, []);

    // Back: the next reconcile registers and records it.
    h.auth.failWith = undefined;
    h.reset();
    assert.deepEqual(await h.reconcile(), { requeueAfterMs: DIAGNOSE_AFTER_MS });
    assert.deepEqual(h.auth.calls, [{ op: 'register', tenantId: 'x' }]);
    assert.equal(condition(h.status(), 'AuthRegistered').reason, 'Registered');
    assert.deepEqual(
      h.server.writes.map((w) => w.verb),
      ['patchStatus'],
    );

    h.reset();
    await h.reconcile();
    assert.deepEqual(h.auth.calls, []);
  });

  it('keeps Ready False while Auth is down even when the workloads run', async () => {
    const h = setup();
    h.auth.failWith = unavailable();
    await assert.rejects(h.reconcile(), AuthPendingError);
    h.server.makeWorkloadsReady('x');
    h.events.clear();
    await assert.rejects(h.reconcile(), AuthPendingError);
    const status = h.status();
    assert.equal(status.phase, 'Running');
    assert.deepEqual(
      [condition(status, 'Ready').status, condition(status, 'Ready').reason],
      ['False', 'AuthServiceUnavailable'],
    );
    assert.equal(
      h.events.events.filter((e) => e.reason === 'AuthServiceUnavailable').length,
      0,
      'the same problem is not announced again because another condition now repeats it',
    );
  });

  it('reports a rejection as AuthServiceRejected', async () => {
    const h = setup();
    h.auth.failWith = new AuthServiceRejectedError('HTTP 403', { operation: 'register', status: 403 });
    await assert.rejects(h.reconcile(), AuthPendingError);
    assert.equal(condition(h.status(), 'AuthRegistered').reason, 'AuthServiceRejected');
    assert.deepEqual(
      h.events.events.filter((e) => e.type === 'Warning').map((e) => e.reason),
      ['AuthServiceRejected'],
    );
  });

  it('never calls Auth when registration is disabled, and is Ready without it', async () => {
    const h = setup({ services: { authService: { enabled: false } } });
    await h.reconcile();
    h.server.makeWorkloadsReady('x');
    await h.reconcile();
    assert.equal(condition(h.status(), 'Ready').status, 'True');
    assert.equal(condition(h.status(), 'AuthRegistered').reason, 'Disabled');
    h.server.deleteTenant('x', h.clock.now());
    await h.reconcile();
    h.server.finishNamespaceDeletion(NS);
    await h.reconcile();
    assert.equal(h.server.tenant('x'), undefined);
    assert.deepEqual(h.auth.calls, []);
  });
});

describe('reconcile: deletion', () => {
  async function runningTenant() {
    const h = setup();
    await h.reconcile();
    h.server.makeWorkloadsReady('x');
    await h.reconcile();
    assert.equal(h.status().phase, 'Running');
    return h;
  }

  it('goes Terminating, deregisters once, deletes its namespace, and drops the finalizer once it is gone', async () => {
    const h = await runningTenant();
    h.server.deleteTenant('x', h.clock.now());
    h.reset();

    const first = await h.reconcile();
    assert.ok((first.requeueAfterMs ?? 0) > 0, 'waits for the namespace');
    assert.deepEqual(h.auth.calls, [{ op: 'deregister', tenantId: 'x' }]);
    const status = h.status();
    assert.equal(status.phase, 'Terminating');
    assert.equal(condition(status, 'AuthRegistered').reason, 'Deregistered');
    const ready = condition(status, 'Ready');
    assert.deepEqual(
      [ready.status, ready.reason],
      ['False', 'Terminating'],
      'a tenant being deleted is not Ready',
    );
    assert.equal(ready.lastTransitionTime, '2030-01-01T00:00:00Z');
    assert.equal(condition(status, 'AuthRegistered').status, 'False');
    assert.deepEqual(
      h.server.writesTo('Namespace').map((w) => w.verb),
      ['delete'],
    );
    assert.ok(h.server.object('Namespace', NS)?.metadata.deletionTimestamp);
    assert.deepEqual(h.server.tenant('x')?.metadata.finalizers, [FINALIZER]);
    assert.deepEqual(
      h.server.writes.filter((w) => w.verb === 'delete').length,
      1,
      'children go with the namespace',
    );

    h.reset();
    h.clock.advance(5_000);
    const second = await h.reconcile();
    assert.ok((second.requeueAfterMs ?? 0) > 0);
    assert.deepEqual(h.auth.calls, [], 'deregistered only once');
    assertNoWrites(h.server, 'nothing more to do while the namespace goes away');

    h.server.finishNamespaceDeletion(NS);
    h.reset();
    assert.deepEqual(await h.reconcile(), {});
    assert.deepEqual(
      h.server.writes.map((w) => w.verb),
      ['setFinalizers'],
    );
    assert.equal(h.server.tenant('x'), undefined, 'the tenant is gone');
    assert.equal(h.metrics.deleted, 1);
    assert.deepEqual(h.auth.calls, []);
  });

  it('waits for the Auth service up to the timeout, then deletes anyway with a Warning', async () => {
    const h = await runningTenant();
    h.server.deleteTenant('x', h.clock.now());
    h.auth.failWith = new AuthServiceUnavailableError('timed out', {
      operation: 'deregister',
      timedOut: true,
    });
    h.reset();

    const first = await h.reconcile();
    assert.ok((first.requeueAfterMs ?? 0) > 0 && (first.requeueAfterMs ?? 0) <= DEREGISTER_TIMEOUT_MS);
    assert.equal(h.status().phase, 'Terminating');
    assert.deepEqual(h.server.writesTo('Namespace'), [], 'the namespace waits for deregistration');
    assert.deepEqual(h.server.tenant('x')?.metadata.finalizers, [FINALIZER]);
    assert.deepEqual(
      h.events.events.filter((e) => e.type === 'Warning').map((e) => e.reason),
      ['AuthServiceUnavailable'],
    );

    h.clock.advance(DEREGISTER_TIMEOUT_MS - 1_000);
    h.reset();
    const stillWaiting = await h.reconcile();
    assert.ok((stillWaiting.requeueAfterMs ?? 0) > 0 && (stillWaiting.requeueAfterMs ?? 0) <= 1_000);
    assert.deepEqual(h.server.writesTo('Namespace'), []);
    assert.equal(h.auth.callsOf('deregister'), 1);

    h.clock.advance(2_000);
    h.reset();
    await h.reconcile();
    const timedOut = h.events.withReason('AuthDeregistrationTimedOut');
    assert.equal(timedOut.length, 1);
    assert.equal(timedOut[0]?.type, 'Warning');
    assert.match(timedOut[0]?.message ?? '', /Remove tenant x from the Auth service by hand/);
    const gaveUp = condition(h.status(), 'AuthRegistered');
    assert.deepEqual([gaveUp.status, gaveUp.reason], ['Unknown', 'DeregistrationTimedOut']);
    assert.match(gaveUp.message, /may still be registered/);
    assert.deepEqual(
      h.server.writesTo('Namespace').map((w) => w.verb),
      ['delete'],
    );

    h.server.finishNamespaceDeletion(NS);
    h.reset();
    await h.reconcile();
    assert.equal(h.server.tenant('x'), undefined);
    assert.deepEqual(h.auth.calls, [], 'gave up: not tried again');
  });

  it('removes the finalizer in one pass when the namespace is already gone', async () => {
    const h = await runningTenant();
    h.server.finishNamespaceDeletion(NS);
    h.server.deleteTenant('x', h.clock.now());
    h.reset();
    assert.deepEqual(await h.reconcile(), {});
    assert.deepEqual(h.auth.calls, [{ op: 'deregister', tenantId: 'x' }]);
    assert.equal(h.server.tenant('x'), undefined);
  });

  it('does nothing for a deleted tenant without its finalizer', async () => {
    const h = setup({}, { seed: false });
    h.server.seedTenant({ metadata: { name: 'x', finalizers: ['other.io/keep'] } } as never);
    h.server.deleteTenant('x', h.clock.now());
    assert.deepEqual(await h.reconcile(), {});
    assertNoWrites(h.server);
    assert.deepEqual(h.auth.calls, []);
  });
});

describe('reconcile: other inputs', () => {
  it('returns quietly for a tenant that is not there', async () => {
    const h = setup({}, { seed: false });
    assert.deepEqual(await h.reconcile(), {});
    assertNoWrites(h.server);
  });

  it('refuses an invalid spec: PermanentError, Failed/InvalidSpec status, one Warning, no child writes', async () => {
    const h = setup({ planId: 'gold' });
    const refuse = () =>
      h.reconcile().then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
    const error = await refuse();
    assert.ok(error instanceof PermanentError);
    assert.match(error.message, /spec\.planId/);
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`patchStatus ${objectKey({ kind: 'Tenant', metadata: { name: 'x' } })}`],
      'only the status is written',
    );
    const status = h.status();
    assert.equal(status.phase, 'Failed');
    assert.equal(condition(status, 'Ready').status, 'False');
    assert.equal(condition(status, 'Ready').reason, 'InvalidSpec');
    assert.match(condition(status, 'Ready').message, /spec\.planId/);
    assert.deepEqual(
      h.events.events.map((e) => [e.type, e.reason]),
      [['Warning', 'InvalidSpec']],
    );

    h.reset();
    assert.ok((await refuse()) instanceof PermanentError);
    assertNoWrites(h.server, 'the same problem again writes nothing');
  });

  it('writes what it can, reports the failures and throws for backoff', async () => {
    const h = setup();
    const server = h.server;
    const apply = server.apply.bind(server);
    server.apply = async (obj) => {
      if (obj.kind !== 'StatefulSet') return apply(obj);
      server.writes.push({ verb: 'apply', key: objectKey(obj) });
      throw new Error('admission webhook said no');
    };
    await assert.rejects(h.reconcile(), ChildWriteError);
    assert.ok(server.object('Deployment', 'x-server', NS), 'later objects are still written');
    assert.equal(server.object('StatefulSet', 'x-redis', NS), undefined);
    const failed = h.events.withReason('ApplyFailed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.type, 'Warning');
    assert.match(failed[0]?.message ?? '', /Redis StatefulSet: admission webhook said no/);
    assert.equal(h.status().phase, 'Provisioning');
    assert.equal(condition(h.status(), 'Ready').reason, 'ApplyFailed');

    // The same failure on the retry: no second warning, no status rewrite.
    h.reset();
    await assert.rejects(h.reconcile(), ChildWriteError);
    assert.deepEqual(h.events.events, []);
    assert.deepEqual(
      server.writes.map((w) => w.verb),
      ['apply'],
      'only the retried write',
    );

    server.apply = apply;
    h.reset();
    assert.deepEqual(await h.reconcile(), { requeueAfterMs: DIAGNOSE_AFTER_MS });
    assert.deepEqual(
      server.writes.map((w) => `${w.verb} ${w.key}`),
      [`apply StatefulSet/${NS}/x-redis`, 'patchStatus Tenant//x'],
    );
    assert.notEqual(condition(h.status(), 'Ready').reason, 'ApplyFailed');
  });

  it('does not mistake a cache that has not caught up for drift', async () => {
    const h = setup();
    h.server.watchPaused = true; // the watches deliver nothing of what follows
    // The caches as they were before the first reconcile wrote anything ...
    const stale = snapshotOf(observedCluster(h.server), 'x', 'x');
    await h.reconcile();
    // ... except for the tenant, whose status update is what woke the second reconcile.
    const caught = h.build({
      tenant: (name) => observedCluster(h.server).tenant(name),
      children: stale.children,
      namespace: stale.namespace,
    });
    h.reset();
    assert.deepEqual(await caught('x'), { requeueAfterMs: DIAGNOSE_AFTER_MS });
    assert.deepEqual(h.events.events, [], 'no DriftCorrected, no ApplyFailed');
    assert.deepEqual(h.metrics.drift, []);
    assert.deepEqual(
      h.server.writes.filter((w) => w.verb === 'create'),
      [],
      'no second POST of the Secret',
    );
  });

  it('does not call a change it just applied drift when the cache still shows the old object', async () => {
    const h = setup();
    await h.reconcile();
    h.server.watchPaused = true;
    const stale = snapshotOf(observedCluster(h.server), 'x', 'x');
    h.server.editTenantSpec('x', { server: { image: 'neurallog/server:2.0' } });
    await h.reconcile();
    assert.equal(h.events.withReason('Updated').length, 1);
    const caught = h.build({
      tenant: (name) => observedCluster(h.server).tenant(name),
      children: stale.children,
      namespace: stale.namespace,
    });
    h.reset();
    await caught('x');
    assert.deepEqual(h.events.events, []);
    assertNoWrites(h.server);
    assert.deepEqual(h.metrics.drift, []);
  });

  it('repairs an edit once the cache shows it, though it wrote that object moments before', async () => {
    const h = setup();
    await h.reconcile();
    h.server.editByHand('Deployment', 'x-server', NS, (d) => {
      (d.spec as { replicas: number }).replicas = 4;
    });
    h.reset();
    await h.reconcile();
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`apply Deployment/${NS}/x-server`],
    );
    assert.deepEqual(h.metrics.drift, ['Deployment']);
    assert.equal((h.server.object('Deployment', 'x-server', NS)!.spec as { replicas: number }).replicas, 1);
  });

  it('takes a Secret that already exists and is its own as created (a 409 is not a failure)', async () => {
    const h = setup();
    await h.reconcile();
    // A restart: nothing remembered, and a cache that does not show the Secret yet.
    const stale = observedCluster(h.server);
    const fresh = createReconciler({
      tenants: stale,
      home: h.server,
      cluster: localCluster(
        { ...stale, children: (id) => stale.children(id).filter((c) => c.kind !== 'Secret') },
        h.server,
      ),
      events: h.events,
      metrics: h.metrics,
      auth: h.auth,
      authUrl: AUTH_URL,
      authDeregisterTimeoutMs: DEREGISTER_TIMEOUT_MS,
      logger: silentLogger,
      now: h.clock.now,
      generatePassword: () => 'another-password',
    });
    const before = h.server.object('Secret', 'x-redis-auth', NS);
    h.reset();
    assert.deepEqual(await fresh('x'), { requeueAfterMs: DIAGNOSE_AFTER_MS });
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`create Secret/${NS}/x-redis-auth`],
    );
    assert.deepEqual(h.server.reads, [`get Secret/${NS}/x-redis-auth`], 'its metadata tells whose it is');
    assert.deepEqual(h.events.events, [], 'no failure, no Created, no DriftCorrected');
    assert.deepEqual(h.server.object('Secret', 'x-redis-auth', NS), before, 'the password is kept');
  });
});
