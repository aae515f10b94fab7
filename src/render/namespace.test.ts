import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedTenant } from './fixtures.test-util.ts';
import { renderNamespace } from './namespace.ts';

const UID = '3f1c2b9e-0000-4000-8000-000000000001';

const tenantLabels = (id: string) => ({
  'app.kubernetes.io/managed-by': 'tenant-operator',
  'app.kubernetes.io/part-of': 'neurallog',
  'app.kubernetes.io/instance': id,
  'app.kubernetes.io/component': 'namespace',
  'neurallog.io/tenant': id,
  'neurallog.io/tenant-id': id,
});

describe('renderNamespace', () => {
  it('renders Namespace tenant-<id>, cluster-scoped', () => {
    const ns = renderNamespace(resolvedTenant());
    assert.equal(ns.apiVersion, 'v1');
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.metadata.name, 'tenant-acme');
    assert.equal('namespace' in ns.metadata, false);
    assert.deepEqual(Object.keys(ns).sort(), ['apiVersion', 'kind', 'metadata']);
  });

  it('carries the six tenant labels, component namespace, the plan and the restricted PSA level', () => {
    const ns = renderNamespace(resolvedTenant());
    assert.deepEqual(ns.metadata.labels, {
      ...tenantLabels('acme'),
      'neurallog.io/plan': 'starter',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  it('uses spec.tenantId over metadata.name for the name and the labels', () => {
    const ns = renderNamespace(resolvedTenant({ tenantId: 'globex' }, { name: 'some-object-name' }));
    assert.equal(ns.metadata.name, 'tenant-globex');
    assert.deepEqual(ns.metadata.labels, {
      ...tenantLabels('globex'),
      'neurallog.io/plan': 'starter',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  for (const plan of ['starter', 'professional', 'enterprise'] as const) {
    it(`labels the plan ${plan}`, () => {
      assert.equal(
        renderNamespace(resolvedTenant({ planId: plan })).metadata.labels['neurallog.io/plan'],
        plan,
      );
    });
  }

  it('has an owner (controller) reference to the Tenant when its uid is known', () => {
    const ns = renderNamespace(resolvedTenant({}, { uid: UID }));
    assert.deepEqual(ns.metadata.ownerReferences, [
      {
        apiVersion: 'neurallog.io/v1',
        kind: 'Tenant',
        name: 'acme',
        uid: UID,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('has no owner reference before the Tenant has a uid (offline rendering)', () => {
    assert.equal('ownerReferences' in renderNamespace(resolvedTenant()).metadata, false);
  });

  it('records billingEmail as annotation neurallog.io/billing-email', () => {
    const ns = renderNamespace(resolvedTenant({ billingEmail: 'billing@acme.example' }));
    assert.deepEqual(ns.metadata.annotations, { 'neurallog.io/billing-email': 'billing@acme.example' });
  });

  it('has no annotations without billingEmail', () => {
    assert.equal('annotations' in renderNamespace(resolvedTenant()).metadata, false);
  });

  it('is deterministic', () => {
    const spec = { planId: 'enterprise', billingEmail: 'a@b.example' };
    const a = renderNamespace(resolvedTenant(spec, { uid: UID }));
    const b = renderNamespace(resolvedTenant(spec, { uid: UID }));
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });
});
