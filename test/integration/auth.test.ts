// Registration with the Auth service through outages, on the real control plane with the local Auth peer.
import assert from 'node:assert/strict';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, metricValue, startOperator } from '../operator/harness.ts';
import {
  applyTenant,
  condition,
  getTenant,
  installCrd,
  waitForGone,
  waitForReady,
  waitForTenant,
} from '../operator/tenants.ts';

const DEREGISTER_TIMEOUT_S = 20;

describe('Auth service integration', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let peer: AuthPeer;
  let operator: OperatorProcess;
  let tokenFile: string;

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
    tokenFile = join(await mkdtemp(join(tmpdir(), 'auth-token-')), 'token');
    await writeFile(tokenFile, 'first-token\n');
    peer = await startAuthPeer({ requiredToken: 'first-token' });
    operator = await startOperator({
      cluster,
      authUrl: peer.url,
      name: 'auth',
      args: ['--auth-token-file', tokenFile, '--auth-deregister-timeout', `${DEREGISTER_TIMEOUT_S}s`],
    });
  });

  const created: string[] = [];
  const track = (name: string) => {
    created.push(name);
    return name;
  };

  after(async () => {
    peer?.setMode('ok');
    await peer?.start();
    await cluster?.kubectl(['delete', 'tenants', ...created, '--ignore-not-found', '--timeout=180s']);
    await operator?.stop();
    await peer?.close();
  });

  const posts = (id: string) =>
    peer.calls().filter((c) => c.method === 'POST' && (c.body as { tenantId?: string })?.tenantId === id);
  const deletes = (id: string) =>
    peer.calls().filter((c) => c.method === 'DELETE' && c.path === `/api/tenants/${id}`);

  async function warning(name: string, reason: string): Promise<string> {
    return waitFor(
      async () => {
        const events = await cluster.getJson<{
          items: Array<{ type: string; reason: string; message: string }>;
        }>(['events', '-n', 'default', '--field-selector', `involvedObject.name=${name},reason=${reason}`]);
        const found = events?.items.find((e) => e.type === 'Warning');
        return found ? found.message : notYet();
      },
      { timeoutMs: 60_000, description: `a ${reason} warning for ${name}` },
    );
  }

  test('a tenant is registered exactly once, with the bearer token; re-reconciles and restarts do not POST again', async () => {
    const name = track(uniqueName('auth-once'));
    await applyTenant(cluster, name, {});
    await waitForReady(cluster, name);
    assert.equal(posts(name).length, 1);
    assert.equal(posts(name)[0]?.authorization, 'Bearer first-token');
    const reconcilesBefore = metricValue(await operator.metrics(), 'neurallog_operator_reconcile_total');
    await cluster.kubectlOk(['annotate', 'tenant', name, 'neurallog.io/force-reconcile=1', '--overwrite']);
    await waitFor(
      async () =>
        metricValue(await operator.metrics(), 'neurallog_operator_reconcile_total') > reconcilesBefore ||
        notYet(),
      { timeoutMs: 30_000, description: 'a reconcile after force-reconcile' },
    );
    await operator.stop();
    operator = await startOperator({
      cluster,
      authUrl: peer.url,
      name: 'auth-restarted',
      args: ['--auth-token-file', tokenFile, '--auth-deregister-timeout', `${DEREGISTER_TIMEOUT_S}s`],
    });
    await waitFor(
      async () =>
        metricValue(await operator.metrics(), 'neurallog_operator_reconcile_total') >= 1 || notYet(),
      {
        timeoutMs: 30_000,
        description: 'the restarted operator to reconcile',
      },
    );
    await waitForReady(cluster, name);
    assert.equal(posts(name).length, 1, 'no second POST');
  });

  for (const [outage, breakPeer] of [
    ['down (connection refused)', () => peer.stop()],
    ['hanging (no answer)', async () => peer.setMode('hang')],
    ['answering 500', async () => peer.setMode('fail500')],
  ] as const) {
    test(`Auth ${outage} during creation: objects are still made, the status says why, and it recovers alone`, async () => {
      const name = track(uniqueName('auth-outage'));
      await breakPeer();
      try {
        await applyTenant(cluster, name, {});
        const t = await waitForTenant(
          cluster,
          name,
          'AuthServiceUnavailable',
          (x) =>
            condition(x, 'AuthRegistered')?.reason === 'AuthServiceUnavailable' &&
            x.status?.phase === 'Running',
        );
        assert.equal(condition(t, 'Ready')?.status, 'False', 'not Ready without registration');
        assert.ok(
          await cluster.getJson(['deployment', `${name}-server`, '-n', `tenant-${name}`]),
          'objects made meanwhile',
        );
        assert.match(await warning(name, 'AuthServiceUnavailable'), /Auth service/);
      } finally {
        await peer.start();
        peer.setMode('ok');
      }
      const ready = await waitForReady(cluster, name, 180_000);
      assert.equal(condition(ready, 'AuthRegistered')?.reason, 'Registered');
      assert.ok(peer.tenants().includes(name));
    });
  }

  test('delete with Auth up: DELETE is called once and the finalizer removed', async () => {
    const name = uniqueName('auth-del');
    await applyTenant(cluster, name, {});
    await waitForReady(cluster, name);
    const result = await cluster.kubectl(['delete', 'tenant', name, '--timeout=120s']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(deletes(name).length, 1);
    assert.ok(!peer.tenants().includes(name));
  });

  test('delete with Auth down: deletion waits, then completes once Auth is back', async () => {
    const name = uniqueName('auth-wait');
    await applyTenant(cluster, name, {});
    await waitForReady(cluster, name);
    await peer.stop();
    try {
      await cluster.kubectlOk(['delete', 'tenant', name, '--wait=false']);
      await warning(name, 'AuthServiceUnavailable');
      const waiting = await getTenant(cluster, name);
      assert.ok(waiting?.metadata.deletionTimestamp, 'still there, being deleted');
      assert.ok(waiting?.metadata.finalizers?.includes('neurallog.io/finalizer'));
      assert.equal(waiting?.status?.phase, 'Terminating');
    } finally {
      await peer.start();
    }
    await waitForGone(cluster, ['tenant', name], 120_000);
    assert.ok(deletes(name).length >= 1);
    assert.ok(!peer.tenants().includes(name), 'deregistered after recovery');
  });

  test('delete with Auth down past --auth-deregister-timeout: deletion completes with a warning', async () => {
    const name = uniqueName('auth-timeout');
    await applyTenant(cluster, name, {});
    await waitForReady(cluster, name);
    await peer.stop();
    try {
      await cluster.kubectlOk(['delete', 'tenant', name, '--wait=false']);
      await waitForGone(cluster, ['tenant', name], (DEREGISTER_TIMEOUT_S + 60) * 1000);
      assert.match(await warning(name, 'AuthDeregistrationTimedOut'), /by hand/);
      assert.equal(await cluster.getJson(['namespace', `tenant-${name}`]), undefined);
    } finally {
      await peer.start();
    }
  });

  test('a changed token file is picked up on the next call', async () => {
    const next = `${tokenFile}.next`;
    await writeFile(next, 'second-token\n');
    await rename(next, tokenFile);
    peer.setRequiredToken('second-token');
    const name = uniqueName('auth-token');
    await applyTenant(cluster, name, {});
    await waitForReady(cluster, name);
    assert.equal(posts(name)[0]?.authorization, 'Bearer second-token');
    const result = await cluster.kubectl(['delete', 'tenant', name, '--timeout=120s']);
    assert.equal(result.code, 0, result.stderr);
  });
});
