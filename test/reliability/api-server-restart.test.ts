// "Watches never silently die": kube-apiserver faults under one running operator process.
//
//   1. restart      — stop kube-apiserver, wait until /readyz fails, start it with the same flags;
//   2. long outage  — kube-apiserver down for OUTAGE_MS while the operator must stay alive and healthy;
//   3. 410 Gone     — while it is down, etcd's history is compacted past every revision the
//                     operator has seen, and kube-apiserver comes back with --watch-cache=false, so
//                     every watch resumed from its last resourceVersion is answered 410 Gone.
//
// After each fault, without restarting the operator: (a) a deleted server Deployment is restored
// (child watch), (b) a new tenant becomes Running and Ready (tenant watch), (c) a spec change is
// applied (tenant watch + writes). The operator process is the same throughout (pid,
// process_start_time_seconds) and its /readyz is ok again.
//
// Everything waits on conditions with deadlines; the only fixed duration is the outage itself.
// All scenarios live in one file because they stop the API server that every test of the state
// directory shares: run them on their own control plane (see README.md).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { componentArgs, startComponent, stopComponent } from '../cluster/cluster.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { FatalWaitError, notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, metricValue, startOperator } from '../operator/harness.ts';
import { applyTenant, installCrd, waitForReady } from '../operator/tenants.ts';
import {
  type OperatorIdentity,
  apiserverReady,
  assertOperatorStillReconciles,
  assertSameOperatorProcess,
  etcdBumpRevision,
  etcdCompact,
  informersThatLogged,
  logOffset,
  operatorIdentity,
  operatorProbeOk,
  problemsSince,
  waitForApiserverDown,
  withLogOnFailure,
} from './helpers.ts';

const APISERVER = 'kube-apiserver';
/** How long kube-apiserver stays down in the long-outage scenario. */
const OUTAGE_MS = Number(process.env['RELIABILITY_OUTAGE_MS'] ?? 40_000);
/** Consecutive failed /healthz answers during the outage that count as "the operator is dead". */
const HEALTHZ_FAILURES_ALLOWED = 3;

function report(line: string): void {
  process.stderr.write(`[reliability] ${line}\n`);
}

describe(
  'kube-apiserver faults: the operator keeps running and its watches resume',
  { timeout: 1_800_000 },
  () => {
    let cluster: TestCluster;
    let peer: AuthPeer;
    let operator: OperatorProcess;
    let identity: OperatorIdentity;
    let originalArgs: string[];
    const first = uniqueName('apifault');
    const tenants: string[] = [first];

    before(async () => {
      cluster = await useCluster();
      await installCrd(cluster);
      originalArgs = componentArgs(cluster.cluster, APISERVER);
      peer = await startAuthPeer({});
      operator = await startOperator({
        cluster,
        authUrl: peer.url,
        name: 'apiserver-faults',
      });
      identity = await operatorIdentity(operator);
      report(`operator pid ${identity.pid}, log ${operator.logFile}`);
      await applyTenant(cluster, first, { displayName: 'API server faults' });
      await waitForReady(cluster, first);
    });

    after(async () => {
      // Leave the control plane as it was: kube-apiserver running with its original flags.
      if (cluster) {
        const args = componentArgs(cluster.cluster, APISERVER);
        if (!(await apiserverReady(cluster)) || JSON.stringify(args) !== JSON.stringify(originalArgs)) {
          await stopComponent(cluster.cluster, APISERVER);
          await startComponent(cluster.cluster, APISERVER, { args: originalArgs });
        }
        await cluster.kubectl(['delete', 'tenant', ...tenants, '--ignore-not-found', '--timeout=180s'], {
          timeoutMs: 200_000,
        });
      }
      await operator?.stop();
      await peer?.close();
    });

    async function stopApiserver(): Promise<void> {
      await stopComponent(cluster.cluster, APISERVER);
      await waitForApiserverDown(cluster);
      assert.equal(operator.child.exitCode, null, 'operator alive right after kube-apiserver stopped');
    }

    /** The checks every scenario ends with; `offset` is where the fault starts in the operator log. */
    async function assertRecovered(offset: number, label: string, replicas: number): Promise<void> {
      const created = uniqueName(label);
      tenants.push(created);
      await withLogOnFailure(operator, offset, async () => {
        await assertOperatorStillReconciles(cluster, { tenant: first, newTenant: created, replicas });
        await waitFor(
          async () => (await operatorProbeOk(operator, 'readyz')) || notYet('operator /readyz not ok'),
          {
            timeoutMs: 30_000,
            description: 'operator /readyz ok',
          },
        );
        await assertSameOperatorProcess(operator, identity);
      });
      const metrics = await operator.metrics();
      report(
        `${label}: recovered; reconcile errors so far ${metricValue(metrics, 'neurallog_operator_reconcile_errors_total')}, ` +
          `drift corrections ${metricValue(metrics, 'neurallog_operator_drift_corrections_total')}`,
      );
    }

    /** Proof that the fault really cut the watches (else the checks above prove nothing). */
    async function assertWatchesWereCut(offset: number, label: string): Promise<void> {
      const cut = await informersThatLogged(
        operator,
        offset,
        /watch (failed|stream ended)|410 Gone|listing everything again|list failed/,
      );
      const expired = await informersThatLogged(operator, offset, /410 Gone/);
      report(`${label}: informers whose watch was cut: ${[...cut].sort().join(', ')}`);
      report(
        `${label}: informers that got 410 Gone and relisted: ${[...expired].sort().join(', ') || 'none'}`,
      );
      for (const name of ['tenants', 'deployments']) {
        assert.ok(
          cut.has(name),
          `the ${name} watch was interrupted by the fault (log since the fault shows it)`,
        );
      }
    }

    test('restart: stop kube-apiserver, start it with the same flags; drift, new tenants and spec changes are handled', async () => {
      const offset = await logOffset(operator);
      await stopApiserver();
      await startComponent(cluster.cluster, APISERVER);
      await assertRecovered(offset, 'after-restart', 2);
      await assertWatchesWereCut(offset, 'restart');
    });

    test(`long outage: kube-apiserver down for ${OUTAGE_MS / 1000} s; the operator stays alive and healthy, then catches up`, async () => {
      const offset = await logOffset(operator);
      await stopApiserver();
      const downSince = Date.now();
      let probes = 0;
      let failedInARow = 0;
      let failedTotal = 0;
      // The outage lasts OUTAGE_MS, and at least until the operator has given up resuming watches
      // and its lists fail too (so both failure paths of the informers were taken).
      const observed = await waitFor(
        async () => {
          if (operator.child.exitCode !== null || operator.child.signalCode !== null) {
            throw new FatalWaitError(
              `operator exited (${operator.child.exitCode ?? operator.child.signalCode}) while kube-apiserver was down\n` +
                (await problemsSince(operator, offset)),
            );
          }
          probes++;
          if (await operatorProbeOk(operator, 'healthz')) {
            failedInARow = 0;
          } else {
            failedTotal++;
            if (++failedInARow >= HEALTHZ_FAILURES_ALLOWED) {
              throw new FatalWaitError(
                `operator /healthz failed ${failedInARow} times in a row while kube-apiserver was down\n` +
                  (await problemsSince(operator, offset)),
              );
            }
          }
          const elapsed = Date.now() - downSince;
          const listFailed = await informersThatLogged(operator, offset, /^list failed/);
          return elapsed >= OUTAGE_MS && listFailed.size > 0
            ? { elapsed, listFailed: [...listFailed].sort() }
            : notYet({ elapsed, listFailed: [...listFailed] });
        },
        { timeoutMs: OUTAGE_MS + 90_000, intervalMs: 1_000, description: 'the outage to run its course' },
      );
      report(
        `outage: ${Math.round(observed.elapsed / 1000)} s down; /healthz probed ${probes} times, ${failedTotal} failed; ` +
          `informers whose list failed: ${observed.listFailed.join(', ')}`,
      );
      assert.ok(await operatorProbeOk(operator, 'healthz'), 'operator /healthz ok at the end of the outage');
      await startComponent(cluster.cluster, APISERVER);
      await assertRecovered(offset, 'after-outage', 1);
      await assertWatchesWereCut(offset, 'outage');
    });

    test('410 Gone: etcd compacted past every resourceVersion the operator holds, watch cache off; it relists and still repairs drift', async () => {
      const offset = await logOffset(operator);
      await stopApiserver();
      // Nothing writes while kube-apiserver is down, so the operator's newest resourceVersion may be
      // etcd's current revision; two writes outside /registry move the revision past it, and the
      // compaction then removes every revision the operator could resume from.
      await etcdBumpRevision(cluster);
      const revision = await etcdBumpRevision(cluster);
      await etcdCompact(cluster, revision);
      report(`410: etcd compacted at revision ${revision}`);
      // Without the watch cache, watches are served by etcd and fail on compacted revisions (the
      // watch cache would answer from its own window instead).
      await startComponent(cluster.cluster, APISERVER, { args: [...originalArgs, '--watch-cache=false'] });
      const expired = await withLogOnFailure(operator, offset, () =>
        waitFor(
          async () => {
            const names = await informersThatLogged(operator, offset, /410 Gone/);
            return names.has('tenants') && names.has('deployments') ? names : notYet([...names]);
          },
          {
            timeoutMs: 120_000,
            intervalMs: 500,
            description: 'the tenants and deployments watches to get 410 Gone',
          },
        ),
      );
      report(`410: informers that got 410 Gone: ${[...expired].sort().join(', ')}`);
      await assertRecovered(offset, 'after-410', 2);
      await assertWatchesWereCut(offset, '410');
    });
  },
);
