// The operator as users install it: the RBAC of config/rbac (applied from the files, not a copy)
// and a token of its ServiceAccount. Tests run the operator with this identity only; the admin
// certificate stays the test's own, for setting things up and looking at them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clusterDir, repoRoot } from '../cluster/config.ts';
import type { TestCluster } from '../cluster/fixture.ts';

export const OPERATOR_NAMESPACE = 'neurallog-system';
export const OPERATOR_SERVICE_ACCOUNT = 'neurallog-operator-controller-manager';
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;
export const RBAC_DIR = join(repoRoot, 'config', 'rbac');

/** Applies config/rbac (and the namespace it lives in) as shipped. */
export async function installRbac(cluster: TestCluster): Promise<void> {
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } });
  await cluster.kubectlOk(['apply', '--server-side', '--force-conflicts', '-k', RBAC_DIR]);
}

/** A kubeconfig that authenticates as `serviceAccount` with a token from the TokenRequest API. */
export async function tokenKubeconfig(
  cluster: TestCluster,
  namespace: string,
  serviceAccount: string,
  duration = '24h',
): Promise<string> {
  const token = (
    await cluster.kubectlOk(['create', 'token', serviceAccount, '-n', namespace, `--duration=${duration}`])
  ).stdout.trim();
  const { state } = cluster.cluster;
  const path = join(clusterDir(), `kubeconfig-${serviceAccount}-${process.pid}-${Date.now()}`);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'local', cluster: { server: state.server, 'certificate-authority': state.tls.caCert } },
    ],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: 'sa', context: { cluster: 'local', user: serviceAccount, namespace } }],
    'current-context': 'sa',
  };
  await writeFile(path, JSON.stringify(kubeconfig), { mode: 0o600 });
  return path;
}

const installed = new WeakMap<TestCluster, Promise<string>>();

/**
 * The kubeconfig the operator runs with: config/rbac installed (once per test process and
 * cluster) and a token of its ServiceAccount.
 */
export function operatorKubeconfig(cluster: TestCluster): Promise<string> {
  let path = installed.get(cluster);
  if (!path) {
    path = installRbac(cluster).then(() =>
      tokenKubeconfig(cluster, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT),
    );
    path.catch(() => installed.delete(cluster));
    installed.set(cluster, path);
  }
  return path;
}
