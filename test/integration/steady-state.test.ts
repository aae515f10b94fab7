// A steady cluster costs nothing: with 22 Running tenants — 20 plain ones, the user guide's
// customized tenant, and one full of empty lists, maps and values the API server drops — a full
// resync makes zero write requests, counted from the API server's own audit log (not from the
// operator's counters). Provisioning them all at once tells its story in one event per happening.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type TestCluster, uniqueName } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import { type OperatorProcess, metricValue } from '../operator/harness.ts';
import { parse } from 'yaml';
import { repoRoot } from '../cluster/config.ts';
import { tenantManifest, waitForGone, waitForReady } from '../operator/tenants.ts';
import { join } from 'node:path';

interface AuditEvent {
  verb: string;
  userAgent?: string;
  requestURI: string;
  stage: string;
}

interface EventJson {
  type: string;
  reason: string;
  message: string;
  count?: number;
  involvedObject: { name: string };
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
  const plain = Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`);
  const customized = `${prefix}-customized`;
  const empties = `${prefix}-empties`;
  const names = [...plain, customized, empties];
  const specs = new Map<string, Record<string, unknown>>();

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

  test('with 22 Running tenants, a full resync performs zero write requests', async () => {
    const auditLog = cluster.cluster.auditLogPath;
    assert.ok(auditLog, 'the test cluster writes an audit log');
    const sample = parse(
      await readFile(join(repoRoot, 'config', 'samples', 'neurallog_v1_tenant_customized.yaml'), 'utf8'),
    ) as { spec: Record<string, unknown> };
    specs.set(customized, sample.spec);
    specs.set(empties, {
      server: {
        env: [{ name: 'EMPTY', value: '' }],
        tolerations: [],
        podLabels: {},
        podAnnotations: {},
        nodeSelector: {},
        affinity: {
          nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [] },
        },
      },
      redis: { config: {} },
      networkPolicy: {
        allowedNamespaces: [],
        ingressRules: [{ description: '', from: {}, ports: [] }],
        egressRules: [],
      },
    });
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: names.map((n) => tenantManifest(n, specs.get(n) ?? {})).join('---\n'),
    });
    for (const n of names) await waitForReady(cluster, n, 240_000);

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

  test('each tenant provisioned in that burst got one event per happening, and no ApplyFailed', async () => {
    const events = await cluster.getJson<{ items: EventJson[] }>(['events', '-n', 'default']);
    const ours = (events?.items ?? []).filter((e) => names.includes(e.involvedObject.name));
    assert.deepEqual(
      ours.filter((e) => e.reason === 'ApplyFailed').map((e) => e.message),
      [],
      'no write failed while they were made',
    );
    for (const n of names) {
      const mine = ours.filter((e) => e.involvedObject.name === n);
      const keys = mine.map((e) => `${e.type} ${e.reason}: ${e.message}`);
      assert.deepEqual(keys, [...new Set(keys)], `${n}: one Event object per (reason, message)`);
      assert.deepEqual(
        mine.filter((e) => (e.count ?? 1) !== 1).map((e) => `${e.reason} x${e.count}`),
        [],
        `${n}: nothing announced twice`,
      );
      assert.equal(
        mine.filter((e) => e.reason === 'Created').length,
        7,
        `${n}: six Created events and one summary`,
      );
      assert.equal(mine.filter((e) => e.reason === 'Running').length, 1, `${n}: one Running event`);
    }
  });
});
