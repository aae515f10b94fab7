import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import { resolvedTenant } from '../render/fixtures.test-util.ts';
import { render } from '../render/index.ts';
import type { RenderedObject } from '../render/meta.ts';
import { isCreateOnly } from '../render/redis.ts';
import { type Action, planChildren } from './plan.ts';

const UID = 'tenant-uid-1';
const AUTH_URL = 'http://auth.neurallog-system.svc:3000';

function desiredFor(spec: Record<string, unknown> = {}, password = 'pw-1'): RenderedObject[] {
  return render(resolvedTenant(spec, { name: 'acme', uid: UID }), {
    authUrl: AUTH_URL,
    redisPassword: password,
  });
}

/** What the API server holds after the objects were written: ours plus server-added fields. */
function liveFrom(objects: RenderedObject[]): Map<string, KubeObject> {
  const live = new Map<string, KubeObject>();
  objects.forEach((obj, i) => {
    const copy = structuredClone(obj) as KubeObject;
    copy.metadata.uid = `uid-${i}`;
    copy.metadata.resourceVersion = String(100 + i);
    copy.metadata.creationTimestamp = '2030-01-01T00:00:00Z';
    copy.metadata.managedFields = [{ manager: 'tenant-operator', operation: 'Apply' }];
    if (obj.kind === 'Deployment') {
      const spec = copy.spec as Record<string, unknown>;
      spec.revisionHistoryLimit = 10;
      spec.progressDeadlineSeconds = 600;
      copy.status = { replicas: 1, readyReplicas: 1 };
    }
    if (obj.kind === 'Service') (copy.spec as Record<string, unknown>).sessionAffinity = 'None';
    if (obj.kind === 'Namespace') copy.spec = { finalizers: ['kubernetes'] };
    if (obj.kind === 'Secret') {
      copy.data = { password: 'c2VjcmV0' };
      delete copy.stringData;
    }
    live.set(objectKey(copy), copy);
  });
  return live;
}

function plan(desired: RenderedObject[], live: ReadonlyMap<string, KubeObject>, specChanged = false) {
  return planChildren({
    desired,
    live,
    specChanged,
    isCreateOnly,
    tenant: { uid: UID, id: 'acme', namespace: 'tenant-acme' },
    ownership: 'ownerReference',
  });
}

const keyOf = (a: Action) => objectKey(a.object);
const deletes = (actions: Action[]) => actions.filter((a) => a.type === 'delete').map(keyOf);

describe('planChildren', () => {
  it('creates every absent child: reason created after a spec change, drift otherwise', () => {
    const desired = desiredFor();
    for (const [specChanged, reason] of [
      [true, 'created'],
      [false, 'drift'],
    ] as const) {
      const { actions, storageChange } = plan(desired, new Map(), specChanged);
      assert.equal(storageChange, undefined);
      assert.deepEqual(actions.map(keyOf), desired.map(objectKey));
      for (const action of actions) {
        assert.notEqual(action.type, 'delete');
        if (action.type !== 'delete') assert.equal(action.reason, reason, keyOf(action));
      }
    }
  });

  it('creates the namespace and the Redis Secret with POST, never with apply', () => {
    const { actions } = plan(desiredFor(), new Map(), true);
    const byKind = new Map(actions.map((a) => [a.object.kind, a.type]));
    assert.equal(byKind.get('Namespace'), 'create');
    assert.equal(byKind.get('Secret'), 'create');
    const created = actions.filter((a) => a.type === 'create').map((a) => a.object.kind);
    assert.deepEqual(created.sort(), ['Namespace', 'Secret']);
    for (const a of actions) if (a.type === 'apply') assert.deepEqual(a.changed, []);
  });

  it('plans nothing when the live state holds what is desired (plus server-added fields)', () => {
    const desired = desiredFor();
    assert.deepEqual(plan(desired, liveFrom(desired)).actions, []);
    assert.deepEqual(plan(desired, liveFrom(desired), true).actions, []);
  });

  it('applies a changed object with the changed paths; drift when the spec did not change', () => {
    const desired = desiredFor();
    const live = liveFrom(desired);
    const deployment = live.get('Deployment/tenant-acme/acme-server')!;
    (deployment.spec as { replicas: number }).replicas = 5;
    const configMap = live.get('ConfigMap/tenant-acme/acme-redis-config')!;
    configMap.data = { 'redis.conf': 'port 6379\n' };

    const { actions } = plan(desired, live);
    assert.equal(actions.length, 2);
    const [first, second] = actions;
    assert.ok(first?.type === 'apply' && second?.type === 'apply');
    assert.equal(keyOf(first), 'ConfigMap/tenant-acme/acme-redis-config');
    assert.deepEqual(first.changed, ['data.redis.conf']);
    assert.equal(first.reason, 'drift');
    assert.equal(keyOf(second), 'Deployment/tenant-acme/acme-server');
    assert.deepEqual(second.changed, ['spec.replicas']);
    // The whole desired object is applied, not a patch of the one field.
    assert.equal((second.object.spec as { replicas: number }).replicas, 1);
  });

  it('calls a write after a spec change an update', () => {
    const live = liveFrom(desiredFor());
    const { actions } = plan(desiredFor({ server: { image: 'neurallog/server:2.0' } }), live, true);
    assert.equal(actions.length, 1);
    const [action] = actions;
    assert.ok(action?.type === 'apply');
    assert.equal(action.reason, 'updated');
    assert.deepEqual(action.changed, ['spec.template.spec.containers[0].image']);
  });

  it('never deletes an object in the namespace that does not carry our labels', () => {
    const desired = desiredFor();
    const live = liveFrom(desired);
    const foreign = (name: string, labels?: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'tenant-acme', uid: `uid-${name}`, ...(labels ? { labels } : {}) },
      data: { a: 'b' },
    });
    live.set('ConfigMap/tenant-acme/by-hand', foreign('by-hand'));
    live.set(
      'ConfigMap/tenant-acme/other-manager',
      foreign('other-manager', { 'neurallog.io/tenant': 'acme', 'app.kubernetes.io/managed-by': 'helm' }),
    );
    live.set(
      'ConfigMap/tenant-acme/other-tenant',
      foreign('other-tenant', {
        'neurallog.io/tenant': 'globex',
        'app.kubernetes.io/managed-by': 'tenant-operator',
      }),
    );
    assert.deepEqual(plan(desired, live).actions, []);
  });

  it('never deletes or changes a look-alike: our labels but no owner reference, or another namespace', () => {
    const desired = desiredFor();
    const live = liveFrom(desired);
    const labels = { 'neurallog.io/tenant': 'acme', 'app.kubernetes.io/managed-by': 'tenant-operator' };
    const lookAlike = (name: string, namespace: string, owners?: KubeObject['metadata']['ownerReferences']) =>
      ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name,
          namespace,
          uid: `uid-${namespace}-${name}`,
          labels,
          ...(owners ? { ownerReferences: owners } : {}),
        },
        spec: { podSelector: {} },
      }) as KubeObject;
    live.set('NetworkPolicy/tenant-acme/by-hand', lookAlike('by-hand', 'tenant-acme'));
    live.set(
      'NetworkPolicy/team-a/default-deny',
      lookAlike('default-deny', 'team-a', [
        { apiVersion: 'neurallog.io/v1', kind: 'Tenant', name: 'acme', uid: UID, controller: true },
      ]),
    );
    live.set(
      'NetworkPolicy/tenant-acme/other-owner',
      lookAlike('other-owner', 'tenant-acme', [
        {
          apiVersion: 'neurallog.io/v1',
          kind: 'Tenant',
          name: 'acme',
          uid: 'some-other-uid',
          controller: true,
        },
      ]),
    );
    const result = plan(desired, live);
    assert.deepEqual(result.actions, []);
    assert.deepEqual(result.conflicts, []);
    // Disabling the policies deletes ours, and only ours.
    const disabled = plan(desiredFor({ networkPolicy: { enabled: false } }), live, true);
    const deleted = deletes(disabled.actions);
    assert.ok(deleted.includes('NetworkPolicy/tenant-acme/default-deny'));
    for (const key of [
      'NetworkPolicy/tenant-acme/by-hand',
      'NetworkPolicy/team-a/default-deny',
      'NetworkPolicy/tenant-acme/other-owner',
    ])
      assert.ok(!deleted.includes(key), key);
  });

  it('leaves a look-alike holding one of its names alone and reports it as a conflict', () => {
    const desired = desiredFor();
    const live = liveFrom(desired);
    const taken = live.get('ConfigMap/tenant-acme/acme-redis-config')!;
    delete taken.metadata.ownerReferences;
    taken.data = { 'redis.conf': 'someone else' };
    const result = plan(desired, live);
    assert.deepEqual(result.actions, [], 'not applied over');
    assert.deepEqual(
      result.conflicts.map((c) => objectKey(c)),
      ['ConfigMap/tenant-acme/acme-redis-config'],
    );
  });

  it('creates the namespace with only what makes it ours, then applies the rest', () => {
    const { actions } = plan(desiredFor({ billingEmail: 'billing@example.com' }), new Map(), true);
    const ns = actions.filter((a) => a.object.kind === 'Namespace');
    assert.deepEqual(
      ns.map((a) => a.type),
      ['create', 'apply'],
    );
    assert.deepEqual(
      Object.keys(ns[0]!.object.metadata.annotations ?? {}),
      ['neurallog.io/desired-hash'],
      'a created annotation could never be removed by apply: only the hash, always present, is sent',
    );
    assert.ok(ns[0]!.object.metadata.ownerReferences?.length);
    assert.equal(ns[1]!.object.metadata.annotations?.['neurallog.io/billing-email'], 'billing@example.com');
  });

  it('deletes every network policy it made once networkPolicy.enabled is false', () => {
    const before = desiredFor();
    const policies = before.filter((o) => o.kind === 'NetworkPolicy').map(objectKey);
    assert.ok(policies.length >= 6);
    const { actions } = plan(desiredFor({ networkPolicy: { enabled: false } }), liveFrom(before), true);
    assert.deepEqual(deletes(actions).sort(), policies.sort());
    assert.equal(actions.length, policies.length);
    for (const a of actions) if (a.type === 'delete') assert.ok(a.object.metadata.uid, 'deletes by uid');
  });

  it('deletes the PodDisruptionBudget when server replicas drop below 2', () => {
    const before = desiredFor({ server: { replicas: 3 } });
    assert.ok(before.some((o) => o.kind === 'PodDisruptionBudget'));
    const { actions } = plan(desiredFor({ server: { replicas: 1 } }), liveFrom(before), true);
    assert.deepEqual(deletes(actions), ['PodDisruptionBudget/tenant-acme/acme-server']);
    const apply = actions.find((a) => a.type === 'apply');
    assert.ok(apply?.type === 'apply');
    assert.deepEqual(apply.changed, ['spec.replicas']);
  });

  it('deletes custom-ingress-1 after its rule is removed, keeping custom-ingress-0', () => {
    const rule = (app: string) => ({ description: app, from: { app }, ports: [{ port: 8080 }] });
    const before = desiredFor({ networkPolicy: { ingressRules: [rule('a'), rule('b')] } });
    const after = desiredFor({ networkPolicy: { ingressRules: [rule('a')] } });
    const { actions } = plan(after, liveFrom(before), true);
    assert.deepEqual(actions.map(keyOf), ['NetworkPolicy/tenant-acme/custom-ingress-1']);
    assert.equal(actions[0]?.type, 'delete');
  });

  it('never deletes the namespace and skips objects already being deleted', () => {
    const desired = desiredFor();
    const live = liveFrom(desiredFor({ server: { replicas: 2 } }));
    live.get('PodDisruptionBudget/tenant-acme/acme-server')!.metadata.deletionTimestamp =
      '2030-01-01T00:00:01Z';
    const otherNs = structuredClone(live.get('Namespace//tenant-acme')!);
    otherNs.metadata.name = 'tenant-old';
    live.set('Namespace//tenant-old', otherNs);
    const { actions } = plan(desired, live);
    assert.deepEqual(deletes(actions), []);
  });

  it('never rewrites the Redis Secret once it exists, even when its content differs', () => {
    const live = liveFrom(desiredFor({}, 'original-password'));
    const secret = live.get('Secret/tenant-acme/acme-redis-auth')!;
    secret.data = { password: 'c29tZXRoaW5nIGVsc2U=' };
    secret.metadata.labels = { ...secret.metadata.labels, extra: 'x' };
    for (const specChanged of [false, true]) {
      const { actions } = plan(desiredFor({}, 'a-new-random-password'), live, specChanged);
      assert.deepEqual(actions, []);
    }
  });

  it('keeps the live claim size when spec.redis.storage changes, and reports it', () => {
    const live = liveFrom(desiredFor());
    const desired = desiredFor({ redis: { storage: '5Gi' } });
    const result = plan(desired, live, true);
    assert.deepEqual(result.storageChange, { current: '1Gi', requested: '5Gi' });
    // Only the desired hash moves: the StatefulSet is applied again, with the live claim size.
    assert.equal(result.actions.length, 1);
    const [apply] = result.actions;
    assert.ok(apply?.type === 'apply');
    assert.deepEqual(apply.changed, []);
    const applied = (
      apply.object.spec as {
        volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }>;
      }
    ).volumeClaimTemplates;
    assert.equal(applied[0]?.spec.resources.requests.storage, '1Gi');
    // The caller's desired objects are not modified.
    const sts = desired.find((o) => o.kind === 'StatefulSet')!;
    const templates = (
      sts.spec as { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> }
    ).volumeClaimTemplates;
    assert.equal(templates[0]?.spec.resources.requests.storage, '5Gi');
  });

  it('applies other StatefulSet changes with the live claim template', () => {
    const live = liveFrom(desiredFor({ redis: { storageClassName: 'fast' } }));
    const desired = desiredFor({ redis: { storage: '5Gi', image: 'redis:7.4-alpine' } });
    const result = plan(desired, live, true);
    assert.deepEqual(result.storageChange, { current: '1Gi', requested: '5Gi' });
    assert.equal(result.actions.length, 1);
    const [action] = result.actions;
    assert.ok(action?.type === 'apply');
    assert.equal(keyOf(action), 'StatefulSet/tenant-acme/acme-redis');
    assert.deepEqual(action.changed, ['spec.template.spec.containers[0].image']);
    const spec = action.object.spec as {
      volumeClaimTemplates: Array<{
        spec: { storageClassName?: string; resources: { requests: { storage: string } } };
      }>;
    };
    assert.equal(spec.volumeClaimTemplates[0]?.spec.resources.requests.storage, '1Gi');
    assert.equal(spec.volumeClaimTemplates[0]?.spec.storageClassName, 'fast');
  });

  it('treats an equal storage quantity spelt differently as no change', () => {
    const live = liveFrom(desiredFor());
    const result = plan(desiredFor({ redis: { storage: '1024Mi' } }), live, true);
    assert.equal(result.storageChange, undefined);
    assert.deepEqual(
      result.actions.map((a) => (a.type === 'apply' ? a.changed : a.type)),
      [[]],
      'no field differs (the hash of the new spelling does)',
    );
  });

  it('is idempotent: the state its actions produce plans nothing', () => {
    const live = liveFrom(
      desiredFor({ server: { replicas: 3 }, networkPolicy: { allowedNamespaces: ['ops'] } }),
    );
    const desired = desiredFor({ server: { replicas: 1 }, features: { aiEnabled: true } });
    const { actions } = plan(desired, live, true);
    assert.ok(actions.length > 0);
    const next = new Map(live);
    for (const a of actions) {
      if (a.type === 'delete') next.delete(keyOf(a));
      else next.set(keyOf(a), { ...next.get(keyOf(a)), ...structuredClone(a.object) } as KubeObject);
    }
    assert.deepEqual(plan(desired, next).actions, []);
  });
});
