// Shared steps of the reliability tests: the API server's health as seen from outside, etcd's
// HTTP gateway (revision bumps and compaction), the operator's log since a point in time, and the
// three checks that prove the operator's watches and workers still work after a fault.
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { apiserverReadyz } from '../cluster/cluster.ts';
import type { TestCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, metricValue } from '../operator/harness.ts';
import { type ObjectJson, applyTenant, waitForReady, waitForTenant } from '../operator/tenants.ts';

/** kube-apiserver `/readyz`: true when 200 `ok`, false on any other answer or no answer. */
export async function apiserverReady(cluster: TestCluster): Promise<boolean> {
  try {
    return (await apiserverReadyz(cluster.cluster.state, 2_000)).status === 200;
  } catch {
    return false;
  }
}

export async function waitForApiserverDown(cluster: TestCluster): Promise<void> {
  await waitFor(async () => ((await apiserverReady(cluster)) ? notYet('/readyz still ok') : true), {
    timeoutMs: 30_000,
    description: 'kube-apiserver /readyz to fail',
  });
}

// ---- etcd (v3 JSON gateway on the client port) ------------------------------------------------

interface EtcdHeader {
  header?: { revision?: string };
}

async function etcdPost<T>(cluster: TestCluster, path: string, body: unknown): Promise<T> {
  const url = `http://127.0.0.1:${cluster.cluster.state.ports.etcdClient}${path}`;
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Writes a key outside `/registry` (the API server never reads it); returns the new revision. */
export async function etcdBumpRevision(cluster: TestCluster): Promise<number> {
  const key = Buffer.from('/neurallog-reliability/bump').toString('base64');
  const value = Buffer.from(new Date().toISOString()).toString('base64');
  const res = await etcdPost<EtcdHeader>(cluster, '/v3/kv/put', { key, value });
  const revision = Number(res.header?.revision);
  assert.ok(revision > 0, `etcd put answered without a revision: ${JSON.stringify(res)}`);
  return revision;
}

/** Compacts etcd's history up to `revision`: watches from older revisions then fail with 410. */
export async function etcdCompact(cluster: TestCluster, revision: number): Promise<void> {
  await etcdPost(cluster, '/v3/kv/compaction', { revision: String(revision), physical: true });
}

// ---- operator ----------------------------------------------------------------------------------

export interface OperatorIdentity {
  pid: number;
  /** prom-client's `process_start_time_seconds`. */
  startTime: number;
}

export async function operatorIdentity(operator: OperatorProcess): Promise<OperatorIdentity> {
  const pid = operator.child.pid;
  assert.ok(pid !== undefined, 'operator has a pid');
  const startTime = metricValue(await operator.metrics(), 'process_start_time_seconds');
  assert.ok(startTime > 0, 'process_start_time_seconds is exported');
  return { pid, startTime };
}

/** The process is the one started at the beginning: never exited, same pid, same start time. */
export async function assertSameOperatorProcess(
  operator: OperatorProcess,
  before: OperatorIdentity,
): Promise<void> {
  assert.equal(operator.child.exitCode, null, 'the operator process never exited');
  assert.equal(operator.child.signalCode, null, 'the operator process was never signalled');
  const now = await operatorIdentity(operator);
  assert.deepEqual(now, before, 'same operator process (pid and process_start_time_seconds)');
}

/** `/healthz` or `/readyz` of the operator answers 200. */
export async function operatorProbeOk(
  operator: OperatorProcess,
  probe: 'healthz' | 'readyz',
): Promise<boolean> {
  try {
    const res = await fetch(`${operator.probeUrl}/${probe}`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  informer?: string;
  err?: { message?: string; type?: string };
  [key: string]: unknown;
}

/** Byte size of the operator's log now: pass it to `logLinesSince` later. */
export async function logOffset(operator: OperatorProcess): Promise<number> {
  const handle = await open(operator.logFile, 'r');
  try {
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

/** The operator's JSON log lines written after `offset` (non-JSON lines are kept as `msg`). */
export async function logLinesSince(operator: OperatorProcess, offset: number): Promise<LogLine[]> {
  const text = Buffer.from(await operator.logs(), 'utf8')
    .subarray(offset)
    .toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        return { msg: line };
      }
    });
}

/** Warnings and worse since `offset`, one short line each, for failure messages and reports. */
export async function problemsSince(operator: OperatorProcess, offset: number, max = 60): Promise<string> {
  const lines = (await logLinesSince(operator, offset)).filter((l) => (l.level ?? 50) >= 40);
  const shown = lines.slice(-max).map((l) => {
    const when = l.time ? new Date(l.time).toISOString().slice(11, 23) : '';
    const who = l.informer ? ` [${l.informer}]` : '';
    const err = l.err?.message ? ` — ${l.err.message.slice(0, 240)}` : '';
    return `  ${when} L${l.level ?? '?'}${who} ${l.msg ?? ''}${err}`;
  });
  return `operator log (${operator.logFile}), ${lines.length} warn+ lines since the fault, last ${shown.length}:\n${shown.join('\n')}`;
}

/** Runs `fn`; when it fails, appends the operator's warnings since `offset` to the error. */
export async function withLogOnFailure<T>(
  operator: OperatorProcess,
  offset: number,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const excerpt = await problemsSince(operator, offset).catch(
      (e: unknown) => `(log unreadable: ${String(e)})`,
    );
    if (error instanceof Error) {
      error.message = `${error.message}\n${excerpt}`;
      throw error;
    }
    throw new Error(`${String(error)}\n${excerpt}`, { cause: error });
  }
}

/** Names of informers that logged a message matching `pattern` since `offset`. */
export async function informersThatLogged(
  operator: OperatorProcess,
  offset: number,
  pattern: RegExp,
): Promise<Set<string>> {
  const names = new Set<string>();
  for (const line of await logLinesSince(operator, offset)) {
    if (line.informer && pattern.test(line.msg ?? '')) names.add(line.informer);
  }
  return names;
}

// ---- the three recovery checks ----------------------------------------------------------------

type DeploymentJson = ObjectJson & {
  spec: { replicas?: number };
  status?: { readyReplicas?: number; replicas?: number };
};

/**
 * (a) a person deletes the tenant's server Deployment → the operator restores it (a new uid):
 *     the child watch delivered the deletion;
 * (b) a new tenant → Running and Ready: the tenant watch delivered the creation;
 * (c) the first tenant's `spec.server.replicas` → `replicas`: applied to the Deployment, the
 *     PodDisruptionBudget follows (present at ≥ 2), the tenant reports the new generation Running.
 */
export async function assertOperatorStillReconciles(
  cluster: TestCluster,
  options: { tenant: string; newTenant: string; replicas: number; timeoutMs?: number },
): Promise<void> {
  const { tenant, replicas } = options;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const ns = `tenant-${tenant}`;
  const deployment = ['deployment', `${tenant}-server`, '-n', ns];

  // (a) drift: the child watch must see the deletion (nothing else would wake the tenant up
  // before the 10-minute resync).
  const before = await cluster.getJson<DeploymentJson>(deployment);
  assert.ok(before, `${deployment.join(' ')} exists before the drift`);
  await cluster.kubectlOk(['delete', ...deployment, '--wait=false']);
  await waitFor(
    async () => {
      const now = await cluster.getJson<DeploymentJson>(deployment);
      if (!now) return notYet('absent');
      return now.metadata.uid !== before.metadata.uid ? now : notYet('still the old Deployment');
    },
    { timeoutMs, intervalMs: 300, description: `(a) ${deployment.join(' ')} to be restored` },
  );
  await waitForTenant(
    cluster,
    tenant,
    '(a) Running after the drift',
    (t) => t.status?.phase === 'Running',
    timeoutMs,
  );

  // (b) a new tenant: the tenant watch must deliver it.
  await applyTenant(cluster, options.newTenant, { displayName: 'Created after a fault' });
  await waitForReady(cluster, options.newTenant, timeoutMs);

  // (c) a spec change of the first tenant: the tenant watch must deliver the update.
  await cluster.kubectlOk([
    'patch',
    'tenant',
    tenant,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { server: { replicas } } }),
  ]);
  await waitFor(
    async () => {
      const d = await cluster.getJson<DeploymentJson>(deployment);
      const ready = d?.status?.readyReplicas ?? 0;
      return d?.spec.replicas === replicas && ready === replicas
        ? d
        : notYet({ replicas: d?.spec.replicas, ready });
    },
    { timeoutMs, intervalMs: 300, description: `(c) ${deployment.join(' ')} at ${replicas} ready replicas` },
  );
  const pdb = ['poddisruptionbudget', `${tenant}-server`, '-n', ns];
  await waitFor(
    async () => {
      const exists = (await cluster.getJson(pdb)) !== undefined;
      return exists === replicas >= 2 || notYet(exists ? 'PDB present' : 'PDB absent');
    },
    {
      timeoutMs,
      intervalMs: 300,
      description: `(c) PodDisruptionBudget ${replicas >= 2 ? 'present' : 'absent'}`,
    },
  );
  await waitForTenant(
    cluster,
    tenant,
    `(c) Running with ${replicas} server replicas`,
    (t) => t.status?.phase === 'Running' && t.status.serverStatus?.readyReplicas === replicas,
    timeoutMs,
  );
}
