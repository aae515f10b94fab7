/**
 * Where the operator's API server credentials come from (SPEC §7):
 *   1. `--kubeconfig <file>`
 *   2. in-cluster: the pod's service account token
 *   3. `$KUBECONFIG` (a path list; files are merged, the first one wins)
 *   4. `~/.kube/config`
 * and nothing else: unlike client libraries' `loadFromDefault()` there is no silent
 * fallback to `http://localhost:8080`. A source that is named but unusable
 * (a missing `--kubeconfig` file, a `$KUBECONFIG` pointing nowhere) is an
 * error rather than a reason to try the next one, so the operator never
 * talks to a cluster nobody asked for.
 *
 * `kubeConfigFromText` reads a kubeconfig held in a Secret (a member cluster's), which may not
 * name files or exec plugins (docs/design.md, "Kubeconfigs from Secrets").
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type KubeConnection, connectionFromDocument } from './connection.ts';
import { tokenFile } from './credentials.ts';
import { type KubeconfigDocument, mergeKubeconfigs, parseKubeconfig } from './kubeconfig-document.ts';
import { KubeconfigInvalidError, KubeconfigNotFoundError } from './kubeconfig-errors.ts';

export type { KubeConnection } from './connection.ts';
export {
  ExecCredentialError,
  KubeconfigInvalidError,
  KubeconfigNotFoundError,
  KubeconfigRefusedError,
} from './kubeconfig-errors.ts';

export const DEFAULT_SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type KubeConfigSource = 'flag' | 'in-cluster' | 'env' | 'home';

export interface ResolveKubeConfigOptions {
  /** Value of `--kubeconfig`, if given. */
  kubeconfig?: string;
  /** Value of `--context`: use this kubeconfig context instead of `current-context`. */
  context?: string;
  /** Environment to read `KUBECONFIG` and `KUBERNETES_SERVICE_HOST/PORT` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Home directory for `~/.kube/config`. Default `os.homedir()`. */
  homeDir?: string;
  /** Where a pod's service account is mounted. Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string;
}

export interface ResolvedKubeConfig {
  connection: KubeConnection;
  source: KubeConfigSource;
  /** Human-readable origin for the startup log, e.g. the file path(s). */
  origin: string;
  /** API server URL of the chosen context. */
  server: string;
  /** The pod's namespace (in-cluster) or the context's namespace, if any. */
  namespace: string | undefined;
  /** The kubeconfig document it was built from (undefined in-cluster). */
  document: KubeconfigDocument | undefined;
}

export function resolveKubeConfig(options: ResolveKubeConfigOptions = {}): ResolvedKubeConfig {
  const env = options.env ?? process.env;
  const saDir = options.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const home = options.homeDir ?? os.homedir();
  const context = options.context || undefined;
  const searched: string[] = [];

  if (options.kubeconfig !== undefined && options.kubeconfig !== '') {
    const file = path.resolve(options.kubeconfig);
    if (!isFile(file)) {
      throw new KubeconfigNotFoundError(
        [`--kubeconfig ${file} (no such file)`],
        'Fix the --kubeconfig path, or leave the flag out to use the in-cluster service account, $KUBECONFIG or ~/.kube/config.',
      );
    }
    return fromFiles([file], 'flag', context);
  }
  searched.push('--kubeconfig (not given)');

  const tokenPath = path.join(saDir, 'token');
  // In a pod, --context can only mean a kubeconfig: the service account has no contexts.
  if (context === undefined && isFile(tokenPath)) return inCluster(saDir, env);
  searched.push(
    `in-cluster service account token ${tokenPath} (${context ? 'skipped for --context' : 'absent'})`,
  );

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
    return fromFiles(existing, 'env', context);
  }
  searched.push('$KUBECONFIG (not set)');

  const homeFile = path.join(home, '.kube', 'config');
  if (isFile(homeFile)) return fromFiles([homeFile], 'home', context);
  searched.push(`${homeFile} (absent)`);

  throw new KubeconfigNotFoundError(
    searched,
    'Pass --kubeconfig <file>, set KUBECONFIG, create ~/.kube/config, or run the operator in a pod with a service account.',
  );
}

/**
 * A kubeconfig held as text, e.g. in a Secret of a member cluster. It must be self-contained:
 * file paths (certificate-authority, client-certificate, client-key, tokenFile) and exec plugins
 * are refused with `KubeconfigRefusedError`.
 */
export function kubeConfigFromText(
  text: string,
  origin: string,
  options: { context?: string } = {},
): KubeConnection {
  return connectionFromDocument(parseKubeconfig(text, origin), { ...options, untrusted: true });
}

/** Reads and merges kubeconfig files (kubectl's rules), resolving relative paths per file. */
export function loadKubeconfigFiles(files: string[]): KubeconfigDocument {
  return mergeKubeconfigs(
    files.map((file) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new KubeconfigInvalidError(file, 'it cannot be read', { cause: err });
      }
      return parseKubeconfig(text, file, path.dirname(file));
    }),
  );
}

function fromFiles(
  files: string[],
  source: KubeConfigSource,
  context: string | undefined,
): ResolvedKubeConfig {
  const document = loadKubeconfigFiles(files);
  const connection = connectionFromDocument(document, context ? { context } : {});
  return {
    connection,
    source,
    origin: document.origin,
    server: connection.server,
    namespace: connection.namespace,
    document,
  };
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
  let ca: string;
  try {
    ca = fs.readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new KubeconfigInvalidError(origin, `the cluster CA ${caFile} is missing next to the token`, {
      cause: err,
    });
  }
  const server = `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespaceFile = path.join(saDir, 'namespace');
  const namespace = isFile(namespaceFile)
    ? fs.readFileSync(namespaceFile, 'utf8').trim() || undefined
    : undefined;
  const connection: KubeConnection = {
    server,
    tls: { ca, insecureSkipTlsVerify: false },
    // The bound token rotates: re-read the file every minute, and at once after a 401.
    credentials: tokenFile(path.join(saDir, 'token'), { origin }),
    namespace,
    context: 'in-cluster',
  };
  return { connection, source: 'in-cluster', origin, server, namespace, document: undefined };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
