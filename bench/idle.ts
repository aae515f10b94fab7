// Idle footprint of `tenant-operator run`: started against the local control plane with the CRD and
// RBAC installed and no Tenant, under the ServiceAccount token the integration tests use. Reports
// the time from spawn to /readyz and the resident set after a forced full GC, sampled a few times
// once the process has settled. Figures go to stdout (and --out as JSON); nothing is asserted.
//
//   NEURALLOG_CLUSTER_DIR=/tmp/bench-cluster node bench/idle.ts [--entry src|dist|PATH] [--settle-s 20] [--samples 5] [--out f.json]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_ENTRIES } from './lib/setup.ts';
import { repoRoot } from '../test/cluster/config.ts';
import { useCluster } from '../test/cluster/fixture.ts';
import { waitFor } from '../test/cluster/wait.ts';
import { freePort } from '../test/operator/harness.ts';
import { operatorKubeconfig } from '../test/operator/service-account.ts';
import { installCrd } from '../test/operator/tenants.ts';

process.env['NEURALLOG_CLUSTER_DIR'] ||= join(tmpdir(), 'neurallog-bench-cluster');

const { values: flags } = parseArgs({
  options: {
    'settle-s': { type: 'string', default: '20' },
    samples: { type: 'string', default: '5' },
    out: { type: 'string' },
    // `dist` runs the compiled build (`npm run build` first), as the container image does.
    entry: { type: 'string', default: 'src' },
    // Extra node flags for the measured process, e.g. --node-flags=--max-semi-space-size=1
    'node-flags': { type: 'string', default: '' },
  },
});
const settleMs = Number(flags['settle-s']) * 1000;
const samples = Number(flags.samples);

/** `src`, `dist` (after `npm run build`), or the path of another build of the CLI to compare. */
function entryFile(entry: string): string {
  return CLI_ENTRIES[entry] ?? entry;
}

function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cluster = await useCluster();
await installCrd(cluster);
const kubeconfig = await operatorKubeconfig(cluster);
const probePort = await freePort();
const metricsPort = await freePort();
const memoryFile = join(tmpdir(), `idle-memory-${process.pid}.json`);
const args = [
  ...flags['node-flags'].split(' ').filter((f) => f !== ''),
  '--expose-gc',
  '--import',
  join(repoRoot, 'bench', 'lib', 'gc-on-signal.ts'),
  entryFile(flags.entry),
  'run',
  '--kubeconfig',
  kubeconfig,
  '--auth-url',
  'http://127.0.0.1:9',
  '--metrics-bind-address',
  `127.0.0.1:${metricsPort}`,
  '--health-probe-bind-address',
  `127.0.0.1:${probePort}`,
  '--log-level',
  'warn',
];
const started = performance.now();
const child = spawn(join(repoRoot, 'node_modules', '.bin', 'node'), args, {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, AUTH_SERVICE_URL: '', BENCH_MEMORY_FILE: memoryFile },
});
try {
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}`);
      const response = await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined);
      return response?.ok === true;
    },
    { timeoutMs: 60_000, intervalMs: 20, description: 'operator readiness' },
  );
  const readyMs = Math.round(performance.now() - started);
  const rssAtReadyKiB = rssKiB(child.pid!);
  await pause(settleMs);
  const rssAfterGcKiB: number[] = [];
  for (let i = 0; i < samples; i++) {
    child.kill('SIGUSR2');
    await pause(2000);
    rssAfterGcKiB.push(rssKiB(child.pid!));
  }
  const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
  const result = {
    command: `node ${args.map((a) => a.replace(`${repoRoot}/`, '')).join(' ')}`,
    readyMs,
    rssAtReadyMiB: mib(rssAtReadyKiB),
    rssAfterGcMiB: rssAfterGcKiB.map(mib),
    memoryUsageAfterGcMiB: Object.fromEntries(
      Object.entries(JSON.parse(readFileSync(memoryFile, 'utf8')) as Record<string, number>).map(([k, v]) => [
        k,
        mib(v / 1024),
      ]),
    ),
    rssAfterGcMedianMiB: mib([...rssAfterGcKiB].sort((a, b) => a - b)[Math.floor(samples / 2)]!),
    settleSeconds: settleMs / 1000,
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  if (flags.out) await writeFile(flags.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  child.kill('SIGTERM');
}
