import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedTenant } from './fixtures.test-util.ts';
import { renderLimitRange } from './limits.ts';

const UID = '3f1c2b9e-0000-4000-8000-000000000003';

describe('renderLimitRange', () => {
  it('renders LimitRange tenant-limits in the tenant namespace with the tenant labels', () => {
    const lr = renderLimitRange(resolvedTenant());
    assert.equal(lr.apiVersion, 'v1');
    assert.equal(lr.kind, 'LimitRange');
    assert.equal(lr.metadata.name, 'tenant-limits');
    assert.equal(lr.metadata.namespace, 'tenant-acme');
    assert.deepEqual(lr.metadata.labels, {
      'app.kubernetes.io/managed-by': 'tenant-operator',
      'app.kubernetes.io/part-of': 'neurallog',
      'app.kubernetes.io/instance': 'acme',
      'app.kubernetes.io/component': 'limits',
      'neurallog.io/tenant': 'acme',
      'neurallog.io/tenant-id': 'acme',
    });
  });

  it('has an owner reference iff the Tenant uid is known', () => {
    assert.equal('ownerReferences' in renderLimitRange(resolvedTenant()).metadata, false);
    assert.equal(renderLimitRange(resolvedTenant({}, { uid: UID })).metadata.ownerReferences?.[0]?.uid, UID);
  });

  it('has the values of SPEC §2.3', () => {
    assert.deepEqual(renderLimitRange(resolvedTenant()).spec.limits, [
      {
        type: 'Container',
        default: { cpu: '200m', memory: '256Mi' },
        defaultRequest: { cpu: '100m', memory: '128Mi' },
        max: { cpu: '4', memory: '8Gi' },
        min: { cpu: '50m', memory: '64Mi' },
      },
      { type: 'Pod', max: { cpu: '8', memory: '16Gi' } },
      { type: 'PersistentVolumeClaim', max: { storage: '50Gi' }, min: { storage: '1Gi' } },
    ]);
  });

  it('is the same for every plan', () => {
    const starter = renderLimitRange(resolvedTenant({ planId: 'starter' })).spec;
    assert.deepEqual(renderLimitRange(resolvedTenant({ planId: 'enterprise' })).spec, starter);
  });

  it('is deterministic and shares no objects between renders', () => {
    const a = renderLimitRange(resolvedTenant());
    const b = renderLimitRange(resolvedTenant());
    assert.deepEqual(a, b);
    a.spec.limits[0]!.max!.cpu = '999';
    assert.equal(renderLimitRange(resolvedTenant()).spec.limits[0]!.max!.cpu, '4');
  });
});
