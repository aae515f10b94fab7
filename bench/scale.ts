// Scale benchmark: N tenants created at once against the real operator process on the local
// control plane. Measures time to Running/Ready, the operator's API requests (from the API
// server's audit log), reconciles, memory and CPU, one full resync of the steady tenants, and
// deletion. Figures go to bench/results/<date>-scale-<N>.json; nothing here asserts on them.
//
//   NEURALLOG_CLUSTER_DIR=/tmp/bench-cluster node bench/scale.ts [--tenants 50] [--resync-period 20s]
//
// Without NEURALLOG_CLUSTER_DIR the benchmark uses its own cluster in $TMPDIR/neurallog-bench-cluster
// (never the shared test cluster). The cluster is left running; stop it with
//   NEURALLOG_CLUSTER_DIR=... node test/cluster/cli.ts down
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AuditEvent,
  JsonLinesTail,
  type RequestCounts,
  countRequests,
  isOperator,
} from './lib/audit.ts';
import { createBenchKube, type BenchKube } from './lib/kube.ts';
import { loadAverages, machineInfo } from './lib/machine.ts';
import { distribution, round } from './lib/stats.ts';
import { parseDuration } from '../src/cli/duration.ts';
import { startAuthPeer } from '../test/auth-peer/peer.ts';
import { groupRssBytes } from '../test/cluster/processes.ts';
import { useCluster } from '../test/cluster/fixture.ts';
import { metricValue, startOperator } from '../test/operator/harness.ts';
import { installCrd } from '../test/operator/tenants.ts';

// The fixture and the harness read this when called (not when imported): never the shared cluster.
process.env['NEURALLOG_CLUSTER_DIR'] ||= join(tmpdir(), 'neurallog-bench-cluster');

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string', default: '50' },
    'resync-period': { type: 'string', default: '20s' },
    'poll-ms': { type: 'string', default: '200' },
    'timeout-s': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    'usage: node bench/scale.ts [--tenants N] [--resync-period 20s] [--poll-ms 200] [--timeout-s S] [--out file.json]',
  );
  process.exit(0);
}
const N = Number(flags.tenants);
if (!Number.isInteger(N) || N < 1)
  throw new Error(`--tenants: expected a positive integer, got ${flags.tenants}`);
const POLL_MS = Number(flags['poll-ms']);
const RESYNC = flags['resync-period'];
const RESYNC_MS = parseDuration('--resync-period', RESYNC);
const TIMEOUT_MS = Number(flags['timeout-s'] ?? 300 + 6 * N) * 1000;

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => round(ms / 1000, 3);
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

interface TenantItem {
  metadata: { name: string; creationTimestamp: string; generation?: number };
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string }>;
  };
}
interface List<T> {
  items: T[];
}
interface OperatorLogLine {
  time?: number;
  msg?: string;
  informer?: string;
  objects?: number;
  tenant?: string;
  durationMs?: number;
  result?: string;
  level?: number;
  err?: { message?: string; type?: string };
}

const TENANTS_PATH = '/apis/neurallog.io/v1/tenants';

// ---------------------------------------------------------------------------------------------
// Process CPU (each control-plane component) from /proc; memory from the cluster's own
// process-group RSS (test/cluster/processes.ts).

const CLK_TCK = 100;
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return Number.NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
  } catch {
    return Number.NaN;
  }
}
// ---------------------------------------------------------------------------------------------

interface MetricsSnapshot {
  at: number;
  reconcileTotal: number;
  reconcileByResult: Record<string, number>;
  reconcileDurationSum: number;
  reconcileDurationCount: number;
  reconcileErrors: number;
  workqueueDepth: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpuSeconds: number;
  authRequests: number;
  driftCorrections: number;
}

async function snapshot(metrics: () => Promise<string>): Promise<MetricsSnapshot> {
  const text = await metrics();
  const m = (name: string, labels: Record<string, string> = {}) => metricValue(text, name, labels);
  return {
    at: Date.now(),
    reconcileTotal: m('neurallog_operator_reconcile_total'),
    reconcileByResult: {
      success: m('neurallog_operator_reconcile_total', { result: 'success' }),
      error: m('neurallog_operator_reconcile_total', { result: 'error' }),
      requeue: m('neurallog_operator_reconcile_total', { result: 'requeue' }),
    },
    reconcileDurationSum: m('neurallog_operator_reconcile_duration_seconds_sum'),
    reconcileDurationCount: m('neurallog_operator_reconcile_duration_seconds_count'),
    reconcileErrors: m('neurallog_operator_reconcile_errors_total'),
    workqueueDepth: m('neurallog_operator_workqueue_depth'),
    rssBytes: m('process_resident_memory_bytes'),
    heapUsedBytes: m('nodejs_heap_size_used_bytes'),
    cpuSeconds: m('process_cpu_seconds_total'),
    authRequests: m('neurallog_operator_auth_requests_total'),
    driftCorrections: m('neurallog_operator_drift_corrections_total'),
  };
}

function reconcileDelta(a: MetricsSnapshot, b: MetricsSnapshot) {
  const count = b.reconcileDurationCount - a.reconcileDurationCount;
  const sum = b.reconcileDurationSum - a.reconcileDurationSum;
  return {
    reconciles: b.reconcileTotal - a.reconcileTotal,
    byResult: Object.fromEntries(
      Object.keys(b.reconcileByResult).map((k) => [
        k,
        (b.reconcileByResult[k] ?? 0) - (a.reconcileByResult[k] ?? 0),
      ]),
    ),
    durationSumSeconds: round(sum, 3),
    durationMeanMs: count > 0 ? round((sum / count) * 1000, 2) : null,
    operatorCpuSeconds: round(b.cpuSeconds - a.cpuSeconds, 2),
    authRequests: b.authRequests - a.authRequests,
    driftCorrections: b.driftCorrections - a.driftCorrections,
  };
}

function requestSummary(counts: RequestCounts, tenants: number) {
  return {
    writes: counts.writes,
    writesPerTenant: round(counts.writes / tenants, 2),
    reads: counts.reads,
    readsPerTenant: round(counts.reads / tenants, 2),
    watchesOpened: counts.watchesOpened,
    writesBy: counts.writesBy,
    readsBy: counts.readsBy,
    writeStatus: counts.writeStatus,
    failedWritesBy: counts.failedWritesBy,
  };
}

function problemCounts(lines: readonly OperatorLogLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of lines) {
    const key = `${l.msg ?? ''}: ${(l.err?.message ?? '').replace(/[0-9a-f]{4}-\d+/g, '<name>').slice(0, 200)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Per-reconcile durations (ms) from the operator's debug lines `reconciled`. */
function reconcileLines(lines: readonly OperatorLogLine[]) {
  const done = lines.filter((l) => l.msg === 'reconciled' && typeof l.durationMs === 'number');
  const perTenant = new Map<string, number>();
  for (const l of done) if (l.tenant) perTenant.set(l.tenant, (perTenant.get(l.tenant) ?? 0) + 1);
  return {
    count: done.length,
    durationMs: distribution(
      done.map((l) => l.durationMs!),
      1,
    ),
    reconcilesPerTenant: distribution([...perTenant.values()], 1),
    errors: lines.filter((l) => (l.level ?? 0) >= 50).length,
    warnings: lines.filter((l) => l.level === 40).length,
    /** First 200 characters of each distinct error/warning message, with its count. */
    problems: problemCounts(lines.filter((l) => (l.level ?? 0) >= 40)),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo();
  const loads: Record<string, ReturnType<typeof loadAverages>> = { start: loadAverages() };
  log(`cluster dir ${process.env['NEURALLOG_CLUSTER_DIR']}; ${N} tenants; load ${loads['start']!.load1}`);

  const cluster = await useCluster();
  await installCrd(cluster);
  const kube: BenchKube = createBenchKube(cluster.server, cluster.cluster.state.tls);
  const leftovers = (await kube.getJson<List<TenantItem>>(TENANTS_PATH)).items;
  if (leftovers.length > 0) {
    throw new Error(
      `the bench cluster already has ${leftovers.length} Tenant(s) (${leftovers
        .slice(0, 3)
        .map((t) => t.metadata.name)
        .join(
          ', ',
        )}...); start from a fresh one: NEURALLOG_CLUSTER_DIR=${process.env['NEURALLOG_CLUSTER_DIR']} node test/cluster/cli.ts down`,
    );
  }
  const cpPids = Object.fromEntries(cluster.cluster.state.processes.map((p) => [p.name, p.pid]));
  const controlPlaneCpu = async () =>
    Object.fromEntries(
      await Promise.all(Object.entries(cpPids).map(async ([name, pid]) => [name, await cpuSeconds(pid)])),
    ) as Record<string, number>;
  // Each component leads its own process group (pgid = pid).
  const controlPlaneRss = (): Record<string, number> =>
    Object.fromEntries(Object.entries(cpPids).map(([name, pid]) => [name, mib(groupRssBytes(pid))]));
  const cpuDelta = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.keys(b).map((k) => [k, round((b[k] ?? 0) - (a[k] ?? 0), 2)]));

  const peer = await startAuthPeer({});
  const operatorArgs = ['--resync-period', RESYNC];
  const operator = await startOperator({
    cluster,
    authUrl: peer.url,
    name: `bench-scale-${N}`,
    args: operatorArgs,
  });
  log(`operator pid ${operator.child.pid} ready; log ${operator.logFile}`);
  const opLog = new JsonLinesTail<OperatorLogLine>(operator.logFile);
  const audit = new JsonLinesTail<AuditEvent>(cluster.auditLogPath);
  const metrics = () => snapshot(() => operator.metrics());

  const runId = randomBytes(2).toString('hex');
  const names = Array.from({ length: N }, (_, i) => `bench-${runId}-${i}`);
  const wanted = new Set(names);
  let created = false;

  try {
    await sleep(2000); // let the operator's start-up (caches, first list) finish
    const idle = await metrics();
    const cpIdle = await controlPlaneCpu();
    loads['beforeCreate'] = loadAverages();
    await audit.skipToEnd();
    const mark0 = await audit.mark();
    const logMark0 = await opLog.mark();

    // ---- provisioning ---------------------------------------------------------------------
    const createdAt = new Map<string, number>();
    const creationTimestamp = new Map<string, number>();
    const firstStatus = new Map<string, number>();
    const firstRunning = new Map<string, number>();
    const firstReady = new Map<string, number>();
    const tCreate = Date.now();
    log(`creating ${N} tenants at once`);
    created = true;
    const creating = Promise.all(
      names.map(async (name, i) => {
        const res = await kube.request('POST', TENANTS_PATH, {
          apiVersion: 'neurallog.io/v1',
          kind: 'Tenant',
          metadata: { name },
          spec: { displayName: `Bench tenant ${i}`, description: 'created by bench/scale.ts' },
        });
        if (res.status !== 201)
          throw new Error(`create ${name}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
        createdAt.set(name, Date.now());
      }),
    ).then(() => Date.now());

    let polls = 0;
    const deadline = tCreate + TIMEOUT_MS;
    let allRunningAt: number | undefined;
    while (firstReady.size < N) {
      const pollStart = Date.now();
      if (pollStart > deadline)
        throw new Error(`timed out: ${firstRunning.size}/${N} Running, ${firstReady.size}/${N} Ready`);
      const list = await kube.getJson<List<TenantItem>>(TENANTS_PATH);
      const seen = Date.now();
      polls++;
      for (const t of list.items) {
        const name = t.metadata.name;
        if (!wanted.has(name)) continue;
        if (!creationTimestamp.has(name))
          creationTimestamp.set(name, Date.parse(t.metadata.creationTimestamp));
        if (t.status && !firstStatus.has(name)) firstStatus.set(name, seen);
        const current = t.status?.observedGeneration === t.metadata.generation;
        const running = current && t.status?.phase === 'Running';
        if (running && !firstRunning.has(name)) firstRunning.set(name, seen);
        const ready = running && t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready && !firstReady.has(name)) firstReady.set(name, seen);
      }
      if (allRunningAt === undefined && firstRunning.size === N) allRunningAt = seen;
      if (polls % Math.max(1, Math.round(5000 / POLL_MS)) === 0)
        log(`${firstStatus.size} with status, ${firstRunning.size} Running, ${firstReady.size} Ready`);
      await sleep(Math.max(0, pollStart + POLL_MS - Date.now()));
    }
    const createsDoneAt = await creating;
    const allReadyAt = Date.now();
    const markReady = await audit.mark();
    const logMarkReady = await opLog.mark();
    const atReady = await metrics();
    const cpReady = await controlPlaneCpu();
    loads['afterReady'] = loadAverages();
    log(`all ${N} Running and Ready after ${seconds(allReadyAt - tCreate)} s`);

    const perTenant = (from: Map<string, number>, to: Map<string, number>) =>
      distribution(
        names.map((n) => (to.get(n)! - from.get(n)!) / 1000),
        3,
      );

    // ---- resync ------------------------------------------------------------------------------
    // A resync is the tenants informer's debug line `resync`; it is complete when every tenant has
    // a `reconciled` line after it. The first one finishes whatever converging was left (the
    // "settle" window); the second is the measured one.
    const waitForResync = async (what: string): Promise<{ startIndex: number; startTime: number }> => {
      const from = opLog.events.length;
      const limit = Date.now() + 3 * RESYNC_MS + TIMEOUT_MS;
      let start = -1;
      for (;;) {
        if (Date.now() > limit) throw new Error(`timed out waiting for ${what}`);
        await opLog.mark();
        if (start < 0) {
          for (let i = from; i < opLog.events.length; i++) {
            const l = opLog.events[i]!;
            if (l.msg === 'resync' && l.informer === 'tenants' && l.objects === N) {
              start = i;
              break;
            }
          }
        }
        if (start >= 0) {
          const done = new Set<string>();
          for (let i = start + 1; i < opLog.events.length; i++) {
            const l = opLog.events[i]!;
            if (l.msg === 'reconciled' && l.tenant && wanted.has(l.tenant)) done.add(l.tenant);
          }
          if (done.size === N) return { startIndex: start, startTime: opLog.events[start]!.time ?? 0 };
        }
        await sleep(POLL_MS);
      }
    };
    log('waiting for a first full resync (settle)');
    await waitForResync('the first resync');
    const markSettled = await audit.mark();
    const logMarkSettled = opLog.events.length;
    const settled = await metrics();
    loads['afterSettle'] = loadAverages();
    log('waiting for the measured full resync');
    const measured = await waitForResync('the measured resync');
    const markResynced = await audit.mark();
    const logMarkResynced = opLog.events.length;
    const resynced = await metrics();
    const cpResynced = await controlPlaneCpu();
    const cpRssSteady = controlPlaneRss();
    loads['afterResync'] = loadAverages();
    const resyncLines = opLog.events.slice(measured.startIndex, logMarkResynced);
    const resyncSpanMs =
      (resyncLines.filter((l) => l.msg === 'reconciled').at(-1)?.time ?? measured.startTime) -
      measured.startTime;
    log('resync measured');

    // ---- deletion ----------------------------------------------------------------------------
    const nsGone = new Map<string, number>();
    const tenantGone = new Map<string, number>();
    const deleteSent = new Map<string, number>();
    const tDelete = Date.now();
    log(`deleting ${N} tenants`);
    await Promise.all(
      names.map(async (name) => {
        const res = await kube.request('DELETE', `${TENANTS_PATH}/${name}`);
        if (res.status !== 200 && res.status !== 202)
          throw new Error(`delete ${name}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
        deleteSent.set(name, Date.now());
      }),
    );
    const deletesDoneAt = Date.now();
    while (nsGone.size < N || tenantGone.size < N) {
      const pollStart = Date.now();
      if (pollStart > tDelete + TIMEOUT_MS)
        throw new Error(
          `timed out deleting: ${nsGone.size}/${N} namespaces gone, ${tenantGone.size}/${N} tenants gone`,
        );
      const [tenants, namespaces] = await Promise.all([
        kube.getJson<List<TenantItem>>(TENANTS_PATH),
        kube.getJson<List<{ metadata: { name: string } }>>('/api/v1/namespaces'),
      ]);
      const seen = Date.now();
      const tenantNames = new Set(tenants.items.map((t) => t.metadata.name));
      const nsNames = new Set(namespaces.items.map((n) => n.metadata.name));
      for (const name of names) {
        if (!tenantNames.has(name) && !tenantGone.has(name)) tenantGone.set(name, seen);
        if (!nsNames.has(`tenant-${name}`) && !nsGone.has(name)) nsGone.set(name, seen);
      }
      await sleep(Math.max(0, pollStart + POLL_MS - Date.now()));
    }
    const allGoneAt = Date.now();
    created = false;
    const markDeleted = await audit.mark();
    const logMarkDeleted = await opLog.mark();
    const deleted = await metrics();
    const cpDeleted = await controlPlaneCpu();
    loads['afterDelete'] = loadAverages();
    log(`all namespaces gone after ${seconds(Math.max(...nsGone.values()) - tDelete)} s`);

    // ---- summary -----------------------------------------------------------------------------
    const ev = audit.events;
    const untilReady = countRequests(ev.slice(mark0, markReady), isOperator);
    const settleTail = countRequests(ev.slice(markReady, markSettled), isOperator);
    const provisioning = countRequests(ev.slice(mark0, markSettled), isOperator);
    const resync = countRequests(ev.slice(markSettled, markResynced), isOperator);
    const deletion = countRequests(ev.slice(markResynced, markDeleted), isOperator);
    const peerCalls = peer.calls();
    const countCalls = (method: string) => peerCalls.filter((c) => c.method === method).length;

    const result = {
      benchmark: 'scale',
      tenants: N,
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      settings: {
        operatorArgs: ['--log-level', 'debug', ...operatorArgs, '(concurrency default 4)'],
        pollMs: POLL_MS,
        tenantSpec: { displayName: 'Bench tenant <i>', description: 'created by bench/scale.ts' },
        clusterDir: process.env['NEURALLOG_CLUSTER_DIR'],
      },
      machine,
      load: loads,
      provisioning: {
        createRequestsSeconds: seconds(createsDoneAt - tCreate),
        allRunningSeconds: seconds((allRunningAt ?? allReadyAt) - tCreate),
        allReadySeconds: seconds(allReadyAt - tCreate),
        timeToRunningSeconds: {
          fromCreationTimestamp: perTenant(creationTimestamp, firstRunning),
          fromCreateResponse: perTenant(createdAt, firstRunning),
        },
        timeToReadySeconds: {
          fromCreationTimestamp: perTenant(creationTimestamp, firstReady),
          fromCreateResponse: perTenant(createdAt, firstReady),
        },
        timeToFirstStatusSeconds: { fromCreateResponse: perTenant(createdAt, firstStatus) },
        operatorRequests: {
          untilAllReady: requestSummary(untilReady, N),
          afterReadyUntilFirstResyncDone: requestSummary(settleTail, N),
          total: requestSummary(provisioning, N),
        },
        reconcileMetrics: {
          untilAllReady: reconcileDelta(idle, atReady),
          untilFirstResyncDone: reconcileDelta(idle, settled),
        },
        reconcileLog: {
          untilAllReady: reconcileLines(opLog.events.slice(logMark0, logMarkReady)),
          untilFirstResyncDone: reconcileLines(opLog.events.slice(logMark0, logMarkSettled)),
        },
        operatorRssMiB: { idle: mib(idle.rssBytes), afterAllReady: mib(atReady.rssBytes) },
        operatorHeapUsedMiB: { idle: mib(idle.heapUsedBytes), afterAllReady: mib(atReady.heapUsedBytes) },
        controlPlaneCpuSeconds: cpuDelta(cpIdle, cpReady),
        authPeerCalls: { POST: countCalls('POST'), GET: countCalls('GET') },
      },
      resync: {
        resyncPeriod: RESYNC,
        windowSeconds: seconds(resynced.at - settled.at),
        reconcileSpanSeconds: seconds(resyncSpanMs),
        operatorRequests: requestSummary(resync, N),
        reconcileMetrics: reconcileDelta(settled, resynced),
        reconcileLog: reconcileLines(opLog.events.slice(logMarkSettled, logMarkResynced)),
        operatorRssMiB: mib(resynced.rssBytes),
        operatorHeapUsedMiB: mib(resynced.heapUsedBytes),
        controlPlaneRssMiB: cpRssSteady,
        controlPlaneCpuSeconds: cpuDelta(cpReady, cpResynced),
      },
      deletion: {
        deleteRequestsSeconds: seconds(deletesDoneAt - tDelete),
        allNamespacesGoneSeconds: seconds(Math.max(...nsGone.values()) - tDelete),
        allTenantsGoneSeconds: seconds(Math.max(...tenantGone.values()) - tDelete),
        totalSeconds: seconds(allGoneAt - tDelete),
        namespaceGoneSeconds: perTenant(deleteSent, nsGone),
        tenantGoneSeconds: perTenant(deleteSent, tenantGone),
        operatorRequests: requestSummary(deletion, N),
        reconcileMetrics: reconcileDelta(resynced, deleted),
        reconcileLog: reconcileLines(opLog.events.slice(logMarkResynced, logMarkDeleted)),
        operatorRssMiB: mib(deleted.rssBytes),
        controlPlaneCpuSeconds: cpuDelta(cpResynced, cpDeleted),
        authPeerCallsDelete: countCalls('DELETE'),
      },
      notes: [
        'creationTimestamp has 1 s resolution (truncated), so times measured from it are up to 1 s longer than from the create response.',
        'Per-tenant times are to the first 200 ms poll (a LIST of all Tenants) that saw the state, with observedGeneration current.',
        'Operator requests: audit events whose userAgent contains "tenant-operator" (stage ResponseComplete; watches counted when opened, stage ResponseStarted). The audit policy leaves out Leases, so leader-election traffic is not counted (leader election is off here anyway).',
      ],
    };

    const outDir = join(import.meta.dirname, 'results');
    await mkdir(outDir, { recursive: true });
    let out = flags.out;
    if (!out) {
      const base = `${startedAt.toISOString().slice(0, 10)}-scale-${N}`;
      out = join(outDir, `${base}.json`);
      for (let i = 2; existsSync(out); i++) out = join(outDir, `${base}-${i}.json`);
    }
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
    console.log(JSON.stringify(headline(result), null, 2));
  } finally {
    if (created) {
      log('cleaning up tenants after a failure');
      await Promise.all(
        names.map((n) => kube.request('DELETE', `${TENANTS_PATH}/${n}`).catch(() => undefined)),
      );
      const until = Date.now() + 180_000;
      while (Date.now() < until) {
        const left = (await kube.getJson<List<TenantItem>>(TENANTS_PATH)).items.filter((t) =>
          wanted.has(t.metadata.name),
        );
        if (left.length === 0) break;
        await sleep(1000);
      }
    }
    await operator.stop();
    await peer.close();
    kube.close();
  }
}

interface Headline {
  tenants: number;
  provisioning: {
    allReadySeconds: number;
    timeToRunningSeconds: { fromCreateResponse: unknown };
    operatorRequests: { total: { writesPerTenant: number; readsPerTenant: number } };
    operatorRssMiB: unknown;
  };
  resync: { operatorRequests: { writes: number; reads: number }; operatorRssMiB: number };
  deletion: { allNamespacesGoneSeconds: number };
  load: unknown;
}
function headline(r: Headline) {
  return {
    tenants: r.tenants,
    allReadySeconds: r.provisioning.allReadySeconds,
    timeToRunning: r.provisioning.timeToRunningSeconds.fromCreateResponse,
    writesPerTenant: r.provisioning.operatorRequests.total.writesPerTenant,
    readsPerTenant: r.provisioning.operatorRequests.total.readsPerTenant,
    resyncWrites: r.resync.operatorRequests.writes,
    resyncReads: r.resync.operatorRequests.reads,
    rssMiB: { ...(r.provisioning.operatorRssMiB as object), afterResync: r.resync.operatorRssMiB },
    allNamespacesGoneSeconds: r.deletion.allNamespacesGoneSeconds,
    load: r.load,
  };
}

await main();
