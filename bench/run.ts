// `npm run bench`: N tenants on a control plane of their own, the operator measured against the
// floor (the same rendered objects written by a minimal client) in the same run:
//   1. floor: server-side apply of every tenant's objects at the operator's concurrency, until
//      every Deployment and StatefulSet is ready; then delete and wait for the namespaces to go;
//   2. operator: N Tenants at once, until each is Running with Ready=True; requests from the
//      audit log; RSS, heap, CPU, event-loop delay from its /metrics;
//   3. steady state for --steady-s (two resyncs fit in the default): writes, reads, RSS, one
//      /metrics scrape;
//   4. one change at a time (--changes tries): server replicas patched, until the status shows them;
//   5. restart with N tenants present: until synced and every tenant reconciled once; writes made;
//   6. delete all N: until every namespace is gone.
// Results go to bench/results/<date>-<N>.json; `node bench/report.ts` makes RESULTS.md and charts.
//
//   node bench/run.ts --tenants 100 [--concurrency 4] [--steady-s 300] [--resync-period 2m] [--changes 20]
//
// The control plane lives in /tmp/neurallog-bench-<N> unless NEURALLOG_CLUSTER_DIR is set, with
// kwok nodes sized for N (two pods per tenant plus room); it is left running for inspection.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AuditEvent, JsonLinesTail, countRequests, isOperator, resourceKey } from './lib/audit.ts';
import { runFloor } from './lib/floor.ts';
import { createBenchKube } from './lib/kube.ts';
import { loadAverages, machineInfo } from './lib/machine.ts';
import { PODS_PER_NODE, kwokNodesFor } from './lib/setup.ts';
import { distribution, percentile, round } from './lib/stats.ts';
import { parseDuration } from '../src/cli/duration.ts';
import { startAuthPeer } from '../test/auth-peer/peer.ts';
import { useCluster } from '../test/cluster/fixture.ts';
import { type OperatorProcess, metricValue, startOperator } from '../test/operator/harness.ts';
import { installCrd } from '../test/operator/tenants.ts';

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    'steady-s': { type: 'string', default: '300' },
    'resync-period': { type: 'string', default: '2m' },
    changes: { type: 'string', default: '20' },
    'poll-ms': { type: 'string', default: '200' },
    out: { type: 'string' },
  },
});
const N = Number(flags.tenants);
if (!Number.isInteger(N) || N < 1)
  throw new Error(`--tenants: expected a positive integer, got ${flags.tenants}`);
const CONCURRENCY = Number(flags.concurrency);
const STEADY_MS = Number(flags['steady-s']) * 1000;
const RESYNC = flags['resync-period'];
const RESYNC_MS = parseDuration('--resync-period', RESYNC);
const CHANGES = Math.min(Number(flags.changes), N);
const POLL_MS = Number(flags['poll-ms']);
const TIMEOUT_MS = (300 + 3 * N) * 1000;
const NODES = kwokNodesFor(N);

process.env['NEURALLOG_CLUSTER_DIR'] ||= join(tmpdir(), `neurallog-bench-${N}`);

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
const TENANTS = '/apis/neurallog.io/v1/tenants';

interface TenantItem {
  metadata: { name: string; generation?: number };
  spec?: { server?: { replicas?: number } };
  status?: {
    phase?: string;
    namespace?: string;
    observedGeneration?: number;
    serverStatus?: { readyReplicas?: number };
    conditions?: Array<{ type: string; status: string }>;
  };
}

const isReady = (t: TenantItem) =>
  t.status?.observedGeneration === t.metadata.generation &&
  t.status?.phase === 'Running' &&
  (t.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { ...distribution(values, 3), p99: round(percentile(s, 99), 3) };
}

async function operatorFigures(op: OperatorProcess) {
  const text = await op.metrics();
  const m = (name: string, labels: Record<string, string> = {}) => metricValue(text, name, labels);
  return {
    rssMiB: mib(m('process_resident_memory_bytes')),
    heapUsedMiB: mib(m('nodejs_heap_size_used_bytes')),
    // What V8 holds for its heap, used or not, and memory outside it (buffers): with RSS and heap
    // used, where resident memory that is not live objects sits.
    heapTotalMiB: mib(m('nodejs_heap_size_total_bytes')),
    externalMiB: mib(m('nodejs_external_memory_bytes')),
    cpuSeconds: round(m('process_cpu_seconds_total'), 2),
    eventLoopLagP99Ms: round(m('nodejs_eventloop_lag_p99_seconds') * 1000, 1),
    eventsDropped: m('neurallog_operator_events_dropped_total'),
  };
}

function requestsPerTenant(events: readonly AuditEvent[]) {
  const counts = countRequests(events, isOperator);
  const lease = events.filter(
    (e) => isOperator(e) && e.stage === 'ResponseComplete' && resourceKey(e) === 'leases',
  ).length;
  const eventWrites = events.filter(
    (e) => isOperator(e) && e.stage === 'ResponseComplete' && resourceKey(e) === 'events' && e.verb !== 'get',
  ).length;
  return {
    writes: counts.writes,
    reads: counts.reads,
    leaseRequests: lease,
    eventWrites,
    writesPerTenant: round(counts.writes / N, 2),
    writesPerTenantWithoutEvents: round((counts.writes - eventWrites) / N, 2),
    eventsPerTenant: round(eventWrites / N, 2),
    readsPerTenant: round(counts.reads / N, 2),
    writesBy: counts.writesBy,
    readsBy: counts.readsBy,
  };
}

async function main(): Promise<void> {
  const wallStart = Date.now();
  const machine = machineInfo();
  const loads: Record<string, ReturnType<typeof loadAverages>> = { start: loadAverages() };
  log(
    `N=${N}, ${NODES} kwok nodes of ${PODS_PER_NODE} pods; cluster ${process.env['NEURALLOG_CLUSTER_DIR']}`,
  );
  const cluster = await useCluster({ nodes: NODES, podsPerNode: PODS_PER_NODE });
  await installCrd(cluster);
  const { tls } = cluster.cluster.state;
  const kube = createBenchKube(cluster.server, tls);
  const floorKube = createBenchKube(cluster.server, tls, 30_000, 'neurallog-bench-floor');
  const peer = await startAuthPeer({});
  const runId = randomBytes(2).toString('hex');

  // ---- 1. the floor ------------------------------------------------------------------------
  const floorNames = Array.from({ length: N }, (_, i) => `floor-${runId}-${i}`);
  log('1. floor');
  const floor = await runFloor({
    kube: floorKube,
    names: floorNames,
    concurrency: CONCURRENCY,
    authUrl: peer.url,
    pollMs: POLL_MS,
    timeoutMs: TIMEOUT_MS,
    log,
  });
  loads['afterFloor'] = loadAverages();

  // ---- 2. the operator provisions N tenants ------------------------------------------------
  const operatorArgs = [
    '--concurrency',
    String(CONCURRENCY),
    '--resync-period',
    RESYNC,
    '--log-level',
    'info',
  ];
  let operator = await startOperator({ cluster, authUrl: peer.url, name: `bench-${N}`, args: operatorArgs });
  const audit = new JsonLinesTail<AuditEvent>(cluster.auditLogPath);
  await sleep(2000);
  const idle = await operatorFigures(operator);
  await audit.skipToEnd();
  const names = Array.from({ length: N }, (_, i) => `bench-${runId}-${i}`);
  const wanted = new Set(names);
  const createdAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  log(`2. operator: creating ${N} tenants at once`);
  const tCreate = Date.now();
  const creating = Promise.all(
    names.map(async (name, i) => {
      const res = await kube.request('POST', TENANTS, {
        apiVersion: 'neurallog.io/v1',
        kind: 'Tenant',
        metadata: { name },
        spec: { displayName: `Bench tenant ${i}`, description: 'created by bench/run.ts' },
      });
      if (res.status !== 201)
        throw new Error(`create ${name}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      createdAt.set(name, Date.now());
    }),
  );
  let peakRss = idle.rssMiB;
  let lastLog = 0;
  while (readyAt.size < N) {
    if (Date.now() > tCreate + TIMEOUT_MS) throw new Error(`timed out: ${readyAt.size}/${N} Ready`);
    const pollStart = Date.now();
    const list = await kube.getJson<{ items: TenantItem[] }>(TENANTS);
    const seen = Date.now();
    for (const t of list.items)
      if (wanted.has(t.metadata.name) && isReady(t) && !readyAt.has(t.metadata.name))
        readyAt.set(t.metadata.name, seen);
    if (seen - lastLog > 5000) {
      peakRss = Math.max(peakRss, (await operatorFigures(operator)).rssMiB);
      log(`${readyAt.size}/${N} Running and Ready`);
      lastLog = seen;
    }
    await sleep(Math.max(0, pollStart + POLL_MS - Date.now()));
  }
  await creating;
  const provisionSeconds = (Date.now() - tCreate) / 1000;
  const atReady = await operatorFigures(operator);
  peakRss = Math.max(peakRss, atReady.rssMiB);
  await audit.mark();
  const provisionRequests = requestsPerTenant(audit.events);
  const perTenantRunning = names.map((n) => (readyAt.get(n)! - createdAt.get(n)!) / 1000);
  loads['afterProvision'] = loadAverages();
  log(`all ${N} Ready after ${provisionSeconds} s (floor ${floor.wallSeconds} s)`);

  // ---- 3. steady state ---------------------------------------------------------------------
  log(`3. steady state for ${STEADY_MS / 1000} s (resync every ${RESYNC})`);
  await audit.skipToEnd();
  audit.events.length = 0;
  const steadyFrom = await operatorFigures(operator);
  await sleep(STEADY_MS);
  await audit.mark();
  const steadyCounts = countRequests(audit.events, isOperator);
  const steadyLease = audit.events.filter(
    (e) => isOperator(e) && e.stage === 'ResponseComplete' && resourceKey(e) === 'leases',
  ).length;
  const steadyEnd = await operatorFigures(operator);
  const scrapeStart = performance.now();
  const scrape = await operator.metrics();
  const scrapeMs = round(performance.now() - scrapeStart, 1);
  const steady = {
    seconds: STEADY_MS / 1000,
    resyncs: Math.floor(STEADY_MS / RESYNC_MS),
    writesWithoutLease: steadyCounts.writes - steadyLease,
    reads: steadyCounts.reads,
    writesBy: steadyCounts.writesBy,
    readsBy: steadyCounts.readsBy,
    cpuSeconds: round(steadyEnd.cpuSeconds - steadyFrom.cpuSeconds, 2),
    rssMiB: steadyEnd.rssMiB,
    heapUsedMiB: steadyEnd.heapUsedMiB,
    heapTotalMiB: steadyEnd.heapTotalMiB,
    externalMiB: steadyEnd.externalMiB,
    metricsScrape: {
      bytes: Buffer.byteLength(scrape),
      series: scrape.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
      ms: scrapeMs,
    },
  };
  log(`steady: ${steady.writesWithoutLease} writes, ${steady.reads} reads; RSS ${steady.rssMiB} MiB`);

  // ---- 4. one change at a time ------------------------------------------------------------
  log(`4. ${CHANGES} changes, one at a time`);
  const changeSeconds: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const name = names[Math.floor((i * N) / CHANGES)]!;
    const t0 = Date.now();
    const res = await kube.request(
      'PATCH',
      `${TENANTS}/${name}`,
      { spec: { server: { replicas: 2 } } },
      'application/merge-patch+json',
    );
    if (res.status !== 200) throw new Error(`patch ${name}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
    for (;;) {
      if (Date.now() > t0 + 60_000) throw new Error(`change of ${name} not seen within 60 s`);
      const t = (await kube.getJson<TenantItem>(`${TENANTS}/${name}`)) as TenantItem;
      if (
        t.status?.observedGeneration === t.metadata.generation &&
        t.status?.serverStatus?.readyReplicas === 2
      )
        break;
      await sleep(20);
    }
    changeSeconds.push((Date.now() - t0) / 1000);
  }

  // ---- 5. restart with N tenants present ---------------------------------------------------
  log('5. restart');
  await operator.stop();
  await audit.skipToEnd();
  audit.events.length = 0;
  const tRestart = Date.now();
  operator = await startOperator({
    cluster,
    authUrl: peer.url,
    name: `bench-${N}-restart`,
    args: [...operatorArgs, '--log-level', 'debug'],
  });
  const readySeconds = (Date.now() - tRestart) / 1000;
  const opLog = new JsonLinesTail<{ msg?: string; tenant?: string }>(operator.logFile);
  const reconciled = new Set<string>();
  for (;;) {
    if (Date.now() > tRestart + TIMEOUT_MS) throw new Error(`restart: ${reconciled.size}/${N} reconciled`);
    await opLog.mark();
    for (const l of opLog.events)
      if (l.msg === 'reconciled' && l.tenant && wanted.has(l.tenant)) reconciled.add(l.tenant);
    if (reconciled.size === N) break;
    await sleep(100);
  }
  const allReconciledSeconds = (Date.now() - tRestart) / 1000;
  await sleep(2000);
  await audit.mark();
  const restartCounts = countRequests(audit.events, isOperator);
  const restartLease = audit.events.filter(
    (e) => isOperator(e) && e.stage === 'ResponseComplete' && resourceKey(e) === 'leases',
  ).length;
  const restart = {
    readySeconds,
    allReconciledSeconds,
    writesWithoutLease: restartCounts.writes - restartLease,
    reads: restartCounts.reads,
    writesBy: restartCounts.writesBy,
  };
  log(
    `restart: ready ${readySeconds} s, all reconciled ${allReconciledSeconds} s, ${restart.writesWithoutLease} writes`,
  );

  // ---- 6. delete all -----------------------------------------------------------------------
  log('6. delete all');
  const tDelete = Date.now();
  await Promise.all(names.map((name) => kube.request('DELETE', `${TENANTS}/${name}`)));
  for (;;) {
    if (Date.now() > tDelete + TIMEOUT_MS) throw new Error('deletion timed out');
    const [tenants, namespaces] = await Promise.all([
      kube.getJson<{ items: TenantItem[] }>(TENANTS),
      kube.getJson<{ items: Array<{ metadata: { name: string; labels?: Record<string, string> } }> }>(
        '/api/v1/namespaces?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dtenant-operator',
      ),
    ]);
    if (tenants.items.length === 0 && namespaces.items.length === 0) break;
    await sleep(1000);
  }
  const deleteSeconds = (Date.now() - tDelete) / 1000;
  const afterDelete = await operatorFigures(operator);
  await operator.stop();
  await peer.close();
  loads['end'] = loadAverages();

  const floorPerTenant = summary(floor.perTenantSeconds);
  const floorSinceStart = summary(floor.readySinceStartSeconds);
  const operatorPerTenant = summary(perTenantRunning);
  const result = {
    kind: 'bench',
    tenants: N,
    date: new Date(wallStart).toISOString(),
    commit: machine.commit,
    machine,
    loads,
    cluster: { nodes: NODES, podsPerNode: PODS_PER_NODE },
    options: {
      concurrency: CONCURRENCY,
      resyncPeriod: RESYNC,
      steadySeconds: STEADY_MS / 1000,
      changes: CHANGES,
    },
    floor: {
      objectsPerTenant: floor.objectsPerTenant,
      writesPerTenant: round(floor.writes / N, 2),
      seconds: floor.wallSeconds,
      writesDoneSeconds: floor.writesDoneSeconds,
      perTenantSeconds: floorPerTenant,
      readySinceStartSeconds: floorSinceStart,
      deleteSeconds: floor.deleteSeconds,
    },
    operator: {
      seconds: provisionSeconds,
      ratioToFloor: round(provisionSeconds / floor.wallSeconds, 2),
      perTenantSeconds: operatorPerTenant,
      perTenantP50RatioToFloor: round(operatorPerTenant.p50 / floorPerTenant.p50, 2),
      // The same p50 against the floor's tenants timed from the start of its burst, as the
      // operator's are timed from the creation of all Tenants.
      perTenantP50RatioToFloorSinceStart: round(operatorPerTenant.p50 / floorSinceStart.p50, 2),
      timeToRunningSeconds: perTenantRunning,
      minimumWritesPerTenant: floor.objectsPerTenant + 2,
      requests: provisionRequests,
      idle,
      atReady,
      peakRssMiB: peakRss,
    },
    steady,
    change: { tries: CHANGES, seconds: summary(changeSeconds) },
    restart,
    deletion: { seconds: deleteSeconds, operatorAfter: afterDelete },
    wallSeconds: round((Date.now() - wallStart) / 1000, 1),
  };
  const out = flags.out ?? join(import.meta.dirname, 'results', `${result.date.slice(0, 10)}-${N}.json`);
  await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${out}; wall time ${result.wallSeconds} s`);
  kube.close();
  floorKube.close();
}

await main();
process.exit(0);
