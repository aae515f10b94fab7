// Crash chaos: tenants created, changed (replicas, env, Redis config, network rules, plan) and
// deleted while the operator — run as installed, under its ServiceAccount — is SIGKILLed at random
// moments and started again. Afterwards the cluster is audited against the Tenants (audit.ts).
// The plan (specs, changes, the moments of the kills) comes from a seed, so a failing run can be
// repeated exactly.
import fc from 'fast-check';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, startOperator } from '../operator/harness.ts';
import { installCrd, tenantManifest } from '../operator/tenants.ts';
import { type AuditResult, type DataUids, auditTenants, recordDataUids } from './audit.ts';

export interface ChaosOptions {
  tenants: number;
  kills: number;
  deletions: number;
  seed: number;
  /** How long the convergence after the last kill may take. */
  convergeTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  tenants: number;
  kills: number;
  deletions: number;
  changes: number;
  /** Milliseconds from the last restart until every tenant was Running and every deletion done. */
  convergeMs: number;
  /** Operator processes that did not stop by SIGKILL (crashes of their own), with their exit. */
  unexpectedExits: string[];
  audit: AuditResult;
}

type Spec = Record<string, unknown>;

const change = fc.oneof(
  fc.record({ server: fc.record({ replicas: fc.integer({ min: 1, max: 3 }) }) }),
  fc.record({
    server: fc.record({
      env: fc.uniqueArray(
        fc.record({
          name: fc.constantFrom('LOG_LEVEL', 'FEATURE_X', 'MODE'),
          value: fc.constantFrom('debug', 'on', 'a b'),
        }),
        {
          maxLength: 3,
          selector: (e) => e.name,
        },
      ),
    }),
  }),
  fc.record({
    redis: fc.record({
      config: fc.record({ 'maxmemory-policy': fc.constantFrom('allkeys-lru', 'noeviction', 'volatile-lru') }),
    }),
  }),
  fc.record({
    networkPolicy: fc.record({
      allowWebEgress: fc.boolean(),
      ingressRules: fc.array(
        fc.record({
          from: fc.record({ app: fc.constantFrom('a', 'b') }),
          ports: fc.constant([{ port: 8080 }]),
        }),
        { maxLength: 2 },
      ),
    }),
  }),
  fc.record({ planId: fc.constantFrom('starter', 'professional') }),
);

/** A tenant's starting spec and the changes made to it during the chaos. */
const tenantPlan = fc.record({ initial: change, changes: fc.array(change, { maxLength: 3 }) });

/** Deep merge of plain objects; arrays and scalars are replaced. */
function merge(base: Spec, patch: Spec): Spec {
  const out: Spec = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current)
        ? merge(current as Spec, value as Spec)
        : value;
  }
  return out;
}

interface Step {
  kind: 'create' | 'change' | 'delete';
  tenant: string;
  spec?: Spec;
}

export async function runCrashChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const { seed } = options;
  const cluster: TestCluster = await useCluster();
  await installCrd(cluster);
  const peer: AuthPeer = await startAuthPeer({});
  const names = Array.from({ length: options.tenants }, (_, i) => `chaos${seed}-${i}`);
  const plans = fc.sample(tenantPlan, { seed, numRuns: options.tenants });
  const specs = new Map<string, Spec>(names.map((n, i) => [n, plans[i]!.initial]));
  const toDelete = new Set(names.slice(names.length - options.deletions));
  const firstHalf = names.slice(0, Math.ceil(names.length / 2));
  const secondHalf = names.slice(firstHalf.length);

  // The steps of the chaos, in a seeded order: the second half is created, every tenant's changes
  // are made, the chosen ones deleted; the kills fall between steps, at seeded moments.
  const steps: Step[] = [
    ...secondHalf.map((tenant) => ({ kind: 'create' as const, tenant })),
    ...names.flatMap((tenant, i) =>
      plans[i]!.changes.map((c) => ({ kind: 'change' as const, tenant, spec: c })),
    ),
    ...[...toDelete].map((tenant) => ({ kind: 'delete' as const, tenant })),
  ];
  const drawn = fc.sample(fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }), {
    seed,
    numRuns: 1,
  })[0]!;
  // A tenant is created before anything else happens to it, and nothing happens to it once deleted
  // (an apply then would make it again).
  const order: Step[] = [];
  const uncreated = new Set(secondHalf);
  const gone = new Set<string>();
  for (const step of drawn) {
    if (gone.has(step.tenant)) continue;
    if (step.kind === 'create' && !uncreated.has(step.tenant)) continue;
    if (uncreated.delete(step.tenant) && step.kind !== 'create')
      order.push({ kind: 'create', tenant: step.tenant });
    if (step.kind === 'delete') gone.add(step.tenant);
    order.push(step);
  }
  const killAfter = new Set(
    fc.sample(
      fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, order.length - 1) }), {
        minLength: Math.min(options.kills, order.length),
        maxLength: Math.min(options.kills, order.length),
      }),
      { seed, numRuns: 1 },
    )[0],
  );
  const pauses = fc.sample(fc.integer({ min: 0, max: 1500 }), { seed, numRuns: Math.max(1, order.length) });

  let operator: OperatorProcess = await startOperator({ cluster, authUrl: peer.url, name: `chaos-${seed}` });
  const unexpectedExits: string[] = [];
  const dataUids: DataUids = new Map();
  const apply = (list: string[]) =>
    cluster.kubectlOk(['apply', '-f', '-'], {
      input: list.map((n) => tenantManifest(n, specs.get(n) ?? {})).join('---\n'),
    });

  try {
    log(
      `seed ${seed}: ${firstHalf.length} tenants first, then ${order.length} steps with ${killAfter.size} kills`,
    );
    await apply(firstHalf);
    await waitForTenantsReady(cluster, firstHalf, 60_000 + 3_000 * firstHalf.length);
    await recordDataUids(cluster, dataUids);

    let kills = 0;
    for (const [i, step] of order.entries()) {
      if (step.kind === 'create') await apply([step.tenant]);
      else if (step.kind === 'change') {
        specs.set(step.tenant, merge(specs.get(step.tenant) ?? {}, step.spec ?? {}));
        await apply([step.tenant]);
      } else await cluster.kubectlOk(['delete', 'tenant', step.tenant, '--wait=false']);
      if (!killAfter.has(i)) continue;
      await new Promise((resolve) => setTimeout(resolve, pauses[i] ?? 0));
      await recordDataUids(cluster, dataUids);
      const exit = await operator.kill();
      if (exit !== 'SIGKILL') unexpectedExits.push(`before kill ${kills + 1}: ${String(exit)}`);
      kills += 1;
      log(
        `kill ${kills}/${killAfter.size} after step ${i + 1}/${order.length} (${step.kind} ${step.tenant})`,
      );
      operator = await startOperator({ cluster, authUrl: peer.url, name: `chaos-${seed}` });
    }

    const restartedAt = Date.now();
    const live = names.filter((n) => !toDelete.has(n));
    const timeoutMs = options.convergeTimeoutMs ?? 120_000 + 3_000 * names.length;
    await waitForTenantsReady(cluster, live, timeoutMs);
    await waitFor(
      async () => {
        for (const n of toDelete)
          if (await cluster.getJson(['namespace', `tenant-${n}`]))
            return notYet(`namespace tenant-${n} still exists`);
        for (const n of toDelete)
          if (await cluster.getJson(['tenant', n])) return notYet(`tenant ${n} still exists`);
        return true;
      },
      { timeoutMs, intervalMs: 1_000, description: 'every deleted tenant and its namespace gone' },
    );
    const convergeMs = Date.now() - restartedAt;
    await recordDataUids(cluster, dataUids);
    if (operator.child.exitCode !== null) unexpectedExits.push(`at the end: ${operator.child.exitCode}`);
    const audit = await auditTenants({
      cluster,
      authUrl: peer.url,
      registered: peer.tenants(),
      deleted: toDelete,
      dataUids,
    });
    return {
      seed,
      tenants: names.length,
      kills,
      deletions: toDelete.size,
      changes: order.filter((s) => s.kind === 'change').length,
      convergeMs,
      unexpectedExits,
      audit,
    };
  } finally {
    await operator.stop();
    const left = names.filter((n) => !toDelete.has(n));
    const restart = await startOperator({ cluster, authUrl: peer.url, name: `chaos-${seed}-cleanup` });
    await cluster.kubectl(['delete', 'tenants', ...left, '--ignore-not-found', '--timeout=300s'], {
      timeoutMs: 320_000,
    });
    await restart.stop();
    await peer.close();
  }
}

/** Waits until every named tenant is Running and Ready for its current generation. */
export async function waitForTenantsReady(
  cluster: TestCluster,
  names: string[],
  timeoutMs: number,
): Promise<void> {
  const wanted = new Set(names);
  await waitFor(
    async () => {
      const list = await cluster.getJson<{
        items: Array<{
          metadata: { name: string; generation?: number };
          status?: {
            phase?: string;
            observedGeneration?: number;
            conditions?: Array<{ type: string; status: string }>;
          };
        }>;
      }>(['tenants']);
      const notReady = [...wanted].filter((n) => {
        const t = list?.items.find((x) => x.metadata.name === n);
        return !(
          t?.status?.phase === 'Running' &&
          t.status.observedGeneration === t.metadata.generation &&
          (t.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
        );
      });
      return (
        notReady.length === 0 || notYet(`${notReady.length} not ready: ${notReady.slice(0, 5).join(', ')}`)
      );
    },
    { timeoutMs, intervalMs: 1_000, description: `${names.length} tenants Running and Ready` },
  );
}
