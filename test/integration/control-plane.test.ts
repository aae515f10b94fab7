// The local control plane behaves like a real cluster where the operator
// depends on it: workloads become ready on kwok nodes, claims bind, namespace
// deletion and garbage collection happen, Pod Security admission is enforced.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { useCluster, type TestCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';

const TIMEOUT_MS = 120_000;

interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  labels?: Record<string, string>;
  ownerReferences?: { uid: string }[];
}
interface WorkloadStatus {
  metadata: ObjectMeta;
  spec: { replicas?: number };
  status?: { readyReplicas?: number; availableReplicas?: number; replicas?: number };
}
interface Claim {
  metadata: ObjectMeta;
  spec: { storageClassName?: string; volumeName?: string };
  status?: { phase?: string };
}
interface List<T> {
  items: T[];
}

describe('local control plane', () => {
  let cluster: TestCluster;
  const namespaces: string[] = [];

  before(async () => {
    cluster = await useCluster();
  });

  after(async () => {
    // Whatever a failed test left behind.
    await Promise.all(namespaces.map((ns) => cluster?.deleteNamespace(ns).catch(() => undefined)));
  });

  async function namespace(prefix: string, labels?: Record<string, string>): Promise<string> {
    const ns = await cluster.createNamespace(prefix, labels);
    namespaces.push(ns);
    return ns;
  }

  async function cleanup(ns: string): Promise<void> {
    await cluster.deleteNamespace(ns);
    namespaces.splice(namespaces.indexOf(ns), 1);
  }

  test('kubectl talks to a real kube-apiserver of the pinned version', async () => {
    const { stdout } = await cluster.kubectlOk(['version', '-o', 'json']);
    const version = JSON.parse(stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    assert.match(version.serverVersion.gitVersion, /^v1\.\d+\.\d+$/);
    assert.equal(version.clientVersion.gitVersion, version.serverVersion.gitVersion);
    const nodes = await cluster.getJson<List<{ metadata: ObjectMeta }>>(['nodes', '-l', 'type=kwok']);
    assert.ok((nodes?.items.length ?? 0) >= 3, 'three kwok nodes');
  });

  test('a Deployment and a StatefulSet with a volume claim template become ready; claims bind', async () => {
    const ns = await namespace('workloads');
    const labels = { app: 'web' };
    const redisLabels = { app: 'redis' };
    await cluster.apply(
      [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', namespace: ns },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  { name: 'web', image: 'example.invalid/web:1', ports: [{ containerPort: 3030 }] },
                ],
              },
            },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'redis', namespace: ns },
          spec: { clusterIP: 'None', selector: redisLabels, ports: [{ name: 'redis', port: 6379 }] },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: 'redis', namespace: ns },
          spec: {
            replicas: 2,
            serviceName: 'redis',
            selector: { matchLabels: redisLabels },
            template: {
              metadata: { labels: redisLabels },
              spec: {
                containers: [
                  {
                    name: 'redis',
                    image: 'example.invalid/redis:7',
                    ports: [{ containerPort: 6379 }],
                    volumeMounts: [{ name: 'redis-data', mountPath: '/data' }],
                  },
                ],
              },
            },
            volumeClaimTemplates: [
              {
                metadata: { name: 'redis-data' },
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
              },
            ],
          },
        },
      ],
      ns,
    );

    for (const kind of ['deployment/web', 'statefulset/redis']) {
      await waitFor(
        async () => {
          const w = await cluster.getJson<WorkloadStatus>([kind, '-n', ns]);
          return (w?.status?.readyReplicas ?? 0) === 2 || notYet(w?.status);
        },
        { timeoutMs: TIMEOUT_MS, description: `${kind} to have 2 ready replicas` },
      );
    }

    const claims = await waitFor(
      async () => {
        const list = await cluster.getJson<List<Claim>>(['persistentvolumeclaims', '-n', ns]);
        const items = list?.items ?? [];
        return (
          (items.length === 2 && items.every((c) => c.status?.phase === 'Bound') && items) || notYet(items)
        );
      },
      { timeoutMs: TIMEOUT_MS, description: 'both redis-data claims to be Bound' },
    );
    assert.deepEqual(claims.map((c) => c.metadata.name).sort(), ['redis-data-redis-0', 'redis-data-redis-1']);
    for (const claim of claims) {
      assert.equal(claim.spec.storageClassName, 'kwok-volume', 'the default StorageClass was filled in');
      assert.ok(claim.spec.volumeName, 'claim names its volume');
      const pv = await cluster.getJson<{
        status?: { phase?: string };
        spec: { claimRef?: { uid?: string } };
      }>(['persistentvolume', claim.spec.volumeName]);
      assert.equal(pv?.spec.claimRef?.uid, claim.metadata.uid);
    }

    const pods = await cluster.getJson<List<{ status?: { phase?: string }; spec: { nodeName?: string } }>>([
      'pods',
      '-n',
      ns,
    ]);
    assert.equal(pods?.items.length, 4);
    for (const pod of pods?.items ?? []) {
      assert.equal(pod.status?.phase, 'Running');
      assert.match(pod.spec.nodeName ?? '', /^kwok-node-/);
    }

    // Deleting the namespace also releases and removes the volumes, so runs
    // never exhaust storage.
    const volumeNames = claims.map((c) => c.spec.volumeName ?? '');
    await cleanup(ns);
    await waitFor(
      async () => {
        const left = [];
        for (const name of volumeNames)
          if (await cluster.getJson(['persistentvolume', name])) left.push(name);
        return left.length === 0 || notYet(left);
      },
      { timeoutMs: TIMEOUT_MS, description: 'the claims’ volumes to be deleted' },
    );
  });

  test('deleting a namespace removes its contents and then the namespace', async () => {
    const ns = await namespace('ns-delete');
    await cluster.apply(
      [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token' }, stringData: { t: 'x' } },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'app' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'app' } },
            template: {
              metadata: { labels: { app: 'app' } },
              spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
            },
          },
        },
      ],
      ns,
    );
    await waitFor(
      async () => {
        const d = await cluster.getJson<WorkloadStatus>(['deployment/app', '-n', ns]);
        return (d?.status?.readyReplicas ?? 0) === 1 || notYet(d?.status);
      },
      { timeoutMs: TIMEOUT_MS, description: 'deployment/app ready' },
    );

    const deletion = await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
    assert.equal(deletion.code, 0, deletion.stderr);
    await waitFor(
      async () =>
        (await cluster.getJson(['namespace', ns])) === undefined || notYet('namespace still present'),
      { timeoutMs: TIMEOUT_MS, description: `namespace ${ns} to disappear` },
    );
    namespaces.splice(namespaces.indexOf(ns), 1);

    for (const kind of ['configmaps', 'secrets', 'deployments', 'replicasets', 'pods']) {
      const list = await cluster.getJson<List<unknown>>([kind, '-n', ns]);
      assert.equal(list?.items.length ?? 0, 0, `${kind} left in deleted namespace ${ns}`);
    }
  });

  test('the garbage collector deletes an object whose owner was deleted', async () => {
    const ns = await namespace('gc');
    await cluster.apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' }, data: { role: 'owner' } },
      ns,
    );
    const owner = await cluster.getJson<{ metadata: ObjectMeta }>(['configmap', 'owner', '-n', ns]);
    assert.ok(owner);
    await cluster.apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
        },
        data: { role: 'dependent' },
      },
      ns,
    );
    // An object without owner references stays.
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bystander' } }, ns);

    await cluster.kubectlOk(['delete', 'configmap', 'owner', '-n', ns, '--cascade=background']);
    await waitFor(
      async () =>
        (await cluster.getJson(['configmap', 'dependent', '-n', ns])) === undefined ||
        notYet('dependent still exists'),
      { timeoutMs: TIMEOUT_MS, description: 'the dependent ConfigMap to be garbage-collected' },
    );
    assert.ok(await cluster.getJson(['configmap', 'bystander', '-n', ns]), 'unowned ConfigMap is kept');
    await cleanup(ns);
  });

  test('Pod Security admission enforces the restricted profile', async () => {
    const ns = await namespace('pss', {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });

    const violating = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged' },
      spec: {
        containers: [{ name: 'c', image: 'example.invalid/c:1', securityContext: { privileged: true } }],
      },
    };
    const refused = await cluster.kubectl(['create', '-n', ns, '-f', '-'], {
      input: JSON.stringify(violating),
    });
    assert.notEqual(refused.code, 0, 'privileged pod must be refused');
    assert.match(refused.stderr, /violates PodSecurity "restricted:latest"/);
    assert.equal(await cluster.getJson(['pod', 'privileged', '-n', ns]), undefined);

    const compliant = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'restricted' },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'c',
            image: 'example.invalid/c:1',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    };
    const accepted = await cluster.kubectl(['create', '-n', ns, '-f', '-'], {
      input: JSON.stringify(compliant),
    });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.doesNotMatch(accepted.stderr, /Warning: would violate/);
    await waitFor(
      async () => {
        const pod = await cluster.getJson<{ status?: { phase?: string } }>(['pod', 'restricted', '-n', ns]);
        return pod?.status?.phase === 'Running' || notYet(pod?.status);
      },
      { timeoutMs: TIMEOUT_MS, description: 'the compliant pod to run on a kwok node' },
    );
    await cleanup(ns);
  });
});
