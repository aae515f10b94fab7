// Control-plane faults under one running operator (as installed): etcd SIGKILLed and started again
// on the same data directory, kube-apiserver restarted, and every node going NotReady (kwok, the
// nodes' kubelet, stops; the node lifecycle controller marks the nodes and their pods not ready).
// Tenants are changed right before each fault and while it lasts, whenever the API server accepts
// changes; afterwards every tenant must be Running with its last spec, and the audit must find
// nothing wrong.
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { startComponent, stopComponent } from '../cluster/cluster.ts';
import { type TestCluster, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, startOperator } from '../operator/harness.ts';
import { installCrd, tenantManifest } from '../operator/tenants.ts';
import { type AuditResult, auditTenants, recordDataUids } from './audit.ts';
import { waitForTenantsReady } from './chaos.ts';
import { apiserverReady, waitForApiserverDown } from './helpers.ts';

export type ControlPlaneFault = 'etcd-killed' | 'apiserver-restarted' | 'nodes-not-ready';

export interface FaultReport {
  fault: ControlPlaneFault;
  tenants: number;
  /** Changes made right before the fault and during it (accepted by the API server). */
  changes: number;
  /** How long the fault lasted. */
  faultMs: number;
  /** From the end of the fault until every tenant was Running with its last spec. */
  convergeMs: number;
  /** The operator process never exited. */
  operatorSurvived: boolean;
  audit: AuditResult;
}

interface NodeList {
  items: Array<{
    metadata: { name: string };
    status?: { conditions?: Array<{ type: string; status: string }> };
  }>;
}

async function nodesReady(cluster: TestCluster, ready: boolean): Promise<boolean> {
  const nodes = await cluster.getJson<NodeList>(['nodes', '-l', 'type=kwok']);
  return (nodes?.items ?? []).every(
    (n) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') === ready,
  );
}

export async function runControlPlaneFault(
  fault: ControlPlaneFault,
  options: { tenants: number; prefix: string; log?: (line: string) => void },
): Promise<FaultReport> {
  const log = options.log ?? (() => {});
  const cluster = await useCluster();
  await installCrd(cluster);
  const peer: AuthPeer = await startAuthPeer({});
  const names = Array.from({ length: options.tenants }, (_, i) => `${options.prefix}-${i}`);
  const specs = new Map<string, Record<string, unknown>>(names.map((n) => [n, {}]));
  const operator: OperatorProcess = await startOperator({ cluster, authUrl: peer.url, name: options.prefix });
  let changes = 0;
  /**
   * Changes every tenant (each call a new value); false if the API server refused any of it. A
   * refused or cut-short apply may have changed some tenants and not others, so what every tenant
   * must converge to is read back from the API server afterwards, not assumed.
   */
  const changeAll = async (round: number): Promise<boolean> => {
    const wanted = names.map((n) =>
      tenantManifest(n, {
        server: { env: [{ name: 'ROUND', value: String(round) }], replicas: 1 + (round % 2) },
      }),
    );
    const applied = await cluster.kubectl(['apply', '-f', '-', '--request-timeout=5s'], {
      input: wanted.join('---\n'),
      timeoutMs: 15_000 + 2_000 * names.length,
    });
    // While the API server is down nothing can be read back; the change after the fault is.
    changes += await adoptServerSpecs(cluster, specs).catch(() => 0);
    return applied.code === 0;
  };
  try {
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: names.map((n) => tenantManifest(n, {})).join('---\n'),
    });
    await waitForTenantsReady(cluster, names, 60_000 + 5_000 * names.length);
    const dataUids = await recordDataUids(cluster);

    await changeAll(1); // in flight when the fault hits
    const startedAt = Date.now();
    if (fault === 'etcd-killed') {
      await stopComponent(cluster.cluster, 'etcd', { kill: true });
      log('etcd SIGKILLed');
      await waitForApiserverDown(cluster).catch(() => undefined); // /readyz fails once etcd is gone
      await changeAll(2); // refused while etcd is down: nothing to apply
      await startComponent(cluster.cluster, 'etcd');
      await waitFor(async () => (await apiserverReady(cluster)) || notYet(), {
        timeoutMs: 120_000,
        description: 'kube-apiserver ready again with etcd back',
      });
    } else if (fault === 'apiserver-restarted') {
      await stopComponent(cluster.cluster, 'kube-apiserver');
      log('kube-apiserver stopped');
      await startComponent(cluster.cluster, 'kube-apiserver');
    } else {
      await stopComponent(cluster.cluster, 'kwok', { kill: true });
      log('kwok SIGKILLed: nodes stop heartbeating');
      await waitFor(async () => (await nodesReady(cluster, false)) || notYet('nodes still Ready'), {
        timeoutMs: 180_000,
        intervalMs: 2_000,
        description: 'every node NotReady',
      });
      log('every node NotReady');
      await changeAll(2); // accepted: the API server is up, only the nodes are not
      await startComponent(cluster.cluster, 'kwok');
      await waitFor(async () => (await nodesReady(cluster, true)) || notYet('nodes still NotReady'), {
        timeoutMs: 180_000,
        intervalMs: 2_000,
        description: 'every node Ready again',
      });
    }
    const faultMs = Date.now() - startedAt;
    log(`fault over after ${faultMs} ms`);
    // Right after the fault; the API server may still refuse for a moment, so until it accepts.
    await waitFor(async () => (await changeAll(3)) || notYet('the change after the fault was refused'), {
      timeoutMs: 120_000,
      intervalMs: 2_000,
      description: 'the API server to accept a change of every tenant after the fault',
    });
    const recoveredAt = Date.now();
    await waitForTenantsReady(cluster, names, 120_000 + 5_000 * names.length);
    await waitForLastSpec(cluster, names, specs);
    const convergeMs = Date.now() - recoveredAt;
    const audit = await auditTenants({
      cluster,
      authUrl: peer.url,
      registered: peer.tenants(),
      deleted: [],
      dataUids,
    });
    return {
      fault,
      tenants: names.length,
      changes,
      faultMs,
      convergeMs,
      operatorSurvived: operator.child.exitCode === null && operator.child.signalCode === null,
      audit,
    };
  } finally {
    await cluster.kubectl(['delete', 'tenants', ...names, '--ignore-not-found', '--timeout=300s'], {
      timeoutMs: 320_000,
    });
    await operator.stop();
    await peer.close();
  }
}

/**
 * Takes each tenant's spec as the API server holds it (the truth after a partly applied change)
 * and returns how many specs changed from what was known.
 */
async function adoptServerSpecs(
  cluster: TestCluster,
  specs: Map<string, Record<string, unknown>>,
): Promise<number> {
  const list = await cluster.getJson<{
    items: Array<{ metadata: { name: string }; spec?: Record<string, unknown> }>;
  }>(['tenants']);
  let changed = 0;
  for (const t of list?.items ?? []) {
    if (!specs.has(t.metadata.name)) continue;
    const before = JSON.stringify(specs.get(t.metadata.name));
    specs.set(t.metadata.name, t.spec ?? {});
    if (JSON.stringify(t.spec ?? {}) !== before) changed++;
  }
  return changed;
}

/** Every tenant's server Deployment carries the env value of its last spec. */
async function waitForLastSpec(
  cluster: TestCluster,
  names: string[],
  specs: Map<string, Record<string, unknown>>,
): Promise<void> {
  await waitFor(
    async () => {
      for (const n of names) {
        const want = (specs.get(n)?.server as { env?: Array<{ value: string }> } | undefined)?.env?.[0]
          ?.value;
        const d = await cluster.getJson<{
          spec: {
            template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } };
          };
        }>(['deployment', `${n}-server`, '-n', `tenant-${n}`]);
        const have = d?.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'ROUND')?.value;
        if (have !== want) return notYet(`${n}: ROUND=${have}, want ${want}`);
      }
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 1_000, description: 'every tenant at its last spec' },
  );
}
