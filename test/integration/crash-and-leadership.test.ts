// Faults of the operator process itself: SIGKILL half-way through, and leader election between two.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, metricValue, startOperator } from '../operator/harness.ts';
import { OPERATOR_NAMESPACE } from '../operator/service-account.ts';
import {
  type ObjectJson,
  applyTenant,
  installCrd,
  tenantManifest,
  waitForGone,
  waitForRunning,
} from '../operator/tenants.ts';

const MANAGED = 'app.kubernetes.io/managed-by=tenant-operator';

describe('operator faults', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let peer: AuthPeer;
  const operators: OperatorProcess[] = [];

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
    peer = await startAuthPeer({});
  });

  // Every test starts its own processes; none may outlive it (a leftover leader would reconcile
  // the next test's tenants).
  afterEach(async () => {
    await Promise.all(operators.splice(0).map((o) => o.kill()));
  });

  after(async () => {
    await peer?.close();
  });

  async function start(name: string, args: string[] = []): Promise<OperatorProcess> {
    const op = await startOperator({ cluster, authUrl: peer.url, name, args });
    operators.push(op);
    return op;
  }

  test('SIGKILL half-way through creating 20 tenants, then a restart: all 20 Running, no duplicates or orphans', async () => {
    const prefix = uniqueName('crash');
    const names = Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`);
    const first = await start('crash-1');
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: names.map((n) => tenantManifest(n, {})).join('---\n'),
    });
    // Kill while it is busy: some namespaces exist, not all tenants are done.
    await waitFor(
      async () => {
        const created = metricValue(await first.metrics(), 'neurallog_operator_tenants_created_total');
        return created >= 5 ? created : notYet(created);
      },
      { timeoutMs: 120_000, intervalMs: 50, description: 'the operator to be part-way through' },
    );
    assert.equal(await first.kill(), 'SIGKILL');
    const second = await start('crash-2');
    for (const n of names) await waitForRunning(cluster, n, 180_000);

    for (const n of names) {
      const ns = `tenant-${n}`;
      const owned = await cluster.getJson<{ items: ObjectJson[] }>([
        'all,cm,secret,netpol,quota,limitrange,sa,role,rolebinding',
        '-n',
        ns,
        '-l',
        MANAGED,
      ]);
      const byKind = new Map<string, number>();
      for (const o of owned?.items ?? [])
        byKind.set(`${o.kind}/${o.metadata.name}`, (byKind.get(`${o.kind}/${o.metadata.name}`) ?? 0) + 1);
      assert.ok(
        [...byKind.values()].every((count) => count === 1),
        `duplicates in ${ns}`,
      );
      for (const expected of [
        `Deployment/${n}-server`,
        `StatefulSet/${n}-redis`,
        `Secret/${n}-redis-auth`,
        `ConfigMap/${n}-redis-config`,
      ]) {
        assert.ok(byKind.has(expected), `${expected} missing in ${ns}`);
      }
      const replicaSets = await cluster.getJson<{ items: ObjectJson[] }>(['replicasets', '-n', ns]);
      assert.equal(replicaSets?.items.length, 1, `one ReplicaSet in ${ns}`);
    }
    const namespaces = await cluster.getJson<{ items: ObjectJson[] }>(['namespaces', '-l', `${MANAGED}`]);
    const ours = (namespaces?.items ?? []).filter((ns) => ns.metadata.name.startsWith(`tenant-${prefix}-`));
    assert.equal(ours.length, 20, 'exactly one namespace per tenant');
    assert.equal(
      peer
        .calls()
        .filter(
          (c) => c.method === 'POST' && String((c.body as { tenantId: string }).tenantId).startsWith(prefix),
        ).length,
      20,
    );

    await cluster.kubectlOk(['delete', 'tenants', ...names, '--wait=false']);
    for (const n of names) await waitForGone(cluster, ['namespace', `tenant-${n}`], 180_000);
    await second.stop();
  });

  test('leader election: exactly one of two reconciles; kill it and the other takes over within 20 seconds', async () => {
    const args = [
      '--leader-elect',
      '--leader-election-namespace',
      OPERATOR_NAMESPACE,
      '--leader-election-id',
      uniqueName('lease'),
    ];
    const a = await start('leader-a', args);
    const b = await start('leader-b', args);
    const name = uniqueName('leader');
    await applyTenant(cluster, name, {});
    await waitForRunning(cluster, name);
    const reconciles = async (op: OperatorProcess) =>
      metricValue(await op.metrics(), 'neurallog_operator_reconcile_total');
    const [ra, rb] = [await reconciles(a), await reconciles(b)];
    assert.ok(ra > 0 !== rb > 0, `exactly one reconciled: a=${ra} b=${rb}`);
    const [leader, standby] = ra > 0 ? [a, b] : [b, a];

    await leader.kill();
    const second = uniqueName('leader-next');
    await applyTenant(cluster, second, {});
    await waitFor(async () => ((await reconciles(standby)) > 0 ? true : notYet()), {
      timeoutMs: 20_000,
      intervalMs: 200,
      description: 'the standby to take over within 20 s',
    });
    await waitForRunning(cluster, second);

    await cluster.kubectlOk(['delete', 'tenants', name, second, '--timeout=120s']);
    await standby.stop();
  });

  test('SIGTERM: the leader finishes, releases the lease and exits 0; the standby takes over', async () => {
    const args = [
      '--leader-elect',
      '--leader-election-namespace',
      OPERATOR_NAMESPACE,
      '--leader-election-id',
      uniqueName('lease'),
    ];
    const a = await start('graceful-a', args);
    const b = await start('graceful-b', args);
    const name = uniqueName('graceful');
    await applyTenant(cluster, name, {});
    await waitForRunning(cluster, name);
    const reconciles = async (op: OperatorProcess) =>
      metricValue(await op.metrics(), 'neurallog_operator_reconcile_total');
    const [leader, standby] = (await reconciles(a)) > 0 ? [a, b] : [b, a];
    assert.equal(await leader.stop(), 0, 'exit code 0 after SIGTERM');
    assert.match(await leader.logs(), /shutdown complete/);
    const next = uniqueName('graceful-next');
    await applyTenant(cluster, next, {});
    await waitForRunning(cluster, next);
    assert.ok((await reconciles(standby)) > 0, 'the standby reconciles after the release');
    await cluster.kubectlOk(['delete', 'tenants', name, next, '--timeout=120s']);
    assert.equal(await standby.stop(), 0);
  });
});
