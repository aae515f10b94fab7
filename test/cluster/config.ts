// Where things live: the pinned versions (hack/cluster/versions.env), the
// build cache outside the repository, and the state directory of a running
// cluster. The same rules as hack/cluster/build.sh, so both agree on paths.
import { existsSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));
export const versionsFile: string = join(repoRoot, 'hack', 'cluster', 'versions.env');
export const buildScript: string = join(repoRoot, 'hack', 'cluster', 'build.sh');

export interface Versions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  helm: string;
}

type Env = Record<string, string | undefined>;

/** Reads versions.env; a variable set in the environment wins (as in build.sh). */
export function readVersions(env: Env = process.env, file: string = versionsFile): Versions {
  const values = new Map<string, string>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], match[2].trim());
  }
  const pick = (key: string): string => {
    const value = env[key] || values.get(key);
    if (!value) throw new Error(`${key} is not set in ${file}`);
    return value;
  };
  return {
    kubernetes: pick('KUBERNETES_VERSION'),
    etcd: pick('ETCD_VERSION'),
    kwok: pick('KWOK_VERSION'),
    helm: pick('HELM_VERSION'),
  };
}

/** `${NEURALLOG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/neurallog-operator}` */
export function cacheDir(env: Env = process.env): string {
  if (env['NEURALLOG_CACHE_DIR']) return env['NEURALLOG_CACHE_DIR'];
  const xdg = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(xdg, 'neurallog-operator');
}

/** `${NEURALLOG_CLUSTER_DIR:-$TMPDIR/neurallog-cluster}` */
export function clusterDir(env: Env = process.env): string {
  return env['NEURALLOG_CLUSTER_DIR'] || join(env['TMPDIR'] || tmpdir(), 'neurallog-cluster');
}

export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
  kwok: string;
  /** Stage files passed to kwok with -c. */
  kwokStages: string[];
  /** StorageClass served by kwok's volume stages. */
  kwokStorageClass: string;
  /** Not part of the control plane: the chart's integration tests use it. */
  helm: string;
}

export const kwokStageNames: readonly string[] = [
  'node-initialize',
  'node-heartbeat-with-lease',
  'pod-ready',
  'pod-complete',
  'pod-delete',
  'pvc-provision',
  'pvc-delete',
  'pv-bind',
  'pv-delete',
];

/** Stages of our own (not from kwok's module): see each file's comment. */
export const projectKwokStages: readonly string[] = [
  join(repoRoot, 'hack', 'cluster', 'kwok', 'pod-ready-again.yaml'),
];

export function binaries(versions: Versions = readVersions(), cache: string = cacheDir()): Binaries {
  const bin = join(cache, 'bin');
  const k8s = (name: string): string => join(bin, `${name}-${versions.kubernetes}`, name);
  const kwokDir = join(bin, `kwok-${versions.kwok}`);
  return {
    kubeApiserver: k8s('kube-apiserver'),
    kubeControllerManager: k8s('kube-controller-manager'),
    kubeScheduler: k8s('kube-scheduler'),
    kubectl: k8s('kubectl'),
    etcd: join(bin, `etcd-${versions.etcd}`, 'etcd'),
    kwok: join(kwokDir, 'kwok'),
    kwokStages: [
      ...kwokStageNames.map((name) => join(kwokDir, 'stages', `${name}.yaml`)),
      ...projectKwokStages,
    ],
    kwokStorageClass: join(kwokDir, 'manifests', 'storage-class.yaml'),
    helm: join(bin, `helm-${versions.helm}`, 'helm'),
  };
}

/** True when every binary and stage file of these versions is in the cache. */
export function isBuilt(b: Binaries = binaries()): boolean {
  const files = [
    b.kubeApiserver,
    b.kubeControllerManager,
    b.kubeScheduler,
    b.kubectl,
    b.etcd,
    b.kwok,
    b.kwokStorageClass,
    b.helm,
    ...b.kwokStages,
  ];
  return files.every((file) => existsSync(file));
}
