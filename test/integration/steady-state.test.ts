// A steady cluster costs nothing: with 20 Running tenants, a full resync makes zero write requests,
// counted from the API server's own audit log (not from the operator's counters).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type TestCluster, uniqueName } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import { type OperatorProcess, metricValue } from '../operator/harness.ts';
import { tenantManifest, waitForGone, waitForReady } from '../operator/tenants.ts';

interface AuditEvent {
  verb: string;
  userAgent?: string;
  requestURI: string;
  stage: string;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

async function auditLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
}

function operatorWrites(lines: string[]): AuditEvent[] {
  return lines
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter(
      (e) =>
        e.stage === 'ResponseComplete' &&
        WRITE_VERBS.has(e.verb) &&
        (e.userAgent ?? '').includes('tenant-operator'),
    );
}

describe('steady state', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let operator: OperatorProcess;
  let env: OperatorEnvironment;
  const prefix = uniqueName('steady');
  const names = Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`);

  before(async () => {
    env = await startEnvironment('steady', { args: ['--resync-period', '10s'] });
    ({ cluster, operator } = env);
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'tenants', ...names, '--ignore-not-found', '--wait=false']);
    for (const n of names)
      await waitForGone(cluster, ['namespace', `tenant-${n}`], 180_000).catch(() => undefined);
    await env?.close();
  });

  test('with 20 Running tenants, a full resync performs zero write requests', async () => {
    const auditLog = cluster.cluster.auditLogPath;
    assert.ok(auditLog, 'the test cluster writes an audit log');
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: names.map((n) => tenantManifest(n, {})).join('---\n'),
    });
    for (const n of names) await waitForReady(cluster, n, 180_000);

    const reconciles = async () =>
      metricValue(await operator.metrics(), 'neurallog_operator_reconcile_total');
    const afterResync = async (from: number) =>
      waitFor(async () => ((await reconciles()) >= from + names.length ? reconciles() : notYet()), {
        timeoutMs: 60_000,
        description: 'a full resync (every tenant reconciled again)',
      });

    // The first resync finishes whatever converging was left; the second is the measured one.
    const settled = await afterResync(await reconciles());
    const before = (await auditLines(auditLog)).length;
    const measured = await afterResync(settled);
    const writes = operatorWrites((await auditLines(auditLog)).slice(before));
    assert.ok(measured - settled >= names.length, 'every tenant was reconciled in the window');
    assert.deepEqual(
      writes.map((w) => `${w.verb} ${w.requestURI}`),
      [],
      'no write requests from the operator during a resync of a steady cluster',
    );
    const readsOnly = (await auditLines(auditLog)).length;
    assert.ok(readsOnly >= before);
  });
});
