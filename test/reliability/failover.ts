// Failover: two replicas with leader election (as the shipped Deployment runs them, under the
// shipped ServiceAccount), tenants changing all the while, and the leader SIGKILLed again and
// again (a new replica starts each time, so there is always a standby). Each takeover is timed
// from the kill to the new leader's "became leader", and the API server's audit log proves that
// no two replicas' writes to tenant objects ever interleave: every write is attributed to its
// process by its user agent, `tenant-operator/<version> (<identity>)`.
import { open, stat } from 'node:fs/promises';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, metricValue, startOperator } from '../operator/harness.ts';
import { OPERATOR_NAMESPACE, OPERATOR_USER } from '../operator/service-account.ts';
import { installCrd, tenantManifest } from '../operator/tenants.ts';
import { type AuditResult, auditTenants } from './audit.ts';
import { waitForTenantsReady } from './chaos.ts';

export interface FailoverReport {
  kills: number;
  tenants: number;
  changes: number;
  /** Milliseconds from each SIGKILL of the leader to "became leader" of the next one. */
  takeoverMs: number[];
  /** Operator writes to tenant objects during the run, from the audit log, by replica. */
  writesByReplica: Record<string, number>;
  /** Each time the writing replica changed in the audit log, old → new (must follow the kills). */
  handovers: string[];
  /** Writes by a replica after another one had already written (must be none). */
  interleaved: string[];
  audit: AuditResult;
}

interface Replica {
  operator: OperatorProcess;
  identity: string;
}

interface AuditLine {
  stage?: string;
  verb?: string;
  userAgent?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; subresource?: string };
  requestReceivedTimestamp?: string;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete']);
/** Reconciles a leader completes before it is killed. */
const WORK_BEFORE_KILL = 8;

interface LogLine {
  msg?: string;
  time?: number;
  identity?: string;
}

async function logLines(operator: OperatorProcess): Promise<LogLine[]> {
  return (await operator.logs())
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** Starts replica `n`; it goes into `started` at once, so it is stopped even if it never reports. */
async function replica(
  cluster: TestCluster,
  authUrl: string,
  leaseId: string,
  n: number,
  started: OperatorProcess[],
): Promise<Replica> {
  const operator = await startOperator({
    cluster,
    authUrl,
    name: `failover-${n}`,
    args: [
      '--leader-elect',
      '--leader-election-namespace',
      OPERATOR_NAMESPACE,
      '--leader-election-id',
      leaseId,
    ],
  });
  started.push(operator);
  const identity = await waitFor(
    async () =>
      (await logLines(operator)).find((l) => l.msg === 'waiting for leadership')?.identity ?? notYet(),
    { timeoutMs: 30_000, description: `replica ${n} to log its identity` },
  );
  return { operator, identity };
}

async function leaseHolder(cluster: TestCluster, leaseId: string): Promise<string | undefined> {
  const lease = await cluster.getJson<{ spec?: { holderIdentity?: string } }>([
    'lease',
    leaseId,
    '-n',
    OPERATOR_NAMESPACE,
  ]);
  return lease?.spec?.holderIdentity || undefined;
}

/** The audit log's lines from byte `offset` on. */
async function auditSince(path: string, offset: number): Promise<AuditLine[]> {
  const size = (await stat(path)).size;
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    const lines = buffer.toString('utf8').split('\n');
    lines.pop(); // empty after the last newline, or a line the API server is still writing
    return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as AuditLine);
  } finally {
    await handle.close();
  }
}

const identityOf = (userAgent: string | undefined) => /\(([^)]+)\)\s*$/.exec(userAgent ?? '')?.[1];

export async function runFailover(options: {
  kills: number;
  tenants: number;
  log?: (line: string) => void;
}): Promise<FailoverReport> {
  const log = options.log ?? (() => {});
  const cluster = await useCluster();
  await installCrd(cluster);
  const peer: AuthPeer = await startAuthPeer({});
  const leaseId = uniqueName('failover');
  const prefix = uniqueName('fo');
  const names = Array.from({ length: options.tenants }, (_, i) => `${prefix}-${i}`);
  const auditOffset = (await stat(cluster.auditLogPath)).size;
  let n = 0;
  const replicas: Replica[] = [];
  const started: OperatorProcess[] = [];
  try {
    return await failoverWith(replicas);
  } finally {
    // Also when something above failed: Tenants left with finalizers and no operator would wait on
    // the next test's operator, and a replica left running would keep the test process alive.
    await cluster
      .kubectl(['delete', 'tenants', ...names, '--ignore-not-found', '--timeout=300s'], {
        timeoutMs: 320_000,
      })
      .catch(() => undefined);
    await Promise.allSettled(started.map((operator) => operator.stop()));
    await peer.close();
  }

  async function failoverWith(replicas: Replica[]): Promise<FailoverReport> {
    replicas.push(
      await replica(cluster, peer.url, leaseId, ++n, started),
      await replica(cluster, peer.url, leaseId, ++n, started),
    );
    const specs = new Map<string, Record<string, unknown>>(names.map((x) => [x, {}]));
    // Created before the churn starts: two kubectl applies creating the same Tenant race, and one
    // of them is told AlreadyExists.
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: names.map((x) => tenantManifest(x, {})).join('---\n'),
    });
    let changes = 0;
    let churning = true;
    const churn = (async () => {
      for (let round = 1; churning; round++) {
        const target = names[round % names.length]!;
        specs.set(target, {
          server: { replicas: 1 + (round % 2), env: [{ name: 'ROUND', value: String(round) }] },
        });
        const applied = await cluster.kubectl(['apply', '-f', '-'], {
          input: tenantManifest(target, specs.get(target)),
        });
        if (applied.code === 0) changes += 1;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    const takeoverMs: number[] = [];
    try {
      for (let k = 1; k <= options.kills; k++) {
        const holder = await waitFor(
          async () => (await leaseHolder(cluster, leaseId)) ?? notYet('no holder'),
          {
            timeoutMs: 60_000,
            description: 'a leader',
          },
        );
        const leader = replicas.find((r) => r.identity === holder);
        if (!leader) throw new Error(`the lease is held by ${holder}, which is none of the replicas`);
        // Each leader works a while before it dies: it has reconciled the churn for a few rounds.
        await waitFor(
          async () => {
            const done = metricValue(await leader.operator.metrics(), 'neurallog_operator_reconcile_total');
            return done >= WORK_BEFORE_KILL || notYet(`${done} reconciles`);
          },
          {
            timeoutMs: 60_000,
            description: `leader ${leader.identity} to reconcile ${WORK_BEFORE_KILL} times`,
          },
        );
        const killedAt = Date.now();
        await leader.operator.kill();
        replicas.splice(replicas.indexOf(leader), 1);
        // As with a Deployment, the replacement starts at once and races the standby for the lease:
        // whichever of them wins is the takeover.
        replicas.push(await replica(cluster, peer.url, leaseId, ++n, started));
        const { next, becameAt } = await waitFor(
          async () => {
            for (const r of replicas) {
              const time = (await logLines(r.operator)).find((l) => l.msg === 'became leader')?.time;
              if (time !== undefined) return { next: r, becameAt: time };
            }
            return notYet('no surviving replica leads yet');
          },
          { timeoutMs: 60_000, description: `a replica to take over from ${leader.identity}` },
        );
        takeoverMs.push(becameAt - killedAt);
        log(`kill ${k}/${options.kills}: ${next.identity} took over in ${becameAt - killedAt} ms`);
      }
    } finally {
      churning = false;
      await churn;
    }
    await waitForTenantsReady(cluster, names, 120_000 + 5_000 * names.length);

    // Who wrote what: only the operator's own requests to tenant objects and Tenant status.
    const writes = (await auditSince(cluster.auditLogPath, auditOffset))
      .filter(
        (e) =>
          e.stage === 'ResponseComplete' &&
          WRITES.has(e.verb ?? '') &&
          e.user?.username === OPERATOR_USER &&
          (e.objectRef?.namespace?.startsWith(`tenant-${prefix}-`) || e.objectRef?.resource === 'tenants'),
      )
      .sort((a, b) => (a.requestReceivedTimestamp ?? '').localeCompare(b.requestReceivedTimestamp ?? ''));
    const writesByReplica: Record<string, number> = {};
    const handovers: string[] = [];
    const interleaved: string[] = [];
    const finished = new Set<string>();
    let current: string | undefined;
    for (const w of writes) {
      const who = identityOf(w.userAgent) ?? `unknown (${w.userAgent ?? ''})`;
      writesByReplica[who] = (writesByReplica[who] ?? 0) + 1;
      if (who === current) continue;
      if (finished.has(who))
        interleaved.push(`${who} wrote again at ${w.requestReceivedTimestamp} after ${current} had written`);
      if (current) {
        finished.add(current);
        handovers.push(`${current} → ${who}`);
      }
      current = who;
    }

    const audit = await auditTenants({
      cluster,
      authUrl: peer.url,
      registered: peer.tenants(),
      deleted: [],
      scope: (id) => id.startsWith(`${prefix}-`),
    });
    return {
      kills: options.kills,
      tenants: names.length,
      changes,
      takeoverMs,
      writesByReplica,
      handovers,
      interleaved,
      audit,
    };
  }
}
