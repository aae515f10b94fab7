// What a tenant's data and isolation rest on, checked on the real control plane with the operator
// as installed: the tenant namespace enforces the restricted Pod Security profile (the operator's
// pods are admitted, a privileged one is refused), and the Redis password is nowhere but in its
// Secret — not in the operator's log, not in an Event, not in the status, not in a pod spec or
// command line, and not in the operator's heap.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { type OperatorProcess, startOperator } from '../operator/harness.ts';
import { applyTenant, installCrd, waitForReady } from '../operator/tenants.ts';

describe('security as installed', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let peer: AuthPeer;
  let operator: OperatorProcess;
  let snapshots: string;
  const name = uniqueName('secure');
  const ns = `tenant-${name}`;

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
    peer = await startAuthPeer({});
    snapshots = await mkdtemp(join(tmpdir(), 'operator-heap-'));
    operator = await startOperator({
      cluster,
      authUrl: peer.url,
      name: 'security',
      heapSnapshotDir: snapshots,
    });
    await applyTenant(cluster, name, { server: { replicas: 2 }, redis: { replicas: 2 } });
    await waitForReady(cluster, name, 180_000);
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'tenant', name, '--ignore-not-found', '--timeout=180s']);
    await operator?.stop();
    await peer?.close();
    if (snapshots) await rm(snapshots, { recursive: true, force: true });
  });

  test('the tenant namespace enforces the restricted profile: its pods run, a privileged pod is refused', async () => {
    const namespace = await cluster.getJson<{ metadata: { labels: Record<string, string> } }>([
      'namespace',
      ns,
    ]);
    assert.equal(namespace?.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    const pods = await cluster.getJson<{ items: unknown[] }>(['pods', '-n', ns]);
    assert.equal(pods?.items.length, 4, 'two server and two Redis pods were admitted');
    const refused = await cluster.kubectl(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'privileged' },
        spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
      }),
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /violates PodSecurity "restricted/);
  });

  test('the Redis password is in its Secret and nowhere else: logs, Events, status, pod specs, the heap', async () => {
    const secret = await cluster.getJson<{ data: Record<string, string> }>([
      'secret',
      `${name}-redis-auth`,
      '-n',
      ns,
    ]);
    const password = Buffer.from(secret?.data.password ?? '', 'base64').toString('utf8');
    assert.ok(password.length >= 32, 'a real password');
    const places: Record<string, string> = {
      'the operator log': await operator.logs(),
      'the Events': (await cluster.kubectlOk(['get', 'events', '-A', '-o', 'json'])).stdout,
      'the Tenant (status included)': (await cluster.kubectlOk(['get', 'tenant', name, '-o', 'json'])).stdout,
      'the pods and workloads (specs, commands, env)': (
        await cluster.kubectlOk(['get', 'pods,statefulsets,deployments,configmaps', '-n', ns, '-o', 'json'])
      ).stdout,
    };
    for (const [where, text] of Object.entries(places))
      assert.ok(!text.includes(password), `the password is in ${where}`);
    // The heap: Secrets are cached as metadata only, and the password of a Secret made earlier is
    // not kept anywhere once its create request is done.
    const snapshot = await operator.heapSnapshot();
    const heap = await readFile(snapshot);
    assert.equal(heap.indexOf(password), -1, `the password is in the operator's heap (${snapshot})`);
    assert.equal(heap.indexOf(Buffer.from(password).toString('base64')), -1, 'nor its base64');
  });
});
