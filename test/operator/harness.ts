// Runs the real `tenant-operator run` as a child process against the test cluster, the way a
// user would: under a token of the ServiceAccount from config/rbac (never the admin certificate),
// with its logs kept in a file for the failure message.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { clusterDir, repoRoot } from '../cluster/config.ts';
import type { TestCluster } from '../cluster/fixture.ts';
import { waitFor } from '../cluster/wait.ts';
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
}

export interface OperatorOptions {
  cluster: TestCluster;
  authUrl: string;
  args?: string[];
  name?: string;
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
      join(repoRoot, 'src', 'cli', 'main.ts'),
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
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AUTH_SERVICE_URL: '' } },
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
