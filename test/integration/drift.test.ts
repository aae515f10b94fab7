// Drift repair, hands off what people made, and the namespace-conflict rule, on the real control plane.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestCluster, uniqueName } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import { type OperatorProcess, metricValue } from '../operator/harness.ts';
import { type ObjectJson, applyTenant, condition, waitForReady, waitForTenant } from '../operator/tenants.ts';

type ServiceJson = ObjectJson & { spec: { ports: Array<{ name: string; port: number }> } };

describe('drift repair and ownership', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess;
  let env: OperatorEnvironment;
  const name = uniqueName('drift');
  const ns = `tenant-${name}`;

  before(async () => {
    env = await startEnvironment('drift');
    ({ cluster, operator } = env);
    await applyTenant(cluster, name, { displayName: 'Drift' });
    await waitForReady(cluster, name);
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'tenant', name, '--timeout=120s', '--ignore-not-found']);
    await env?.close();
  });

  async function uidOf(args: string[]): Promise<string | undefined> {
    return (await cluster.getJson<ObjectJson>(args))?.metadata.uid;
  }

  async function waitForReplacement(args: string[], oldUid: string | undefined): Promise<string> {
    return waitFor(
      async () => {
        const uid = await uidOf(args);
        return uid && uid !== oldUid ? uid : notYet(uid ? 'still the old object' : 'absent');
      },
      { timeoutMs: 60_000, description: `${args.join(' ')} to be restored` },
    );
  }

  test('a person deletes the server Deployment: it is restored and reported', async () => {
    const args = ['deployment', `${name}-server`, '-n', ns];
    const before = await uidOf(args);
    const driftBefore = metricValue(await operator.metrics(), 'neurallog_operator_drift_corrections_total', {
      kind: 'Deployment',
    });
    await cluster.kubectlOk(['delete', ...args, '--wait=false']);
    await waitForReplacement(args, before);
    await waitForTenant(cluster, name, 'Running again', (t) => t.status?.phase === 'Running');
    const driftAfter = metricValue(await operator.metrics(), 'neurallog_operator_drift_corrections_total', {
      kind: 'Deployment',
    });
    assert.ok(driftAfter > driftBefore, `drift counter ${driftBefore} → ${driftAfter}`);
    const described = await waitFor(
      async () => {
        const { stdout } = await cluster.kubectlOk(['describe', 'tenant', name]);
        return /DriftCorrected.*Restored Server Deployment/.test(stdout) ? stdout : notYet();
      },
      { timeoutMs: 30_000, description: 'a DriftCorrected event' },
    );
    assert.match(described, /DriftCorrected/);
  });

  test('a person edits the Redis Service port: it is put back, with no stray port left', async () => {
    const args = ['service', `${name}-redis`, '-n', ns];
    await cluster.kubectlOk([
      'patch',
      ...args,
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/ports/0/port","value":6380}]',
    ]);
    const ports = await waitFor(
      async () => {
        const svc = await cluster.getJson<ServiceJson>(args);
        const list = svc?.spec.ports.map((p) => `${p.name}:${p.port}`) ?? [];
        return list.length === 1 && list[0] === 'redis:6379' ? list : notYet(list);
      },
      { timeoutMs: 60_000, description: 'the Redis Service port to be 6379 again' },
    );
    assert.deepEqual(ports, ['redis:6379']);
  });

  test('a person deletes a network policy: it is restored', async () => {
    const args = ['networkpolicy', 'default-deny', '-n', ns];
    const before = await uidOf(args);
    await cluster.kubectlOk(['delete', ...args]);
    await waitForReplacement(args, before);
  });

  test('objects a person made in the tenant namespace are left alone', async () => {
    await cluster.apply(
      [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'hand-made', namespace: ns },
          data: { keep: 'me' },
        },
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'hand-made-policy', namespace: ns, labels: { 'neurallog.io/tenant': name } },
          spec: { podSelector: {}, policyTypes: ['Ingress'] },
        },
      ],
      ns,
    );
    const generation = (await cluster.getJson<{ metadata: { generation: number } }>(['tenant', name]))
      ?.metadata.generation;
    // A spec change makes the operator reconcile and prune; the hand-made objects must survive it.
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"networkPolicy":{"allowWebEgress":false}}}',
    ]);
    await waitForTenant(
      cluster,
      name,
      'the new generation observed',
      (t) => t.metadata.generation !== generation && t.status?.phase === 'Running',
    );
    await waitFor(
      async () =>
        (await cluster.getJson(['networkpolicy', 'allow-web-egress', '-n', ns])) ? notYet() : true,
      {
        timeoutMs: 60_000,
        description: 'allow-web-egress to be pruned',
      },
    );
    const cm = await cluster.getJson<ObjectJson>(['configmap', 'hand-made', '-n', ns]);
    assert.equal(cm?.data?.keep, 'me');
    assert.ok(
      await cluster.getJson(['networkpolicy', 'hand-made-policy', '-n', ns]),
      'a policy without the managed-by label is not ours',
    );
  });

  test('a Redis storage change keeps the existing claims and says so', async () => {
    const pvc = ['pvc', `redis-data-${name}-redis-0`, '-n', ns];
    const before = await cluster.getJson<
      ObjectJson & { spec: { resources: { requests: { storage: string } } } }
    >(pvc);
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"redis":{"storage":"2Gi"}}}',
    ]);
    const t = await waitForTenant(
      cluster,
      name,
      'StorageChangeNotApplied',
      (x) => condition(x, 'RedisReady')?.reason === 'StorageChangeNotApplied',
    );
    assert.match(condition(t, 'RedisReady')?.message ?? '', /2Gi.*1Gi/);
    assert.equal(t.status?.phase, 'Running', 'Redis keeps running on its data');
    const after = await cluster.getJson<
      ObjectJson & { spec: { resources: { requests: { storage: string } } } }
    >(pvc);
    assert.equal(after?.metadata.uid, before?.metadata.uid, 'the claim was not replaced');
    assert.equal(after?.spec.resources.requests.storage, '1Gi');
    const sts = await cluster.getJson<{
      spec: { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> };
    }>(['statefulset', `${name}-redis`, '-n', ns]);
    assert.equal(sts?.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage, '1Gi');
    await waitFor(
      async () => {
        const { stdout } = await cluster.kubectlOk(['describe', 'tenant', name]);
        return /Warning\s+StorageChangeNotApplied/.test(stdout) || notYet(stdout.slice(-600));
      },
      { timeoutMs: 30_000, description: 'the StorageChangeNotApplied Warning in kubectl describe' },
    );
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"redis":{"storage":"1Gi"}}}',
    ]);
    await waitForTenant(
      cluster,
      name,
      'RedisReady again',
      (x) => condition(x, 'RedisReady')?.reason === 'RedisRunning',
    );
  });

  test('a tenant whose own server and Redis exceed its quota is Failed with QuotaTooSmall', async () => {
    const small = uniqueName('quota');
    await applyTenant(cluster, small, { resources: { cpu: { limits: '500m' } } });
    const t = await waitForTenant(
      cluster,
      small,
      'QuotaTooSmall',
      (x) => condition(x, 'Ready')?.reason === 'QuotaTooSmall',
    );
    assert.equal(t.status?.phase, 'Failed');
    assert.match(condition(t, 'Ready')?.message ?? '', /limits\.cpu needs .* but the quota allows 500m/);
    await cluster.kubectlOk([
      'patch',
      'tenant',
      small,
      '--type=merge',
      '-p',
      '{"spec":{"resources":{"cpu":{"limits":"4"}}}}',
    ]);
    await waitForReady(cluster, small);
    const deleted = await cluster.kubectl(['delete', 'tenant', small, '--timeout=120s']);
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  test('a namespace that exists and is not the tenant’s is never modified or deleted', async () => {
    const other = uniqueName('conflict');
    const otherNs = `tenant-${other}`;
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: otherNs, labels: { owner: 'someone-else' } },
    });
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'precious', namespace: otherNs },
      data: { a: 'b' },
    });
    const before = await cluster.getJson<ObjectJson & { metadata: { resourceVersion: string } }>([
      'namespace',
      otherNs,
    ]);
    await applyTenant(cluster, other, {});
    const t = await waitForTenant(
      cluster,
      other,
      'Failed with NamespaceConflict',
      (x) => x.status?.phase === 'Failed',
    );
    assert.equal(condition(t, 'Ready')?.reason, 'NamespaceConflict');
    assert.equal(condition(t, 'NamespaceReady')?.reason, 'NamespaceConflict');
    const warned = await waitFor(
      async () => {
        const { stdout } = await cluster.kubectlOk(['describe', 'tenant', other]);
        return /Warning\s+NamespaceConflict/.test(stdout) ? stdout : notYet();
      },
      { timeoutMs: 30_000, description: 'a NamespaceConflict warning event' },
    );
    assert.ok(warned);
    const deleted = await cluster.kubectl(['delete', 'tenant', other, '--timeout=120s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const afterDelete = await cluster.getJson<ObjectJson & { metadata: { resourceVersion: string } }>([
      'namespace',
      otherNs,
    ]);
    assert.equal(
      afterDelete?.metadata.resourceVersion,
      before?.metadata.resourceVersion,
      'namespace untouched',
    );
    assert.ok(await cluster.getJson(['configmap', 'precious', '-n', otherNs]));
    const objects = await cluster.kubectlOk([
      'get',
      'all,networkpolicy,resourcequota',
      '-n',
      otherNs,
      '-o',
      'name',
    ]);
    assert.equal(objects.stdout.trim(), '', 'nothing was created in it');
    await cluster.deleteNamespace(otherNs);
  });
});
