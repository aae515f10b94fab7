// Runs the real `tenant-operator run` as a child process against the test cluster, the way a
// user would: under a token of the ServiceAccount from config/rbac (never the admin certificate),
// with its logs kept in a file for the failure message.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { clusterDir, repoRoot } from '../cluster/config.ts';
import type { TestCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { operatorKubeconfig } from './service-account.ts';

export interface OperatorProcess {
  child: ChildProcess;
  logFile: string;
  metricsUrl: string;
  probeUrl: string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | string>;
  /** SIGKILL, no chance to clean up. */
  kill(): Promise<number | string>;
  logs(): Promise<string>;
  metrics(): Promise<string>;
  /** A heap snapshot of the process (needs `heapSnapshotDir`): its path, once fully written. */
  heapSnapshot(): Promise<string>;
}

export interface OperatorOptions {
  cluster: TestCluster;
  authUrl: string;
  /** Write a V8 heap snapshot into this directory on SIGUSR2 (see `heapSnapshot`). */
  heapSnapshotDir?: string;
  args?: string[];
  name?: string;
  /** The CLI to run: default `src/cli/main.ts` (types stripped at load); `dist/cli/main.js` as shipped. */
  entry?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const nodeBinary = join(repoRoot, 'node_modules', '.bin', 'node');
let started = 0;

export async function startOperator(options: OperatorOptions): Promise<OperatorProcess> {
  const kubeconfigPath = await operatorKubeconfig(options.cluster);
  const metricsPort = await freePort();
  const probePort = await freePort();
  const logDir = join(clusterDir(), 'operator-logs');
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, `${options.name ?? 'operator'}-${process.pid}-${++started}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(
    nodeBinary,
    [
      options.entry ?? join(repoRoot, 'src', 'cli', 'main.ts'),
      'run',
      '--kubeconfig',
      kubeconfigPath,
      '--auth-url',
      options.authUrl,
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address',
      `127.0.0.1:${probePort}`,
      '--log-level',
      'debug',
      ...(options.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AUTH_SERVICE_URL: '',
        ...(options.heapSnapshotDir ? { NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' } : {}),
      },
      ...(options.heapSnapshotDir ? { cwd: options.heapSnapshotDir } : {}),
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const probeUrl = `http://127.0.0.1:${probePort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const proc: OperatorProcess = {
    child,
    logFile,
    metricsUrl,
    probeUrl,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    logs: () => readFile(logFile, 'utf8'),
    async heapSnapshot() {
      const dir = options.heapSnapshotDir;
      if (!dir) throw new Error('start the operator with heapSnapshotDir to take heap snapshots');
      const before = new Set(await readdir(dir));
      child.kill('SIGUSR2');
      // Written by the process itself; complete once its size stops changing and it ends the JSON.
      return waitFor(
        async () => {
          const made = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
          if (!made) return notYet('no snapshot yet');
          const path = join(dir, made);
          const first = (await stat(path)).size;
          await new Promise((resolve) => setTimeout(resolve, 200));
          const second = (await stat(path)).size;
          if (first !== second || first === 0) return notYet(`still writing (${second} bytes)`);
          const tail = (await readFile(path)).subarray(-8).toString('utf8');
          return tail.trimEnd().endsWith('}') ? path : notYet('not closed yet');
        },
        { timeoutMs: 120_000, intervalMs: 300, description: `a heap snapshot of the operator in ${dir}` },
      );
    },
    async metrics() {
      const response = await fetch(metricsUrl);
      return response.text();
    },
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`operator exited with ${child.exitCode}: ${await proc.logs()}`);
      const response = await fetch(`${probeUrl}/readyz`).catch(() => undefined);
      return response?.ok === true;
    },
    { timeoutMs: 60_000, description: `operator readiness (log: ${logFile})` },
  );
  return proc;
}

/** Sum of a counter/gauge over all its series, from Prometheus text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`)))
      total += Number(match[3]);
  }
  return total;
}
