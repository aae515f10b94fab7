// The operator as installed — config/rbac, a token of its ServiceAccount — repairs every kind it
// makes, never touches look-alikes, and repairs with server-side apply only, on the real API server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestCluster, uniqueName } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import {
  type ObjectJson,
  applyTenant,
  condition,
  waitForGone,
  waitForReady,
  waitForTenant,
} from '../operator/tenants.ts';

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  subresource?: string;
}

interface PodTemplateJson {
  metadata: { annotations?: Record<string, string> };
  spec: {
    nodeSelector?: Record<string, string>;
    containers: Array<{ name: string; image: string; env?: Array<{ name: string }> }>;
  };
}

type WorkloadJson = ObjectJson & {
  metadata: ObjectJson['metadata'] & { managedFields?: ManagedFieldsEntry[] };
  spec: { template: PodTemplateJson };
};

/** RBAC refusals in the operator's log (`... is forbidden: User "system:serviceaccount:..." cannot patch ...`). */
function refusals(log: string): string[] {
  return log.split('\n').filter((line) => /: 403 Forbidden|cannot [a-z]+ resource/.test(line));
}

describe('safe as installed', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let env: OperatorEnvironment;

  before(async () => {
    env = await startEnvironment('safe');
    ({ cluster } = env);
  });

  after(async () => {
    await env?.close();
  });

  test('every child kind, deleted or edited by hand, is restored under the shipped ServiceAccount, with no 403', async () => {
    const name = uniqueName('restore');
    const ns = `tenant-${name}`;
    await applyTenant(cluster, name, { server: { replicas: 2 } });
    await waitForReady(cluster, name, 180_000);
    const get = <T = ObjectJson>(args: string[]) => cluster.getJson<T>([...args, '-n', ns]);
    const restored = (description: string, check: () => Promise<boolean>) =>
      waitFor(async () => (await check()) || notYet(), { timeoutMs: 90_000, description });

    // Edits.
    await cluster.kubectlOk(['set', 'image', `statefulset/${name}-redis`, 'redis=redis:6-alpine', '-n', ns]);
    await restored('the Redis image put back', async () => {
      const sts = await get<WorkloadJson>(['statefulset', `${name}-redis`]);
      return sts?.spec.template.spec.containers[0]?.image === 'redis:7-alpine';
    });
    await cluster.kubectlOk([
      'patch',
      'resourcequota',
      'tenant-quota',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"hard":{"pods":"99"}}}',
    ]);
    await restored('the quota put back', async () => {
      const q = await get<{ spec: { hard: Record<string, string> } }>(['resourcequota', 'tenant-quota']);
      return q?.spec.hard.pods === '10';
    });
    await cluster.kubectlOk([
      'patch',
      'role',
      'tenant-role',
      '-n',
      ns,
      '--type=json',
      '-p',
      '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["secrets"],"verbs":["get","list"]}}]',
    ]);
    await restored('the Role narrowed again (no secrets)', async () => {
      const role = await get<{ rules: Array<{ resources: string[] }> }>(['role', 'tenant-role']);
      return role !== undefined && !role.rules.some((r) => r.resources.includes('secrets'));
    });
    await cluster.kubectlOk(['set', 'env', `deployment/${name}-server`, 'ADDED_BY_HAND=1', '-n', ns]);
    await restored('the added env var removed', async () => {
      const d = await get<WorkloadJson>(['deployment', `${name}-server`]);
      return (
        d !== undefined &&
        !(d.spec.template.spec.containers[0]?.env ?? []).some((e) => e.name === 'ADDED_BY_HAND')
      );
    });

    // Deletions, one kind after the other.
    const kinds = [
      ['networkpolicy', 'default-deny'],
      ['resourcequota', 'tenant-quota'],
      ['limitrange', 'tenant-limits'],
      ['serviceaccount', 'tenant-service-account'],
      ['role', 'tenant-role'],
      ['rolebinding', 'tenant-role-binding'],
      ['secret', `${name}-redis-auth`],
      ['configmap', `${name}-redis-config`],
      ['service', `${name}-redis`],
      ['statefulset', `${name}-redis`],
      ['service', `${name}-server`],
      ['deployment', `${name}-server`],
      ['poddisruptionbudget', `${name}-server`],
    ];
    for (const [kind, object] of kinds) {
      const before = (await get([kind!, object!]))?.metadata.uid;
      assert.ok(before, `${kind} ${object} exists`);
      await cluster.kubectlOk(['delete', kind!, object!, '-n', ns, '--wait=false']);
      await restored(`${kind} ${object} made again`, async () => {
        const uid = (await get([kind!, object!]))?.metadata.uid;
        return uid !== undefined && uid !== before;
      });
    }
    await waitForReady(cluster, name, 180_000);
    assert.deepEqual(refusals(await env.operator.logs()), [], 'no request of the operator was refused');
    await cluster.kubectlOk(['delete', 'tenant', name, '--timeout=180s']);
  });

  test('look-alikes — our labels in another namespace, or in the tenant namespace without our owner reference — survive reconciles and the deletion', async () => {
    const name = uniqueName('lookalike');
    const ns = `tenant-${name}`;
    await applyTenant(cluster, name, {});
    await waitForReady(cluster, name);
    const labels = { 'app.kubernetes.io/managed-by': 'tenant-operator', 'neurallog.io/tenant': name };
    const teamA = await cluster.createNamespace('team-a');
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'for-review', namespace: teamA, labels },
      data: { a: 'b' },
    });
    await cluster.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'made-by-hand', namespace: ns, labels },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    const before = await cluster.getJson<ObjectJson & { metadata: { resourceVersion: string } }>([
      'configmap',
      'for-review',
      '-n',
      teamA,
    ]);
    // A spec change: the operator reconciles and prunes (allow-web-egress goes).
    const generation = (await cluster.getJson<{ metadata: { generation: number } }>(['tenant', name]))
      ?.metadata.generation;
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"networkPolicy":{"allowWebEgress":false}}}',
    ]);
    await waitForTenant(cluster, name, 'the change observed', (t) => t.metadata.generation !== generation);
    await waitForGone(cluster, ['networkpolicy', 'allow-web-egress', '-n', ns]);
    assert.ok(
      await cluster.getJson(['networkpolicy', 'made-by-hand', '-n', ns]),
      'no owner reference: not ours',
    );

    await cluster.kubectlOk(['delete', 'tenant', name, '--timeout=180s']);
    await waitForGone(cluster, ['namespace', ns], 180_000);
    const afterDeletion = await cluster.getJson<ObjectJson & { metadata: { resourceVersion: string } }>([
      'configmap',
      'for-review',
      '-n',
      teamA,
    ]);
    assert.equal(afterDeletion?.metadata.resourceVersion, before?.metadata.resourceVersion, 'untouched');
    await cluster.deleteNamespace(teamA);
  });

  test('after a repair, keys removed from podAnnotations and nodeSelector leave the pod template; one managedFields entry is ours', async () => {
    const name = uniqueName('prune');
    const ns = `tenant-${name}`;
    await applyTenant(cluster, name, {
      server: {
        podAnnotations: { team: 'a', keep: 'kept' },
        nodeSelector: { type: 'kwok', 'kubernetes.io/os': 'linux' },
      },
    });
    await waitForReady(cluster, name);
    const deployment = () =>
      cluster.getJson<WorkloadJson>(['deployment', `${name}-server`, '-n', ns, '--show-managed-fields']);
    await cluster.kubectlOk(['set', 'env', `deployment/${name}-server`, 'ADDED_BY_HAND=1', '-n', ns]);
    await waitFor(
      async () => {
        const d = await deployment();
        return (
          (d && !(d.spec.template.spec.containers[0]?.env ?? []).some((e) => e.name === 'ADDED_BY_HAND')) ||
          notYet()
        );
      },
      { timeoutMs: 60_000, description: 'the env var added by hand removed' },
    );
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"server":{"podAnnotations":{"team":null},"nodeSelector":{"kubernetes.io/os":null}}}}',
    ]);
    const pruned = await waitFor(
      async () => {
        const d = await deployment();
        const t = d?.spec.template;
        return t &&
          t.metadata.annotations?.team === undefined &&
          t.spec.nodeSelector?.['kubernetes.io/os'] === undefined
          ? d
          : notYet(t);
      },
      { timeoutMs: 60_000, description: 'the removed keys gone from the pod template' },
    );
    assert.equal(pruned.spec.template.metadata.annotations?.keep, 'kept');
    assert.deepEqual(pruned.spec.template.spec.nodeSelector, { type: 'kwok' });
    const ours = (pruned.metadata.managedFields ?? []).filter((m) => m.manager === 'tenant-operator');
    assert.deepEqual(
      ours.map((m) => m.operation),
      ['Apply'],
      'exactly one managedFields entry of the operator',
    );
    await waitForReady(cluster, name);
    await cluster.kubectlOk(['delete', 'tenant', name, '--timeout=180s']);
  });

  test('pods no node can take: the status and a Warning name the scheduler’s reason', async () => {
    const name = uniqueName('unschedulable');
    await applyTenant(cluster, name, { server: { nodeSelector: { zone: 'nowhere' } } });
    const t = await waitForTenant(
      cluster,
      name,
      'ServerReady says why',
      (x) => condition(x, 'ServerReady')?.reason === 'PodUnschedulable',
      180_000,
    );
    assert.match(
      t.status?.serverStatus?.message ?? '',
      /cannot be scheduled: 0\/3 nodes are available: .*node affinity\/selector/,
    );
    assert.equal(condition(t, 'Ready')?.status, 'False');
    await waitFor(
      async () => {
        const { stdout } = await cluster.kubectlOk(['describe', 'tenant', name]);
        return (
          /Warning\s+PodUnschedulable\s.*0\/3 nodes are available/.test(stdout) || notYet(stdout.slice(-800))
        );
      },
      { timeoutMs: 30_000, description: 'a PodUnschedulable Warning in kubectl describe' },
    );
    // Fixed: the pods start, and the tenant runs.
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"server":{"nodeSelector":null}}}',
    ]);
    await waitForReady(cluster, name, 180_000);
    await cluster.kubectlOk(['delete', 'tenant', name, '--timeout=180s']);
  });
});
