import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedTenant } from './fixtures.test-util.ts';
import { renderResourceQuota } from './quota.ts';

const UID = '3f1c2b9e-0000-4000-8000-000000000002';

/** SPEC §2.2, written out here rather than imported, so the test checks the code against the spec. */
const PLANS = {
  starter: {
    'requests.cpu': '2',
    'requests.memory': '4Gi',
    'limits.cpu': '4',
    'limits.memory': '8Gi',
    'requests.storage': '10Gi',
    pods: '10',
    services: '5',
    persistentvolumeclaims: '3',
    secrets: '10',
    configmaps: '10',
  },
  professional: {
    'requests.cpu': '8',
    'requests.memory': '16Gi',
    'limits.cpu': '16',
    'limits.memory': '32Gi',
    'requests.storage': '100Gi',
    pods: '50',
    services: '15',
    persistentvolumeclaims: '10',
    secrets: '50',
    configmaps: '50',
  },
  enterprise: {
    'requests.cpu': '32',
    'requests.memory': '64Gi',
    'limits.cpu': '64',
    'limits.memory': '128Gi',
    'requests.storage': '1Ti',
    pods: '100',
    services: '20',
    persistentvolumeclaims: '25',
    secrets: '100',
    configmaps: '100',
  },
};
const TABLE_ORDER = Object.keys(PLANS.starter);

describe('renderResourceQuota', () => {
  it('renders ResourceQuota tenant-quota in the tenant namespace with the tenant labels', () => {
    const q = renderResourceQuota(resolvedTenant());
    assert.equal(q.apiVersion, 'v1');
    assert.equal(q.kind, 'ResourceQuota');
    assert.equal(q.metadata.name, 'tenant-quota');
    assert.equal(q.metadata.namespace, 'tenant-acme');
    assert.deepEqual(q.metadata.labels, {
      'app.kubernetes.io/managed-by': 'tenant-operator',
      'app.kubernetes.io/part-of': 'neurallog',
      'app.kubernetes.io/instance': 'acme',
      'app.kubernetes.io/component': 'quota',
      'neurallog.io/tenant': 'acme',
      'neurallog.io/tenant-id': 'acme',
    });
  });

  it('has an owner reference iff the Tenant uid is known', () => {
    assert.equal('ownerReferences' in renderResourceQuota(resolvedTenant()).metadata, false);
    const owned = renderResourceQuota(resolvedTenant({}, { uid: UID }));
    assert.equal(owned.metadata.ownerReferences?.length, 1);
    assert.equal(owned.metadata.ownerReferences?.[0]?.uid, UID);
    assert.equal(owned.metadata.ownerReferences?.[0]?.controller, true);
  });

  it('defaults to the starter plan', () => {
    assert.deepEqual(renderResourceQuota(resolvedTenant()).spec.hard, PLANS.starter);
  });

  for (const plan of ['starter', 'professional', 'enterprise'] as const) {
    it(`renders the ${plan} plan's values in the order of SPEC §2.2`, () => {
      const hard = renderResourceQuota(resolvedTenant({ planId: plan })).spec.hard;
      assert.deepEqual(hard, PLANS[plan]);
      assert.deepEqual(Object.keys(hard), TABLE_ORDER);
    });
  }

  const overrides: [string, Record<string, unknown>, string, string][] = [
    ['cpu.requests', { cpu: { requests: '3' } }, 'requests.cpu', '3'],
    ['cpu.limits', { cpu: { limits: '6500m' } }, 'limits.cpu', '6500m'],
    ['memory.requests', { memory: { requests: '6Gi' } }, 'requests.memory', '6Gi'],
    ['memory.limits', { memory: { limits: '12Gi' } }, 'limits.memory', '12Gi'],
    ['storage.requests', { storage: { requests: '20Gi' } }, 'requests.storage', '20Gi'],
    ['pods', { pods: 17 }, 'pods', '17'],
    ['services', { services: 9 }, 'services', '9'],
  ];
  for (const [field, resources, key, value] of overrides) {
    it(`spec.resources.${field} overrides ${key} and nothing else`, () => {
      const hard = renderResourceQuota(resolvedTenant({ planId: 'professional', resources })).spec.hard;
      assert.deepEqual(hard, { ...PLANS.professional, [key]: value });
      assert.deepEqual(Object.keys(hard), TABLE_ORDER);
    });
  }

  it('renders quantities given as numbers as strings', () => {
    const hard = renderResourceQuota(
      resolvedTenant({
        resources: {
          cpu: { requests: 3, limits: 6 },
          memory: { requests: 1073741824 },
          storage: { requests: 0 },
          pods: 4,
          services: 2,
        },
      }),
    ).spec.hard;
    assert.equal(hard['requests.cpu'], '3');
    assert.equal(hard['limits.cpu'], '6');
    assert.equal(hard['requests.memory'], '1073741824');
    assert.equal(hard['requests.storage'], '0');
    assert.equal(hard.pods, '4');
    assert.equal(hard.services, '2');
    for (const v of Object.values(hard)) assert.equal(typeof v, 'string');
  });

  it('ignores storage.storageClass (it picks the Redis storage class, not a quota)', () => {
    const hard = renderResourceQuota(resolvedTenant({ resources: { storage: { storageClass: 'fast' } } }))
      .spec.hard;
    assert.deepEqual(hard, PLANS.starter);
  });

  it('is deterministic', () => {
    const spec = { planId: 'enterprise', resources: { pods: 3, cpu: { limits: '10' } } };
    assert.deepEqual(renderResourceQuota(resolvedTenant(spec)), renderResourceQuota(resolvedTenant(spec)));
  });
});
