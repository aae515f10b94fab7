// Several clusters, measured: a management cluster and a member joined with `cluster join`, plus
// the management cluster itself as a second member, with the operator under config/rbac.
//   1. Placement latency: N tenants created at once (half pinned to each member); for each, the
//      time from the `kubectl apply` of all N returning until its status.placement is seen (one
//      list of the Tenants every 50 ms), and until it is Running and Ready.
//   2. Steady state with two members: with all N Ready, a window of --steady-s (default 60 s, three
//      full resyncs of --resync-period 20s and 60 member probes of --member-probe-interval 1s):
//      the operator's writes and reads, from each cluster's own audit log (the Lease aside).
// Results go to bench/results/<date>-members-<N>.json and are printed.
//
//   node bench/members.ts [--tenants 20] [--steady-s 60]
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/cluster/config.ts';
import { uniqueName, useCluster, useSiblingCluster } from '../test/cluster/fixture.ts';
import { notYet, waitFor } from '../test/cluster/wait.ts';
import { startAuthPeer } from '../test/auth-peer/peer.ts';
import { tenantOperatorCli } from '../test/operator/cli.ts';
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
  const joined = await tenantOperatorCli([
    'cluster',
    'join',
    remote,
    '--kubeconfig-of-member',
    member.kubeconfigPath,
    '--kubeconfig',
    management.kubeconfigPath,
  ]);
  if (joined.code !== 0) throw new Error(`cluster join failed: ${joined.stderr}`);
  await management.apply({
    apiVersion: 'neurallog.io/v1',
    kind: 'MemberCluster',
    metadata: { name: local },
    spec: {},
  });
  for (const name of [remote, local]) {
    await waitFor(
      async () => {
        const m = await management.getJson<{
          status?: { conditions?: Array<{ type: string; status: string }> };
        }>(['membercluster', name]);
        return m?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : notYet();
      },
      { timeoutMs: 60_000, description: `MemberCluster ${name} Ready` },
    );
  }

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

  const result = {
    when: new Date().toISOString(),
    machine: machineInfo(),
    tenants: n,
    members: { [remote]: 'joined local control plane', [local]: 'the management cluster itself' },
    placementMs: distribution([...placedAt.values()], 0),
    readyMs: distribution([...readyAt.values()], 0),
    steady,
  };
  const out = join(repoRoot, 'bench', 'results', `${result.when.slice(0, 10)}-members-${n}.json`);
  await mkdir(join(repoRoot, 'bench', 'results'), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwrote ${out}\n`);
} finally {
  await management.kubectl(['delete', 'tenants', ...names, '--ignore-not-found', '--wait=false']);
  for (const name of names) await waitForGone(management, ['tenant', name], 300_000).catch(() => undefined);
  await tenantOperatorCli([
    'cluster',
    'leave',
    remote,
    '--kubeconfig',
    management.kubeconfigPath,
    '--kubeconfig-of-member',
    member.kubeconfigPath,
  ]);
  await management.kubectl(['delete', 'membercluster', local, '--ignore-not-found']);
  await operator.stop();
  await peer.close();
}
