// The operator image run the way a kubelet would run it in a pod, with podman on this machine: as
// its own uid 1000, read-only root filesystem, no capabilities, the ServiceAccount mounted at
// /var/run/secrets/kubernetes.io/serviceaccount and KUBERNETES_SERVICE_HOST/PORT set. Host
// network, so the container reaches the local API server and Auth peer on 127.0.0.1.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { clusterDir } from '../cluster/config.ts';
import type { TestCluster } from '../cluster/fixture.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, installRbac } from './service-account.ts';

const run = promisify(execFile);

/** podman as it works on these machines: runc (crun fails on this cgroup set-up), bounded rlimits. */
export const PODMAN_RUN = [
  '--runtime',
  'runc',
  '--cgroup-manager',
  'cgroupfs',
  'run',
  '--rm',
  '--network=host',
  // Read-only root with nothing writable but /tmp, as the chart's pod has it (an emptyDir there);
  // podman would otherwise also mount tmpfs on /run and /var/tmp.
  '--read-only',
  '--read-only-tmpfs=false',
  '--tmpfs=/tmp:rw,nosuid,nodev,size=64m',
  '--cap-drop=ALL',
  '--security-opt=no-new-privileges',
  '--ulimit',
  'nofile=1024:1024',
  '--ulimit',
  'nproc=1024:1024',
];

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** `podman run` of the image with these arguments, to completion. */
export async function podmanRun(
  image: string,
  args: string[],
  options: { entrypoint?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const entrypoint = options.entrypoint ? ['--entrypoint', options.entrypoint] : [];
  try {
    const { stdout, stderr } = await run('podman', [...PODMAN_RUN, ...entrypoint, image, ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * A directory laid out as the kubelet mounts a projected ServiceAccount volume: `token` (from the
 * TokenRequest API, for config/rbac's ServiceAccount), `ca.crt` and `namespace`. Readable by the
 * container's uid 1000.
 */
export async function serviceAccountVolume(cluster: TestCluster): Promise<string> {
  await installRbac(cluster);
  const token = (
    await cluster.kubectlOk([
      'create',
      'token',
      OPERATOR_SERVICE_ACCOUNT,
      '-n',
      OPERATOR_NAMESPACE,
      '--duration=1h',
    ])
  ).stdout.trim();
  const dir = join(clusterDir(), `serviceaccount-${process.pid}-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'token'), token);
  await copyFile(cluster.cluster.state.tls.caCert, join(dir, 'ca.crt'));
  await writeFile(join(dir, 'namespace'), OPERATOR_NAMESPACE);
  await chmod(dir, 0o755);
  for (const file of ['token', 'ca.crt', 'namespace']) await chmod(join(dir, file), 0o644);
  return dir;
}

export interface OperatorContainer {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | string>;
  /** The exit code (or signal name) once the container ended, undefined while it runs. */
  exitCode(): number | string | undefined;
  logs(): Promise<string>;
  /** Sends SIGTERM to the operator (PID 1 of the container), as the kubelet does on pod deletion. */
  terminate(): Promise<void>;
  /** Removes the container whatever state it is in. */
  remove(): Promise<void>;
}

export function startOperatorContainer(options: {
  image: string;
  name: string;
  serviceAccountDir: string;
  apiServer: URL;
  args: string[];
}): OperatorContainer {
  const logFile = join(clusterDir(), 'operator-logs', `${options.name}.log`);
  const child = spawn(
    'podman',
    [
      ...PODMAN_RUN,
      '--name',
      options.name,
      '--volume',
      `${options.serviceAccountDir}:${SERVICE_ACCOUNT_MOUNT}:ro`,
      '--env',
      `KUBERNETES_SERVICE_HOST=${options.apiServer.hostname}`,
      '--env',
      `KUBERNETES_SERVICE_PORT=${options.apiServer.port}`,
      options.image,
      ...options.args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let ended: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve((ended = code ?? signal ?? 'unknown')));
  });
  const log = mkdir(join(clusterDir(), 'operator-logs'), { recursive: true }).then(() => {
    const stream = createWriteStream(logFile);
    child.stdout?.pipe(stream);
    child.stderr?.pipe(stream);
  });
  return {
    name: options.name,
    child,
    logFile,
    exited,
    exitCode: () => ended,
    logs: async () => {
      await log;
      return readFile(logFile, 'utf8').catch(() => '');
    },
    async terminate() {
      await run('podman', ['kill', '--signal', 'TERM', options.name]);
    },
    async remove() {
      await run('podman', ['rm', '--force', '--ignore', options.name]).catch(() => undefined);
    },
  };
}
