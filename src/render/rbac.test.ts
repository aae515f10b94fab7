import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedTenant } from './fixtures.test-util.ts';
import { renderRbac } from './rbac.ts';

const UID = '3f1c2b9e-0000-4000-8000-000000000004';

const LABELS = {
  'app.kubernetes.io/managed-by': 'tenant-operator',
  'app.kubernetes.io/part-of': 'neurallog',
  'app.kubernetes.io/instance': 'acme',
  'app.kubernetes.io/component': 'rbac',
  'neurallog.io/tenant': 'acme',
  'neurallog.io/tenant-id': 'acme',
};

describe('renderRbac', () => {
  it('renders ServiceAccount, Role and RoleBinding, in that order, in the tenant namespace', () => {
    const objs = renderRbac(resolvedTenant());
    assert.deepEqual(
      objs.map((o) => [o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace]),
      [
        ['v1', 'ServiceAccount', 'tenant-service-account', 'tenant-acme'],
        ['rbac.authorization.k8s.io/v1', 'Role', 'tenant-role', 'tenant-acme'],
        ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'tenant-role-binding', 'tenant-acme'],
      ],
    );
  });

  it('labels every object with the tenant labels and component rbac', () => {
    for (const o of renderRbac(resolvedTenant())) assert.deepEqual(o.metadata.labels, LABELS);
  });

  it('gives every object an owner reference iff the Tenant uid is known', () => {
    for (const o of renderRbac(resolvedTenant())) assert.equal('ownerReferences' in o.metadata, false);
    for (const o of renderRbac(resolvedTenant({}, { uid: UID }))) {
      assert.deepEqual(o.metadata.ownerReferences, [
        {
          apiVersion: 'neurallog.io/v1',
          kind: 'Tenant',
          name: 'acme',
          uid: UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('does not mount a service account token automatically', () => {
    const [sa] = renderRbac(resolvedTenant());
    assert.equal(sa.automountServiceAccountToken, false);
  });

  it('grants read access to the tenant workloads and get/list on pod logs', () => {
    const [, role] = renderRbac(resolvedTenant());
    assert.deepEqual(role.rules, [
      {
        apiGroups: [''],
        resources: ['pods', 'services', 'configmaps', 'events'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get', 'list'] },
    ]);
  });

  it('never grants secrets, wildcards or write verbs', () => {
    const [, role] = renderRbac(resolvedTenant());
    for (const rule of role.rules) {
      assert.ok(!rule.resources.some((r) => r === '*' || r.startsWith('secrets')), JSON.stringify(rule));
      assert.ok(!rule.apiGroups.includes('*'));
      for (const verb of rule.verbs) assert.ok(['get', 'list', 'watch'].includes(verb), verb);
    }
    assert.ok(!JSON.stringify(role).includes('secret'));
  });

  it('binds the Role to the ServiceAccount', () => {
    const [, , binding] = renderRbac(resolvedTenant({ tenantId: 'globex' }, { name: 'x' }));
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'tenant-role',
    });
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'tenant-service-account', namespace: 'tenant-globex' },
    ]);
  });

  it('is deterministic', () => {
    assert.deepEqual(
      renderRbac(resolvedTenant({}, { uid: UID })),
      renderRbac(resolvedTenant({}, { uid: UID })),
    );
  });
});
