// What the reconciler must never do, and how it repairs: look-alikes, server-side-apply-only repair,
// the shipped RBAC, terminating namespaces, warnings once per reason, and why pods are not ready.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthServiceUnavailableError } from '../auth/errors.ts';
import type { KubeObject } from '../kube/objects.ts';
import { ANNOTATION_BILLING_EMAIL } from '../render/meta.ts';
import { DIAGNOSE_AFTER_MS } from './diagnose.ts';
import { observedCluster } from './fakes.test-util.ts';
import { NS, assertNoWrites, condition, setup } from './harness.test-util.ts';

const TENANT_LABELS = { 'app.kubernetes.io/managed-by': 'tenant-operator', 'neurallog.io/tenant': 'x' };

type Container = { name: string; env?: Array<{ name: string; value?: string }> };
type PodTemplate = {
  metadata: { annotations?: Record<string, string> };
  spec: { containers: Container[]; nodeSelector?: Record<string, string> };
};
const template = (d: KubeObject | undefined) => (d?.spec as { template: PodTemplate }).template;
const ours = (managers: string[]) => managers.filter((m) => m.startsWith('tenant-operator/'));

describe('reconcile: look-alikes are never ours', () => {
  it('leaves objects with our labels in another namespace, or without our owner reference, alone — through pruning and deletion', async () => {
    const h = setup();
    await h.reconcile();
    const uid = h.server.tenant('x')!.metadata.uid!;
    h.server.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    const elsewhere = h.server.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'review-copy',
        namespace: 'team-a',
        labels: TENANT_LABELS,
        ownerReferences: [
          { apiVersion: 'neurallog.io/v1', kind: 'Tenant', name: 'x', uid, controller: true },
        ],
      },
      data: { a: 'b' },
    });
    const unowned = h.server.seed({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'custom-ingress-0', namespace: NS, labels: TENANT_LABELS },
      spec: { podSelector: {} },
    });
    h.server.editTenantSpec('x', { networkPolicy: { enabled: false } });
    h.reset();
    await h.reconcile();
    assert.ok(h.server.object('ConfigMap', 'review-copy', 'team-a'), 'another namespace is not ours');
    assert.ok(h.server.object('NetworkPolicy', 'custom-ingress-0', NS), 'no owner reference: not ours');
    assert.equal(h.server.object('NetworkPolicy', 'default-deny', NS), undefined, 'ours is pruned');
    assert.ok(
      !h.server.writes.some((w) => w.key.endsWith('/review-copy') || w.key.endsWith('/custom-ingress-0')),
    );

    h.server.deleteTenant('x', h.clock.now());
    await h.reconcile();
    assert.deepEqual(h.server.object('ConfigMap', 'review-copy', 'team-a'), elsewhere);
    assert.deepEqual(
      h.server.writes.filter((w) => w.verb === 'delete').map((w) => w.key),
      [
        'NetworkPolicy/tenant-x/default-deny',
        'NetworkPolicy/tenant-x/allow-same-namespace',
        'NetworkPolicy/tenant-x/allow-system-ingress',
        'NetworkPolicy/tenant-x/allow-dns-egress',
        'NetworkPolicy/tenant-x/allow-system-egress',
        'NetworkPolicy/tenant-x/allow-web-egress',
        'Namespace//tenant-x',
      ],
      'only its own policies (pruned) and its namespace',
    );
    void unowned;
  });

  it('reports a look-alike holding one of its names as ObjectConflict (Failed, one Warning) and never writes it', async () => {
    const h = setup();
    await h.reconcile();
    h.server.remove('ConfigMap', 'x-redis-config', NS);
    const taken = h.server.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x-redis-config', namespace: NS, labels: TENANT_LABELS },
      data: { 'redis.conf': 'made by hand' },
    });
    h.reset();
    const result = await h.reconcile();
    assert.ok((result.requeueAfterMs ?? 0) > 0);
    assert.deepEqual(h.server.object('ConfigMap', 'x-redis-config', NS), taken);
    assert.deepEqual(h.server.writesTo('ConfigMap'), []);
    const ready = condition(h.status(), 'Ready');
    assert.equal(h.status().phase, 'Failed');
    assert.equal(ready.reason, 'ObjectConflict');
    assert.match(ready.message, /ConfigMap tenant-x\/x-redis-config exists and is not this Tenant's/);
    assert.deepEqual(
      h.events.events.filter((e) => e.type === 'Warning').map((e) => e.reason),
      ['ObjectConflict'],
    );
    h.reset();
    await h.reconcile();
    assertNoWrites(h.server);
    assert.deepEqual(h.events.events, []);
  });
});

describe('reconcile: repair is server-side apply only', () => {
  it('removes an env var added by hand with a guarded patch, keeping one managedFields entry of its own; later spec removals are pruned', async () => {
    const h = setup({
      server: { podAnnotations: { team: 'a', keep: 'y' }, nodeSelector: { zone: 'z1', disk: 'ssd' } },
    });
    await h.reconcile();
    h.server.editByHand('Deployment', 'x-server', NS, (d) => {
      template(d).spec.containers[0]!.env!.push({ name: 'ADDED_BY_HAND', value: '1' });
    });
    h.reset();
    await h.reconcile();
    assert.deepEqual(
      h.server.writes.map((w) => `${w.verb} ${w.key}`),
      [`apply Deployment/${NS}/x-server`, `jsonPatch Deployment/${NS}/x-server`],
    );
    const env = template(h.server.object('Deployment', 'x-server', NS)).spec.containers[0]!.env!.map(
      (e) => e.name,
    );
    assert.ok(!env.includes('ADDED_BY_HAND'));
    assert.deepEqual(ours(h.server.managers('Deployment', 'x-server', NS)), ['tenant-operator/Apply']);
    assert.match(
      h.events.withReason('DriftCorrected')[0]?.message ?? '',
      /Restored Server Deployment \(changed spec.template.spec.containers\[0\].env\)/,
    );

    h.server.editTenantSpec('x', {
      server: { podAnnotations: { keep: 'y' }, nodeSelector: { disk: 'ssd' } },
    });
    await h.reconcile();
    const after = template(h.server.object('Deployment', 'x-server', NS));
    assert.equal(after.metadata.annotations?.team, undefined, 'a removed podAnnotations key is pruned');
    assert.equal(after.metadata.annotations?.keep, 'y');
    assert.deepEqual(after.spec.nodeSelector, { disk: 'ssd' }, 'a removed nodeSelector key is pruned');
  });

  it('puts back a renumbered Redis port: the refused apply is followed by removing the stray port', async () => {
    const h = setup();
    await h.reconcile();
    h.server.editByHand('Service', 'x-redis', NS, (svc) => {
      (svc.spec as { ports: Array<{ port: number }> }).ports[0]!.port = 6380;
    });
    h.reset();
    await h.reconcile();
    const ports = (
      h.server.object('Service', 'x-redis', NS)!.spec as { ports: Array<{ name: string; port: number }> }
    ).ports;
    assert.deepEqual(
      ports.map((p) => `${p.name}:${p.port}`),
      ['redis:6379'],
    );
    assert.deepEqual(ours(h.server.managers('Service', 'x-redis', NS)), ['tenant-operator/Apply']);
  });

  it('puts back the renumbered only port of the ClusterIP server Service by replacing the list, then gives up the Update entry that left', async () => {
    const h = setup();
    await h.reconcile();
    h.server.editByHand('Service', 'x-server', NS, (svc) => {
      (svc.spec as { ports: Array<{ port: number }> }).ports[0]!.port = 9999;
    });
    h.reset();
    await h.reconcile();
    const ports = (
      h.server.object('Service', 'x-server', NS)!.spec as { ports: Array<{ name: string; port: number }> }
    ).ports;
    assert.deepEqual(
      ports.map((p) => `${p.name}:${p.port}`),
      ['http:3030'],
    );
    assert.deepEqual(ours(h.server.managers('Service', 'x-server', NS)), ['tenant-operator/Apply']);
    assert.deepEqual(
      h.events.events.map((e) => e.reason),
      ['DriftCorrected'],
    );
    h.reset();
    await h.reconcile();
    assertNoWrites(h.server, 'converged');
  });

  it('removes the billing annotation from the namespace when billingEmail is unset', async () => {
    const h = setup({ billingEmail: 'billing@example.com' });
    await h.reconcile();
    assert.equal(
      h.server.object('Namespace', NS)?.metadata.annotations?.[ANNOTATION_BILLING_EMAIL],
      'billing@example.com',
    );
    h.server.editTenantSpec('x', {});
    await h.reconcile();
    assert.equal(
      h.server.object('Namespace', NS)?.metadata.annotations?.[ANNOTATION_BILLING_EMAIL],
      undefined,
    );
  });
});

describe('reconcile: under the shipped ClusterRole', () => {
  it('never needs a verb config/rbac does not grant: creation, drift of every kind, a spec change, deletion', async () => {
    const h = setup({ server: { replicas: 2 } });
    await h.reconcile();
    h.server.makeWorkloadsReady('x');
    await h.reconcile();
    const children = [...h.server.objects.values()].filter((o) => o.metadata.namespace === NS);
    assert.equal(children.length, 18, 'every kind, the PDB too');
    for (const child of children) {
      h.server.editByHand(child.kind, child.metadata.name, NS, (o) => {
        o.metadata.labels = { ...o.metadata.labels, 'app.kubernetes.io/component': 'edited' };
      });
      await h.reconcile();
      h.server.remove(child.kind, child.metadata.name, NS);
      await h.reconcile();
    }
    h.server.editTenantSpec('x', { server: { replicas: 1 }, networkPolicy: { enabled: false } });
    await h.reconcile();
    h.server.deleteTenant('x', h.clock.now());
    await h.reconcile();
    h.server.finishNamespaceDeletion(NS);
    await h.reconcile();
    assert.equal(h.server.tenant('x'), undefined);
    assert.deepEqual(h.server.forbidden, [], 'no 403');
  });
});

describe('reconcile: a namespace still terminating', () => {
  it('waits (Pending, NamespaceTerminating, no warning) for the namespace an earlier Tenant of the id left, then proceeds', async () => {
    const h = setup();
    h.server.seed({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: NS,
        labels: TENANT_LABELS,
        ownerReferences: [
          {
            apiVersion: 'neurallog.io/v1',
            kind: 'Tenant',
            name: 'x',
            uid: 'an-earlier-uid',
            controller: true,
          },
        ],
        deletionTimestamp: '2029-12-31T23:59:00Z',
      },
      status: {
        phase: 'Terminating',
        conditions: [
          {
            type: 'NamespaceContentRemaining',
            status: 'True',
            message: 'Some resources are remaining: pods. has 2 resource instances',
          },
        ],
      },
    });
    const result = await h.reconcile();
    assert.ok((result.requeueAfterMs ?? 0) > 0);
    const status = h.status();
    assert.equal(status.phase, 'Pending');
    const ns = condition(status, 'NamespaceReady');
    assert.deepEqual([ns.status, ns.reason], ['False', 'NamespaceTerminating']);
    assert.match(ns.message, /NamespaceContentRemaining: Some resources are remaining: pods/);
    assert.deepEqual(
      h.events.events.filter((e) => e.type === 'Warning'),
      [],
    );
    assert.deepEqual(h.auth.calls, [{ op: 'register', tenantId: 'x' }]);

    h.server.finishNamespaceDeletion(NS);
    h.reset();
    await h.reconcile();
    assert.ok(h.server.object('Deployment', 'x-server', NS));
    assert.equal(condition(h.status(), 'NamespaceReady').reason, 'NamespaceReady');
  });

  it('says on what a deletion waits, from the namespace’s own conditions', async () => {
    const h = setup();
    await h.reconcile();
    h.server.deleteTenant('x', h.clock.now());
    await h.reconcile();
    h.server.setWorkloadStatus('Namespace', NS, '', {
      phase: 'Terminating',
      conditions: [
        {
          type: 'NamespaceFinalizersRemaining',
          status: 'True',
          message:
            'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
        },
      ],
    });
    await h.reconcile();
    assert.match(
      condition(h.status(), 'Ready').message,
      /waiting for namespace tenant-x to be removed \(NamespaceFinalizersRemaining: Some content .* example.com\/hold/,
    );
  });
});

describe('reconcile: warnings once per reason', () => {
  it('announces a failing deregistration once, however the answers vary, and rewrites no status while the cause stays', async () => {
    const h = setup();
    await h.reconcile();
    h.server.deleteTenant('x', h.clock.now());
    let n = 0;
    const failing = () =>
      new AuthServiceUnavailableError(
        `Auth service failed deregister (answered 503: <html>request ${++n}</html>)`,
        {
          operation: 'deregister',
          status: 503,
          summary: 'Auth service failed deregister (DELETE http://auth/api/tenants/x answered 503).',
        },
      );
    h.auth.failWith = failing();
    h.reset();
    await h.reconcile();
    assert.deepEqual(
      h.events.events.map((e) => e.reason),
      ['AuthServiceUnavailable'],
    );
    assert.match(
      condition(h.status(), 'AuthRegistered').message,
      /answered 503\)\.; deletion waits for it until 2030-01-01T00:10:00Z/,
    );
    for (let i = 0; i < 3; i++) {
      h.auth.failWith = failing();
      h.clock.advance(15_000);
      h.reset();
      await h.reconcile();
      assert.deepEqual(h.events.events, [], 'no second warning');
      assertNoWrites(h.server, 'the same cause writes no status');
    }
  });
});

describe('reconcile: why a component is not ready', () => {
  function pod(name: string, component: string, status: Record<string, unknown>): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: NS,
        labels: {
          'app.kubernetes.io/instance': 'x',
          'app.kubernetes.io/component': component,
          'neurallog.io/tenant': 'x',
        },
      },
      status,
    };
  }

  it('does not look before the component had time, then names the scheduler’s reason with one Warning', async () => {
    const h = setup({ server: { nodeSelector: { zone: 'nowhere' } } });
    await h.reconcile();
    h.server.makeWorkloadsReady('x', { server: 0 });
    h.server.seed(
      pod('x-server-1', 'server', {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
          },
        ],
      }),
    );
    h.reset();
    await h.reconcile();
    assert.deepEqual(
      h.server.reads.filter((r) => r.startsWith('list')),
      [],
      'too young to look into',
    );
    assert.equal(h.status().serverStatus?.message, 'Server is being provisioned');

    h.clock.advance(DIAGNOSE_AFTER_MS);
    h.reset();
    const result = await h.reconcile();
    assert.deepEqual(h.server.reads, [`list Pod/${NS}`]);
    assert.equal(
      h.status().serverStatus?.message,
      "Server is being provisioned: 1 pod cannot be scheduled: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    );
    const server = condition(h.status(), 'ServerReady');
    assert.deepEqual([server.status, server.reason], ['False', 'PodUnschedulable']);
    assert.match(condition(h.status(), 'Ready').message, /cannot be scheduled/);
    assert.deepEqual(
      h.events.events.map((e) => [e.type, e.reason]),
      [['Warning', 'PodUnschedulable']],
    );
    assert.ok((result.requeueAfterMs ?? 0) >= DIAGNOSE_AFTER_MS, 'looked at again later');

    h.clock.advance(DIAGNOSE_AFTER_MS);
    h.reset();
    await h.reconcile();
    assert.deepEqual(h.events.events, [], 'the same cause is not announced again');
    assertNoWrites(h.server);
  });

  it('names a quota refusal of the Redis pods from the StatefulSet’s FailedCreate events', async () => {
    const h = setup();
    await h.reconcile();
    h.server.makeWorkloadsReady('x', { redis: 0 });
    h.server.seed({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'x-redis.1', namespace: NS },
      involvedObject: { kind: 'StatefulSet', name: 'x-redis' },
      reason: 'FailedCreate',
      message:
        'create Pod x-redis-0 in StatefulSet x-redis failed error: pods "x-redis-0" is forbidden: exceeded quota: tenant-quota',
      lastTimestamp: '2030-01-01T00:00:10Z',
    });
    h.clock.advance(DIAGNOSE_AFTER_MS);
    await h.reconcile();
    const redis = condition(h.status(), 'RedisReady');
    assert.equal(redis.reason, 'FailedCreate');
    assert.match(redis.message, /exceeded quota: tenant-quota/);
  });

  it('names an image that cannot be pulled, and a Deployment whose ReplicaSet the quota refuses', async () => {
    const h = setup();
    await h.reconcile();
    h.server.makeWorkloadsReady('x', { server: 0 });
    h.server.seed(
      pod('x-server-2', 'server', {
        containerStatuses: [
          {
            name: 'server',
            image: 'neurallog/server:nope',
            state: {
              waiting: {
                reason: 'ImagePullBackOff',
                message: 'Back-off pulling image "neurallog/server:nope"',
              },
            },
          },
        ],
      }),
    );
    h.clock.advance(DIAGNOSE_AFTER_MS);
    await h.reconcile();
    assert.equal(condition(h.status(), 'ServerReady').reason, 'ImagePullFailed');
    assert.match(
      h.status().serverStatus?.message ?? '',
      /image neurallog\/server:nope of container server cannot be pulled/,
    );

    const dep = h.server.object('Deployment', 'x-server', NS)!;
    h.server.setWorkloadStatus('Deployment', 'x-server', NS, {
      ...(dep.status as object),
      conditions: [
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message: 'pods "x-server-abc" is forbidden: exceeded quota: tenant-quota',
        },
      ],
    });
    h.reset();
    await h.reconcile();
    assert.equal(condition(h.status(), 'ServerReady').reason, 'FailedCreate');
    assert.deepEqual(h.server.reads, [], 'the Deployment says it: no pod list needed');
  });
});

describe('reconcile: registering from a cache behind a deletion', () => {
  /** The Tenant as a process that just started may still cache it: finalizer on, not registered. */
  async function cachedWithFinalizer() {
    const h = setup();
    const seeded = h.server.tenant('x')!;
    await h.server.setTenantFinalizers(
      'x',
      ['neurallog.io/finalizer'],
      seeded.metadata.resourceVersion ?? '',
    );
    const snapshot = h.server.tenant('x')!;
    const stale = h.build({ ...observedCluster(h.server), tenant: () => snapshot });
    h.reset();
    return { h, stale };
  }

  /** `kubectl delete tenant x` and another process running the finalizer: gone from the server. */
  async function deletedOnServer(h: ReturnType<typeof setup>) {
    h.server.deleteTenant('x', h.clock.now());
    await h.server.setTenantFinalizers('x', [], h.server.tenant('x')!.metadata.resourceVersion ?? '');
  }

  it('does not register, or write anything, for a Tenant the API server no longer holds', async () => {
    const { h, stale } = await cachedWithFinalizer();
    await deletedOnServer(h);
    assert.equal(h.server.tenant('x'), undefined);
    h.reset();
    assert.deepEqual(await stale('x'), {});
    assert.deepEqual(h.auth.calls, []);
    assertNoWrites(h.server);
  });

  it('does not register a Tenant being deleted while the cache does not know yet', async () => {
    const { h, stale } = await cachedWithFinalizer();
    h.server.deleteTenant('x', h.clock.now());
    h.reset();
    await stale('x');
    assert.deepEqual(h.auth.calls, []);
    assertNoWrites(h.server);
    // The watch then brings the deletion: the finalizer deregisters (404 counts as done).
    await h.reconcile();
    assert.deepEqual(h.auth.calls, [{ op: 'deregister', tenantId: 'x' }]);
  });

  it('does not register for the cached Tenant when a new one of that name (another uid) replaced it', async () => {
    const { h, stale } = await cachedWithFinalizer();
    await deletedOnServer(h);
    h.server.seedTenant({ metadata: { name: 'x' }, spec: {} });
    h.reset();
    await stale('x');
    assert.deepEqual(h.auth.calls, []);
    assertNoWrites(h.server);
    // The new Tenant, once seen, is provisioned and registered as usual.
    await h.reconcile();
    assert.deepEqual(h.auth.calls, [{ op: 'register', tenantId: 'x' }]);
  });

  it('registers a live Tenant whose finalizer is already there, after one read', async () => {
    const { h, stale } = await cachedWithFinalizer();
    await stale('x');
    assert.deepEqual(h.auth.calls, [{ op: 'register', tenantId: 'x' }]);
    assert.equal(h.server.reads.filter((r) => r.startsWith('get Tenant')).length, 1);
  });
});
