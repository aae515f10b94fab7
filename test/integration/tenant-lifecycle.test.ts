// The user-guide walkthrough against the real control plane and the real operator process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, uniqueName } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import {
  type ObjectJson,
  applyTenant,
  condition,
  listKind,
  waitForGone,
  waitForReady,
  waitForTenant,
} from '../operator/tenants.ts';

const customized = {
  displayName: 'My Tenant',
  description: 'My customized NeuralLog tenant',
  server: {
    replicas: 2,
    image: 'neurallog/server:latest',
    resources: { cpu: { request: '200m', limit: '500m' }, memory: { request: '256Mi', limit: '512Mi' } },
    env: [{ name: 'LOG_LEVEL', value: 'debug' }],
  },
  redis: {
    replicas: 1,
    image: 'redis:7-alpine',
    resources: { cpu: { request: '100m', limit: '300m' }, memory: { request: '128Mi', limit: '256Mi' } },
    storage: '5Gi',
    config: { 'maxmemory-policy': 'allkeys-lru' },
  },
  networkPolicy: { enabled: true, allowedNamespaces: ['default', 'monitoring'] },
};

type Container = {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  resources?: { limits?: Record<string, string> };
};
type DeploymentJson = ObjectJson & {
  spec: { replicas: number; template: { spec: { containers: Container[] } } };
  status?: { readyReplicas?: number; updatedReplicas?: number; replicas?: number };
};

describe('tenant lifecycle (user guide walkthrough)', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let peer: AuthPeer;
  let env: OperatorEnvironment;
  const name = uniqueName('my-tenant');
  const ns = `tenant-${name}`;

  before(async () => {
    env = await startEnvironment('lifecycle');
    ({ cluster, peer } = env);
  });

  after(async () => {
    await env?.close();
  });

  test('a basic tenant becomes Running with 1/1 server and Redis, registered with Auth', async () => {
    await applyTenant(cluster, name, { displayName: 'My Tenant', description: 'My first NeuralLog tenant' });
    const t = await waitForReady(cluster, name);
    assert.equal(t.status?.namespace, ns);
    assert.deepEqual(
      [
        t.status?.serverStatus?.readyReplicas,
        t.status?.serverStatus?.totalReplicas,
        t.status?.serverStatus?.message,
      ],
      [1, 1, 'Server is running'],
    );
    assert.deepEqual(
      [t.status?.redisStatus?.readyReplicas, t.status?.redisStatus?.message],
      [1, 'Redis is running'],
    );
    assert.deepEqual(t.status?.endpoints, {
      server: `http://${name}-server.${ns}.svc:3030`,
      redis: `redis://${name}-redis.${ns}.svc:6379`,
    });
    assert.equal(condition(t, 'AuthRegistered')?.reason, 'Registered');
    assert.ok(t.metadata.finalizers?.includes('neurallog.io/finalizer'));
    const posts = peer.calls().filter((c) => c.method === 'POST');
    assert.deepEqual(
      posts.map((c) => c.body),
      [{ tenantId: name, adminUserId: 'system' }],
    );
  });

  test('every object of SPEC §2 exists with its name, labels and owner reference', async () => {
    const t = await cluster.getJson<{ metadata: { uid: string } }>(['tenant', name]);
    const expected: Array<[string, string, string]> = [
      ['resourcequota', 'tenant-quota', 'quota'],
      ['limitrange', 'tenant-limits', 'limits'],
      ['serviceaccount', 'tenant-service-account', 'rbac'],
      ['role', 'tenant-role', 'rbac'],
      ['rolebinding', 'tenant-role-binding', 'rbac'],
      ['secret', `${name}-redis-auth`, 'redis'],
      ['configmap', `${name}-redis-config`, 'redis'],
      ['service', `${name}-redis`, 'redis'],
      ['statefulset', `${name}-redis`, 'redis'],
      ['service', `${name}-server`, 'server'],
      ['deployment', `${name}-server`, 'server'],
      ['networkpolicy', 'default-deny', 'network-policy'],
      ['networkpolicy', 'allow-same-namespace', 'network-policy'],
      ['networkpolicy', 'allow-system-ingress', 'network-policy'],
      ['networkpolicy', 'allow-dns-egress', 'network-policy'],
      ['networkpolicy', 'allow-system-egress', 'network-policy'],
      ['networkpolicy', 'allow-web-egress', 'network-policy'],
    ];
    const check = (obj: ObjectJson | undefined, component: string, what: string) => {
      assert.ok(obj, `${what} missing`);
      const labels = obj.metadata.labels ?? {};
      assert.equal(labels['app.kubernetes.io/managed-by'], 'tenant-operator', what);
      assert.equal(labels['app.kubernetes.io/part-of'], 'neurallog', what);
      assert.equal(labels['app.kubernetes.io/instance'], name, what);
      assert.equal(labels['app.kubernetes.io/component'], component, what);
      assert.equal(labels['neurallog.io/tenant'], name, what);
      assert.equal(labels['neurallog.io/tenant-id'], name, what);
      const owner = obj.metadata.ownerReferences?.find((o) => o.controller);
      assert.deepEqual(
        [owner?.kind, owner?.name, owner?.uid],
        ['Tenant', name, t?.metadata.uid],
        `${what} owner`,
      );
    };
    check(await cluster.getJson<ObjectJson>(['namespace', ns]), 'namespace', 'namespace');
    for (const [kind, objectName, component] of expected) {
      check(
        await cluster.getJson<ObjectJson>([kind, objectName, '-n', ns]),
        component,
        `${kind}/${objectName}`,
      );
    }
    assert.equal((await listKind(cluster, 'poddisruptionbudget', ns)).length, 0, 'no PDB at 1 replica');
    const pvcs = await cluster.getJson<{ items: Array<{ status: { phase: string } }> }>(['pvc', '-n', ns]);
    assert.deepEqual(
      pvcs?.items.map((p) => p.status.phase),
      ['Bound'],
    );
  });

  test('the customized tenant: 2 server replicas, LOG_LEVEL=debug, Redis config applied, a PDB', async () => {
    await applyTenant(cluster, name, customized);
    const t = await waitForTenant(
      cluster,
      name,
      'Running 2/2',
      (x) => x.status?.phase === 'Running' && x.status?.serverStatus?.readyReplicas === 2,
    );
    assert.equal(t.status?.serverStatus?.totalReplicas, 2);
    const deployment = await cluster.getJson<DeploymentJson>(['deployment', `${name}-server`, '-n', ns]);
    const env = deployment?.spec.template.spec.containers[0]?.env ?? [];
    assert.equal(env.filter((e) => e.name === 'LOG_LEVEL').length, 1);
    assert.equal(env.find((e) => e.name === 'LOG_LEVEL')?.value, 'debug');
    const config = await cluster.getJson<ObjectJson>(['configmap', `${name}-redis-config`, '-n', ns]);
    assert.match(config?.data?.['redis.conf'] ?? '', /^maxmemory-policy allkeys-lru$/m);
    assert.match(config?.data?.['redis.conf'] ?? '', /^maxmemory 214748364$/m);
    assert.ok(await cluster.getJson(['pdb', `${name}-server`, '-n', ns]), 'PDB exists at 2 replicas');
    assert.ok(await cluster.getJson(['networkpolicy', 'allow-api-access', '-n', ns]));
  });

  test('scaling 2 → 3 reaches Running 3/3', async () => {
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"server":{"replicas":3}}}',
    ]);
    const t = await waitForTenant(
      cluster,
      name,
      'Running 3/3',
      (x) => x.status?.phase === 'Running' && x.status?.serverStatus?.readyReplicas === 3,
    );
    assert.equal(t.status?.serverStatus?.totalReplicas, 3);
  });

  test('changing resources and env rolls the server out', async () => {
    const spec = structuredClone(customized) as typeof customized;
    spec.server.replicas = 3;
    spec.server.resources.cpu.limit = '700m';
    spec.server.env = [
      { name: 'LOG_LEVEL', value: 'warn' },
      { name: 'EXTRA', value: 'enabled' },
    ];
    await applyTenant(cluster, name, spec);
    await waitForTenant(cluster, name, 'Running after rollout', (x) => x.status?.phase === 'Running');
    const rolled = await waitFor(
      async () => {
        const pods = await cluster.getJson<{
          items: Array<{ metadata: { deletionTimestamp?: string }; spec: { containers: Container[] } }>;
        }>(['pods', '-n', ns, '-l', 'app.kubernetes.io/component=server']);
        const live = (pods?.items ?? []).filter((p) => !p.metadata.deletionTimestamp);
        const updated = live.filter((p) => {
          const c = p.spec.containers[0];
          return (
            c?.env?.some((e) => e.name === 'EXTRA' && e.value === 'enabled') &&
            c.resources?.limits?.cpu === '700m'
          );
        });
        return live.length === 3 && updated.length === 3
          ? live.length
          : notYet(`${updated.length}/${live.length} pods updated`);
      },
      { timeoutMs: 120_000, description: 'every server pod to run the new env and resources' },
    );
    assert.equal(rolled, 3);
  });

  test('custom ingress rules become policies, and removing one removes its policy', async () => {
    const rules = [
      { description: 'metrics', from: { app: 'prometheus' }, ports: [{ port: 9090 }] },
      { description: 'debug', from: { app: 'debugger' }, ports: [{ protocol: 'UDP', port: 'dbg' }] },
    ];
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { networkPolicy: { ingressRules: rules } } }),
    ]);
    await waitFor(
      async () => (await cluster.getJson(['networkpolicy', 'custom-ingress-1', '-n', ns])) ?? notYet(),
      {
        timeoutMs: 60_000,
        description: 'custom-ingress-1',
      },
    );
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { networkPolicy: { ingressRules: [rules[0]] } } }),
    ]);
    await waitForGone(cluster, ['networkpolicy', 'custom-ingress-1', '-n', ns]);
    assert.ok(await cluster.getJson(['networkpolicy', 'custom-ingress-0', '-n', ns]));
  });

  test('disabling the network policy removes every policy the operator made', async () => {
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"networkPolicy":{"enabled":false}}}',
    ]);
    await waitFor(
      async () => {
        const left = await listKind(cluster, 'networkpolicy', ns);
        return left.length === 0 ? true : notYet(left.map((p) => p.metadata.name));
      },
      { timeoutMs: 60_000, description: 'every network policy to be removed' },
    );
    const t = await waitForTenant(
      cluster,
      name,
      'NetworkPolicyReady Disabled',
      (x) => condition(x, 'NetworkPolicyReady')?.reason === 'Disabled',
    );
    assert.equal(t.status?.phase, 'Running');
  });

  test('kubectl describe tenant shows the Created events and "Tenant is running"', async () => {
    const described = await waitFor(
      async () => {
        const { stdout } = await cluster.kubectlOk(['describe', 'tenant', name]);
        return /Tenant is running/.test(stdout) ? stdout : notYet(stdout.slice(-500));
      },
      { timeoutMs: 30_000, description: 'events in kubectl describe' },
    );
    for (const message of [
      `Created namespace ${ns}`,
      'Created Redis ConfigMap',
      'Created Redis Service',
      'Created Redis StatefulSet',
      'Created Server Service',
      'Created Server Deployment',
    ]) {
      assert.match(described, new RegExp(message), message);
    }
    assert.match(described, /tenant-controller/);
  });

  test('kubectl delete tenant returns once the namespace is gone, and Auth is told once', async () => {
    const result = await cluster.kubectl(['delete', 'tenant', name, '--timeout=180s']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await cluster.getJson(['namespace', ns]), undefined, 'namespace gone when delete returned');
    assert.equal(await cluster.getJson(['tenant', name]), undefined);
    const deletes = peer.calls().filter((c) => c.method === 'DELETE');
    assert.deepEqual(
      deletes.map((c) => c.path),
      [`/api/tenants/${name}`],
    );
  });
});
