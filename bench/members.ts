// Several clusters, measured: a management cluster and a member joined with `cluster join`, plus
// the management cluster itself as a second member, with the operator under config/rbac.
//   1. Placement latency: N tenants created at once (half pinned to each member); for each, the
//      time from the `kubectl apply` of all N returning until its status.placement is seen (one
//      list of the Tenants every 50 ms), and until it is Running and Ready.
//   2. Steady state with two members: with all N Ready, a window of --steady-s (default 60 s, three
//      full resyncs of --resync-period 20s and 60 member probes of --member-probe-interval 1s):
//      the operator's writes and reads, from each cluster's own audit log (the Lease aside).
//   3. A member down: one tenant on the management member is created (until Ready), scaled to two
//      server replicas (until status shows 2 ready) and deleted (until gone), --outage-tries times
//      with the joined member up, then the same with its kube-apiserver stopped.
// Results go to bench/results/<date>-members-<N>.json and are printed.
//
//   node bench/members.ts [--tenants 20] [--steady-s 60]
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startComponent, stopComponent } from '../test/cluster/cluster.ts';
import { repoRoot } from '../test/cluster/config.ts';
import { uniqueName, useCluster, useSiblingCluster } from '../test/cluster/fixture.ts';
import { notYet, waitFor } from '../test/cluster/wait.ts';
import { startAuthPeer } from '../test/auth-peer/peer.ts';
import { joinArgs, leaveArgs, tenantOperatorCli } from '../test/operator/cli.ts';
import { waitForMembersReady } from '../test/operator/members.ts';
import { startOperator } from '../test/operator/harness.ts';
import { installCrd, tenantManifest, waitForGone, waitForReady } from '../test/operator/tenants.ts';
import { type AuditEvent, JsonLinesTail, countRequests, isOperator } from './lib/audit.ts';
import { machineInfo } from './lib/machine.ts';
import { distribution } from './lib/stats.ts';

process.env['NEURALLOG_CLUSTER_DIR'] ||= join(tmpdir(), 'neurallog-bench-members');

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string', default: '20' },
    'steady-s': { type: 'string', default: '60' },
    'outage-tries': { type: 'string', default: '5' },
  },
});
const n = Number(flags.tenants);
const steadyMs = Number(flags['steady-s']) * 1000;

const management = await useCluster();
const member = await useSiblingCluster('member-a');
await installCrd(management);
const peer = await startAuthPeer({});
const operator = await startOperator({
  cluster: management,
  authUrl: peer.url,
  name: 'bench-members',
  args: ['--member-probe-interval', '1s', '--resync-period', '20s'],
});
const prefix = uniqueName('bm');
const remote = `${prefix}-remote`;
const local = `${prefix}-local`;
const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

try {
  const joined = await tenantOperatorCli(
    joinArgs(remote, { member: member.kubeconfigPath, management: management.kubeconfigPath }),
  );
  if (joined.code !== 0) throw new Error(`cluster join failed: ${joined.stderr}`);
  await management.apply({
    apiVersion: 'neurallog.io/v1',
    kind: 'MemberCluster',
    metadata: { name: local },
    spec: {},
  });
  await waitForMembersReady(management, [remote, local]);

  // 1. placement latency
  const manifests = names.map((name, i) =>
    tenantManifest(name, { placement: { clusterName: i % 2 === 0 ? remote : local } }),
  );
  await management.kubectlOk(['apply', '-f', '-'], { input: manifests.join('---\n') });
  const applied = Date.now();
  const placedAt = new Map<string, number>();
  const wanted = new Set(names);
  // One list per poll (one kubectl process), so that measuring costs little next to what is measured.
  await waitFor(
    async () => {
      const list = await management.getJson<{
        items: Array<{ metadata: { name: string }; status?: { placement?: unknown } }>;
      }>(['tenants']);
      const seenAt = Date.now() - applied;
      for (const t of list?.items ?? [])
        if (wanted.has(t.metadata.name) && t.status?.placement && !placedAt.has(t.metadata.name))
          placedAt.set(t.metadata.name, seenAt);
      return placedAt.size === n ? true : notYet(`${placedAt.size} of ${n} placed`);
    },
    { timeoutMs: 120_000, intervalMs: 50, description: 'every tenant placed' },
  );
  const readyAt = new Map<string, number>();
  for (const name of names) {
    await waitForReady(management, name, 300_000);
    readyAt.set(name, Date.now() - applied);
  }

  // 2. steady state
  const managementAudit = new JsonLinesTail<AuditEvent>(management.auditLogPath);
  const memberAudit = new JsonLinesTail<AuditEvent>(member.auditLogPath);
  await managementAudit.skipToEnd();
  await memberAudit.skipToEnd();
  const steadyFrom = Date.now();
  await new Promise((resolve) => setTimeout(resolve, steadyMs));
  await managementAudit.mark();
  await memberAudit.mark();
  const notLease = (e: AuditEvent) => isOperator(e) && e.objectRef?.resource !== 'leases';
  const steady = {
    seconds: Math.round((Date.now() - steadyFrom) / 1000),
    management: countRequests(managementAudit.events, notLease),
    member: countRequests(memberAudit.events, notLease),
  };

  // 3. the other member down
  const lifecycle = async (name: string) => {
    const t0 = Date.now();
    await management.kubectlOk(['apply', '-f', '-'], {
      input: tenantManifest(name, { placement: { clusterName: local } }),
    });
    await waitForReady(management, name, 120_000);
    const t1 = Date.now();
    await management.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"server":{"replicas":2}}}',
    ]);
    await waitFor(
      async () => {
        const t = await management.getJson<{ status?: { serverStatus?: { readyReplicas?: number } } }>([
          'tenant',
          name,
        ]);
        return t?.status?.serverStatus?.readyReplicas === 2 ? true : notYet(t?.status?.serverStatus);
      },
      { timeoutMs: 120_000, intervalMs: 100, description: `tenant ${name} scaled to 2` },
    );
    const t2 = Date.now();
    await management.kubectlOk(['delete', 'tenant', name, '--wait=false']);
    await waitForGone(management, ['tenant', name], 120_000);
    return { createMs: t1 - t0, scaleMs: t2 - t1, deleteMs: Date.now() - t2 };
  };
  const tries = Number(flags['outage-tries']);
  const timed = async (label: string) => {
    const runs = [];
    for (let i = 0; i < tries; i++) runs.push(await lifecycle(`${prefix}-${label}-${i}`));
    return {
      createMs: distribution(
        runs.map((r) => r.createMs),
        0,
      ),
      scaleMs: distribution(
        runs.map((r) => r.scaleMs),
        0,
      ),
      deleteMs: distribution(
        runs.map((r) => r.deleteMs),
        0,
      ),
    };
  };
  const withoutOutage = await timed('up');
  await stopComponent(member.cluster, 'kube-apiserver');
  let duringOutage;
  try {
    duringOutage = await timed('down');
  } finally {
    await startComponent(member.cluster, 'kube-apiserver');
  }

  const result = {
    when: new Date().toISOString(),
    machine: machineInfo(),
    tenants: n,
    members: { [remote]: 'joined local control plane', [local]: 'the management cluster itself' },
    placementMs: distribution([...placedAt.values()], 0),
    readyMs: distribution([...readyAt.values()], 0),
    steady,
    otherMemberDown: { tries, withoutOutage, duringOutage },
  };
  const out = join(repoRoot, 'bench', 'results', `${result.when.slice(0, 10)}-members-${n}.json`);
  await mkdir(join(repoRoot, 'bench', 'results'), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwrote ${out}\n`);
} finally {
  await management.kubectl(['delete', 'tenants', ...names, '--ignore-not-found', '--wait=false']);
  for (const name of names) await waitForGone(management, ['tenant', name], 300_000).catch(() => undefined);
  await tenantOperatorCli(
    leaveArgs(remote, { member: member.kubeconfigPath, management: management.kubeconfigPath }),
  );
  await management.kubectl(['delete', 'membercluster', local, '--ignore-not-found']);
  await operator.stop();
  await peer.close();
}
