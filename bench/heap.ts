// `npm run bench:heap -- --tenants N`: where a loaded operator's live heap is. N Tenants created
// at once on a control plane of their own; once all are Running and the operator has been quiet
// for --settle-s, a V8 heap snapshot is written and summed up by what holds the memory: strings
// by what they look like, and objects by constructor. Results: bench/results/<date>-heap-<N>.json.
//
// With `--entry dist` the operator runs as shipped, from the compiled build (`npm run build` first);
// the default `src` is how the tests and `npm run bench` run it, with Node stripping the types.
//
//   node bench/heap.ts --tenants 300 [--entry src|dist] [--settle-s 60] [--out file]
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarizeSnapshot } from './lib/heap-snapshot.ts';
import { createBenchKube } from './lib/kube.ts';
import { machineInfo } from './lib/machine.ts';
import { CLI_ENTRIES, PODS_PER_NODE, kwokNodesFor } from './lib/setup.ts';
import { startAuthPeer } from '../test/auth-peer/peer.ts';
import { useCluster } from '../test/cluster/fixture.ts';
import { metricValue, startOperator } from '../test/operator/harness.ts';
import { installCrd } from '../test/operator/tenants.ts';

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string', default: '300' },
    'settle-s': { type: 'string', default: '60' },
    entry: { type: 'string', default: 'src' },
    out: { type: 'string' },
  },
});
const N = Number(flags.tenants);
if (!Number.isInteger(N) || N < 1)
  throw new Error(`--tenants: expected a positive integer, got ${flags.tenants}`);
const SETTLE_MS = Number(flags['settle-s']) * 1000;
const ENTRY = CLI_ENTRIES[flags.entry];
if (!ENTRY) throw new Error(`--entry: expected src or dist, got ${flags.entry}`);
if (!existsSync(ENTRY))
  throw new Error(`--entry ${flags.entry}: ${ENTRY} does not exist; run npm run build first`);
const NODES = kwokNodesFor(N);
const TENANTS = '/apis/neurallog.io/v1/tenants';
process.env['NEURALLOG_CLUSTER_DIR'] ||= join(tmpdir(), `neurallog-heap-${N}`);

const log = (line: string) =>
  process.stderr.write(`[heap ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TenantItem {
  metadata: { name: string; generation?: number };
  status?: { phase?: string; observedGeneration?: number };
}

async function main(): Promise<void> {
  const cluster = await useCluster({ nodes: NODES, podsPerNode: PODS_PER_NODE });
  await installCrd(cluster);
  const kube = createBenchKube(cluster.server, cluster.cluster.state.tls);
  const peer = await startAuthPeer({});
  const snapshotDir = join(process.env['NEURALLOG_CLUSTER_DIR']!, 'heap');
  await mkdir(snapshotDir, { recursive: true });
  const operator = await startOperator({
    cluster,
    authUrl: peer.url,
    name: `heap-${N}`,
    heapSnapshotDir: snapshotDir,
    entry: ENTRY,
    args: ['--concurrency', '4', '--log-level', 'info'],
  });
  try {
    log(`creating ${N} tenants`);
    await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await kube.request('POST', TENANTS, {
          apiVersion: 'neurallog.io/v1',
          kind: 'Tenant',
          metadata: { name: `heap-${i}` },
          spec: { displayName: `Heap tenant ${i}` },
        });
        if (res.status !== 201)
          throw new Error(`create heap-${i}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      }),
    );
    const deadline = Date.now() + (300 + 3 * N) * 1000;
    for (;;) {
      const { items } = await kube.getJson<{ items: TenantItem[] }>(TENANTS);
      const running = items.filter(
        (t) => t.status?.phase === 'Running' && t.status.observedGeneration === t.metadata.generation,
      ).length;
      if (running === N) break;
      if (Date.now() > deadline) throw new Error(`timed out: ${running}/${N} Running`);
      await sleep(2000);
    }
    log(`all ${N} Running; settling ${SETTLE_MS / 1000} s`);
    await sleep(SETTLE_MS);
    const metrics = await operator.metrics();
    const path = await operator.heapSnapshot();
    log(`snapshot ${path}`);
    const summary = await summarizeSnapshot(path);
    const result = {
      kind: 'heap',
      tenants: N,
      entry: flags.entry,
      date: new Date().toISOString(),
      machine: machineInfo(),
      rssMiB: metricValue(metrics, 'process_resident_memory_bytes') / 2 ** 20,
      heapUsedMiB: metricValue(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      ...summary,
    };
    const out =
      flags.out ??
      join(
        'bench',
        'results',
        `${result.date.slice(0, 10)}-heap-${N}${flags.entry === 'dist' ? '-dist' : ''}.json`,
      );
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${out}`);
  } finally {
    await operator.stop();
    await peer.close();
  }
}

await main();
