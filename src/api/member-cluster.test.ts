import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkClusterName, kubeconfigSecretOf, memberCluster } from './member-cluster.ts';
import { validateTenant } from './validate.ts';

const mc = (name: string, spec: unknown = {}) => ({
  apiVersion: 'neurallog.io/v1',
  kind: 'MemberCluster',
  metadata: { name },
  spec,
});

describe('MemberCluster schema', () => {
  it('takes a Cluster API kubeconfig Secret as it is, and fills in the namespace and key', () => {
    const parsed = memberCluster.parse(mc('prod-1', { kubeconfigSecretRef: { name: 'prod-1-kubeconfig' } }));
    assert.deepEqual(kubeconfigSecretOf(parsed, 'neurallog-system'), {
      name: 'prod-1-kubeconfig',
      namespace: 'neurallog-system',
      key: 'value',
    });
    const local = memberCluster.parse(mc('local'));
    assert.equal(
      kubeconfigSecretOf(local, 'neurallog-system'),
      undefined,
      'no Secret: the management cluster',
    );
  });

  it('refuses bad fields by name', () => {
    const bad = memberCluster.safeParse(
      mc('prod-1', { maxTenants: -1, kubeconfigSecretRef: { name: 'Prod_1', key: 'a/b' }, cordon: true }),
    );
    assert.ok(!bad.success);
    const paths = bad.error.issues.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, [
      'spec',
      'spec.kubeconfigSecretRef.key',
      'spec.kubeconfigSecretRef.name',
      'spec.maxTenants',
    ]);
  });

  it('keeps the name to a DNS-1123 label, as tenants pin to it', () => {
    assert.equal(checkClusterName(mc('prod-1')), undefined);
    assert.match(
      checkClusterName(mc('prod.eu')) ?? '',
      /metadata\.name of a MemberCluster must be 1-63 characters/,
    );
    assert.match(checkClusterName(mc('a'.repeat(64))) ?? '', /1-63 characters/);
  });
});

describe('Tenant spec.placement', () => {
  const tenant = (placement: unknown) => ({
    apiVersion: 'neurallog.io/v1',
    kind: 'Tenant',
    metadata: { name: 'acme' },
    spec: { placement },
  });

  it('takes a pin, a selector, or both', () => {
    const both = validateTenant(
      tenant({
        clusterName: 'prod-1',
        clusterSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
      }),
    );
    assert.ok(both.ok, JSON.stringify(both));
  });

  it('names the field of a bad pin or selector', () => {
    const result = validateTenant(
      tenant({
        clusterName: 'Prod.1',
        clusterSelector: { matchExpressions: [{ key: 'env', operator: 'In' }] },
      }),
    );
    assert.ok(!result.ok);
    const paths = result.issues.map((i) => i.path);
    assert.ok(paths.includes('spec.placement.clusterName'), paths.join());
    assert.ok(
      paths.some((p) => p.startsWith('spec.placement.clusterSelector.matchExpressions[0]')),
      paths.join(),
    );
  });
});
