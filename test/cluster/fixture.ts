// What an integration test needs from the local control plane:
//
//   const cluster = await useCluster();   // starts (and builds) it when none is running
//   const ns = await cluster.createNamespace('deploy');
//   await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', ... }, ns);
//   const { stdout } = await cluster.kubectlOk(['get', 'pods', '-n', ns, '-o', 'json']);
//   await cluster.deleteNamespace(ns);
//
// The cluster is left running after the tests (it is shared by every test
// file and every run); `node test/cluster/cli.ts down` stops it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { up, type Cluster, type UpOptions } from './cluster.ts';
import { clusterDir } from './config.ts';
import { notYet, waitFor } from './wait.ts';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlOptions {
  /** Written to kubectl's standard input (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Kill kubectl after this long. Default 60 s. */
  timeoutMs?: number;
}

export interface TestCluster {
  kubeconfigPath: string;
  server: string;
  /** kube-apiserver audit log (JSON lines); see test/cluster/cluster.ts for the policy. */
  auditLogPath: string;
  kubectlPath: string;
  cluster: Cluster;
  /** Runs the cluster's kubectl with --kubeconfig; never throws on a non-zero exit. */
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** Like kubectl(), but throws (with stderr) unless the exit code is 0. */
  kubectlOk(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** `kubectl get ... -o json`, parsed; undefined when the object does not exist. */
  getJson<T = Record<string, unknown>>(args: string[]): Promise<T | undefined>;
  /** Server-side apply of objects (or YAML/JSON text), optionally into a namespace. */
  apply(manifest: string | object | object[], namespace?: string): Promise<void>;
  /** Creates a namespace with a unique name that starts with `prefix`. */
  createNamespace(prefix: string, labels?: Record<string, string>): Promise<string>;
  /** Deletes a namespace and waits until it is gone. */
  deleteNamespace(name: string, options?: { timeoutMs?: number }): Promise<void>;
}

let shared: Promise<TestCluster> | undefined;

/** The running test cluster; starts it (building first if needed) when none is up. */
export function useCluster(options: UpOptions = {}): Promise<TestCluster> {
  shared ??= up(options).then(wrap);
  shared.catch(() => {
    shared = undefined; // let a later call try again
  });
  return shared;
}

const members = new Map<string, Promise<TestCluster>>();

/**
 * A second local control plane beside the test cluster, in "<test cluster dir>-<name>" (e.g. a
 * member cluster); started once per test process and name, reused when it is already running.
 */
export function useSiblingCluster(
  name: string,
  options: Omit<UpOptions, 'stateDir'> = {},
): Promise<TestCluster> {
  let cluster = members.get(name);
  if (!cluster) {
    cluster = up({ ...options, stateDir: `${clusterDir().replace(/\/+$/, '')}-${name}` }).then(wrap);
    cluster.catch(() => members.delete(name));
    members.set(name, cluster);
  }
  return cluster;
}

export function uniqueName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'test';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

function wrap(cluster: Cluster): TestCluster {
  const kubectlPath = cluster.binaries.kubectl;

  const kubectl = (args: string[], options: KubectlOptions = {}): Promise<KubectlResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(kubectlPath, ['--kubeconfig', cluster.kubeconfigPath, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 60_000,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (code, signal) =>
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n(kubectl killed by ${signal})` : ''),
          code: code ?? 1,
        }),
      );
      child.stdin.end(options.input ?? '');
    });

  const kubectlOk = async (args: string[], options?: KubectlOptions): Promise<KubectlResult> => {
    const result = await kubectl(args, options);
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return result;
  };

  const getJson = async <T>(args: string[]): Promise<T | undefined> => {
    const result = await kubectl(['get', ...args, '-o', 'json']);
    if (result.code !== 0) {
      if (/\(NotFound\)|not found/i.test(result.stderr)) return undefined;
      throw new Error(`kubectl get ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    }
    return JSON.parse(result.stdout) as T;
  };

  const apply = async (manifest: string | object | object[], namespace?: string): Promise<void> => {
    const text =
      typeof manifest === 'string'
        ? manifest
        : JSON.stringify(
            Array.isArray(manifest) ? { apiVersion: 'v1', kind: 'List', items: manifest } : manifest,
          );
    const args = ['apply', '--server-side', '--field-manager=integration-test', '-f', '-'];
    if (namespace) args.push('-n', namespace);
    await kubectlOk(args, { input: text });
  };

  const createNamespace = async (prefix: string, labels: Record<string, string> = {}): Promise<string> => {
    const name = uniqueName(prefix);
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    // Pods need the namespace's default ServiceAccount (ServiceAccount admission).
    await waitFor(
      async () =>
        (await getJson(['serviceaccount', 'default', '-n', name])) !== undefined || notYet('no default SA'),
      { timeoutMs: 30_000, description: `ServiceAccount default in ${name}` },
    );
    return name;
  };

  const deleteNamespace = async (name: string, options: { timeoutMs?: number } = {}): Promise<void> => {
    await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=false']);
    await waitFor(
      async () =>
        (await getJson(['namespace', name])) === undefined || notYet(`namespace ${name} still exists`),
      {
        timeoutMs: options.timeoutMs ?? 120_000,
        intervalMs: 500,
        description: `namespace ${name} to be deleted`,
      },
    );
  };

  return {
    kubeconfigPath: cluster.kubeconfigPath,
    server: cluster.server,
    auditLogPath: cluster.auditLogPath,
    kubectlPath,
    cluster,
    kubectl,
    kubectlOk,
    getJson,
    apply,
    createNamespace,
    deleteNamespace,
  };
}
