/**
 * Where the operator's API server credentials come from (SPEC §7):
 *   1. `--kubeconfig <file>`
 *   2. in-cluster: the pod's service account token
 *   3. `$KUBECONFIG` (a path list; files are merged, the first one wins)
 *   4. `~/.kube/config`
 * and nothing else: unlike `KubeConfig.loadFromDefault()` there is no silent
 * fallback to `http://localhost:8080`. A source that is named but unusable
 * (a missing `--kubeconfig` file, a `$KUBECONFIG` pointing nowhere) is an
 * error rather than a reason to try the next one, so the operator never
 * talks to a cluster nobody asked for.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type KubeConfigSource = 'flag' | 'in-cluster' | 'env' | 'home';

export interface ResolveKubeConfigOptions {
  /** Value of `--kubeconfig`, if given. */
  kubeconfig?: string;
  /** Environment to read `KUBECONFIG` and `KUBERNETES_SERVICE_HOST/PORT` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Home directory for `~/.kube/config`. Default `os.homedir()`. */
  homeDir?: string;
  /** Where a pod's service account is mounted. Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string;
}

export interface ResolvedKubeConfig {
  kubeConfig: KubeConfig;
  source: KubeConfigSource;
  /** Human-readable origin for the startup log, e.g. the file path(s). */
  origin: string;
  /** API server URL of the current context. */
  server: string;
  /** The pod's namespace (in-cluster) or the current context's namespace, if any. */
  namespace: string | undefined;
}

/** No configuration was found; `searched` lists every place that was tried. */
export class KubeconfigNotFoundError extends Error {
  override readonly name = 'KubeconfigNotFoundError';
  readonly searched: string[];

  constructor(searched: string[], hint: string) {
    super(
      `no Kubernetes API server configuration found. Looked for: ${searched.join('; ')}. ${hint} ` +
        '(The operator never falls back to http://localhost:8080.)',
    );
    this.searched = searched;
  }
}

/** A configuration was found but cannot be used as it is. */
export class KubeconfigInvalidError extends Error {
  override readonly name = 'KubeconfigInvalidError';
  readonly origin: string;

  constructor(origin: string, problem: string, options?: { cause?: unknown }) {
    super(`the Kubernetes client configuration from ${origin} is unusable: ${problem}`, options);
    this.origin = origin;
  }
}

export function resolveKubeConfig(options: ResolveKubeConfigOptions = {}): ResolvedKubeConfig {
  const env = options.env ?? process.env;
  const saDir = options.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const home = options.homeDir ?? os.homedir();
  const searched: string[] = [];

  if (options.kubeconfig !== undefined && options.kubeconfig !== '') {
    const file = path.resolve(options.kubeconfig);
    if (!isFile(file)) {
      throw new KubeconfigNotFoundError(
        [`--kubeconfig ${file} (no such file)`],
        'Fix the --kubeconfig path, or leave the flag out to use the in-cluster service account, $KUBECONFIG or ~/.kube/config.',
      );
    }
    return fromFiles([file], 'flag');
  }
  searched.push('--kubeconfig (not given)');

  const tokenFile = path.join(saDir, 'token');
  if (isFile(tokenFile)) return inCluster(saDir, env);
  searched.push(`in-cluster service account token ${tokenFile} (absent)`);

  const envValue = env.KUBECONFIG;
  if (envValue !== undefined && envValue !== '') {
    const listed = envValue.split(path.delimiter).filter((p) => p !== '');
    const existing = listed.map((p) => path.resolve(p)).filter(isFile);
    if (existing.length === 0) {
      throw new KubeconfigNotFoundError(
        [...searched, `$KUBECONFIG=${envValue} (none of its files exists)`],
        'Point KUBECONFIG at an existing kubeconfig file, unset it to use ~/.kube/config, or pass --kubeconfig.',
      );
    }
    return fromFiles(existing, 'env');
  }
  searched.push('$KUBECONFIG (not set)');

  const homeFile = path.join(home, '.kube', 'config');
  if (isFile(homeFile)) return fromFiles([homeFile], 'home');
  searched.push(`${homeFile} (absent)`);

  throw new KubeconfigNotFoundError(
    searched,
    'Pass --kubeconfig <file>, set KUBECONFIG, create ~/.kube/config, or run the operator in a pod with a service account.',
  );
}

function fromFiles(files: string[], source: KubeConfigSource): ResolvedKubeConfig {
  const origin = files.join(path.delimiter);
  const kubeConfig = new KubeConfig();
  for (const [index, file] of files.entries()) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new KubeconfigInvalidError(file, `it could not be parsed (${errorMessage(err)})`, { cause: err });
    }
    if (index === 0) {
      kubeConfig.loadFromOptions({
        clusters: [...one.clusters],
        users: [...one.users],
        contexts: [...one.contexts],
        currentContext: one.currentContext,
      });
      continue;
    }
    // kubectl's merge rule: the first file that defines a name wins.
    for (const c of one.clusters) if (!kubeConfig.getCluster(c.name)) kubeConfig.clusters.push(c);
    for (const u of one.users) if (!kubeConfig.getUser(u.name)) kubeConfig.users.push(u);
    for (const c of one.contexts) if (!kubeConfig.getContextObject(c.name)) kubeConfig.contexts.push(c);
    if (!kubeConfig.currentContext) kubeConfig.currentContext = one.currentContext;
  }

  if (!kubeConfig.currentContext) {
    throw new KubeconfigInvalidError(
      origin,
      'it sets no current-context; run `kubectl config use-context <name>` or add `current-context:`',
    );
  }
  const context = kubeConfig.getContextObject(kubeConfig.currentContext);
  if (!context) {
    throw new KubeconfigInvalidError(
      origin,
      `its current-context "${kubeConfig.currentContext}" is not defined under contexts:`,
    );
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new KubeconfigInvalidError(
      origin,
      `context "${context.name}" names cluster "${context.cluster}", which is not defined under clusters:`,
    );
  }
  return { kubeConfig, source, origin, server: cluster.server, namespace: context.namespace || undefined };
}

function inCluster(saDir: string, env: Record<string, string | undefined>): ResolvedKubeConfig {
  const origin = `in-cluster service account ${saDir}`;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigInvalidError(
      origin,
      'a service account token is mounted but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set; ' +
        'run inside a pod (where the kubelet sets them) or pass --kubeconfig',
    );
  }
  const caFile = path.join(saDir, 'ca.crt');
  if (!isFile(caFile)) {
    throw new KubeconfigInvalidError(origin, `the cluster CA ${caFile} is missing next to the token`);
  }
  const server = `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespaceFile = path.join(saDir, 'namespace');
  const namespace = isFile(namespaceFile)
    ? fs.readFileSync(namespaceFile, 'utf8').trim() || undefined
    : undefined;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile, skipTLSVerify: false }],
    // The tokenFile auth provider re-reads the (rotating, bound) token every minute.
    users: [
      {
        name: 'in-cluster',
        authProvider: { name: 'tokenFile', config: { tokenFile: path.join(saDir, 'token') } },
      },
    ],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', namespace }],
    currentContext: 'in-cluster',
  });
  return { kubeConfig, source: 'in-cluster', origin, server, namespace };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
