// The install artefacts on the real API server: `kubectl apply -k config/default` is accepted and
// its RBAC is enough to run the operator (the operator runs with a token of the shipped
// ServiceAccount, leader election on); the Helm chart lints, installs, and uninstalls without
// taking the CRD (and so every Tenant) with it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { binaries, repoRoot } from '../cluster/config.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, startOperator } from '../operator/harness.ts';
import { operatorKubeconfig } from '../operator/service-account.ts';
import { applyTenant, installCrd, waitForGone, waitForReady } from '../operator/tenants.ts';

const run = promisify(execFile);
const NAMESPACE = 'neurallog-system';
const SERVICE_ACCOUNT = 'neurallog-operator-controller-manager';
const CHART = join(repoRoot, 'charts', 'tenant-operator');

interface DeploymentJson {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

function available(d: DeploymentJson | undefined): boolean {
  return (d?.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
}

describe('kustomize config/default on the API server', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let peer: AuthPeer | undefined;
  let operator: OperatorProcess | undefined;
  const tenant = uniqueName('installed');

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
  });

  after(async () => {
    await cluster.kubectl(['delete', 'tenant', tenant, '--ignore-not-found', '--timeout=120s']);
    await operator?.stop();
    await peer?.close();
    // Everything config/default made except the CRD, which other tests share.
    await cluster.kubectl([
      'delete',
      'clusterrole,clusterrolebinding',
      '-l',
      'app.kubernetes.io/part-of=neurallog',
      '--ignore-not-found',
    ]);
    await cluster.kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--timeout=180s']);
  });

  test('is accepted, and its manager Deployment becomes Available', async () => {
    const { stdout } = await cluster.kubectlOk([
      'apply',
      '--server-side',
      '--force-conflicts',
      '-k',
      join(repoRoot, 'config', 'default'),
    ]);
    for (const made of [
      `namespace/${NAMESPACE}`,
      `serviceaccount/${SERVICE_ACCOUNT}`,
      'clusterrole.rbac.authorization.k8s.io/neurallog-operator-manager-role',
      `deployment.apps/neurallog-operator-controller-manager`,
      'customresourcedefinition.apiextensions.k8s.io/tenants.neurallog.io',
    ]) {
      assert.match(stdout, new RegExp(`^${made.replaceAll('.', '\\.')} serverside-applied$`, 'm'));
    }
    await waitFor(
      async () => {
        const d = await cluster.getJson<DeploymentJson>([
          'deployment',
          'neurallog-operator-controller-manager',
          '-n',
          NAMESPACE,
        ]);
        return available(d) || notYet(d?.status);
      },
      { timeoutMs: 120_000, description: 'the manager Deployment to be Available' },
    );
  });

  test('its RBAC is enough: the operator, as that ServiceAccount, runs a tenant to Ready and deletes it', async () => {
    const kubeconfigPath = await operatorKubeconfig(cluster);
    const whoami = await cluster.kubectlOk(['--kubeconfig', kubeconfigPath, 'auth', 'whoami', '-o', 'json']);
    assert.equal(
      (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username,
      `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`,
    );
    peer = await startAuthPeer({});
    operator = await startOperator({
      cluster,
      authUrl: peer.url,
      name: 'service-account',
      args: ['--leader-elect', '--leader-election-namespace', NAMESPACE],
    });
    await applyTenant(cluster, tenant, { displayName: 'Installed by kustomize', server: { replicas: 2 } });
    // Two server replicas: the PodDisruptionBudget is made too, so every kind's rule is used.
    await waitForReady(cluster, tenant, 180_000);
    await cluster.kubectlOk(['delete', 'tenant', tenant, '--timeout=180s']);
    await waitForGone(cluster, ['namespace', `tenant-${tenant}`], 180_000);
    // RBAC denials read `... is forbidden: User "system:serviceaccount:..." cannot patch resource ...`.
    const denied = (await operator.logs()).split('\n').filter((line) => /cannot [a-z]+ resource/.test(line));
    assert.deepEqual(denied, [], "RBAC denied none of the operator's requests");
  });
});

describe('Helm chart on the API server', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  const helm = binaries().helm;
  const release = 'tenant-operator-it';
  const namespace = 'neurallog-helm-it';
  const helmRun = (args: string[]) =>
    run(helm, [...args, '--kubeconfig', cluster.kubeconfigPath], { encoding: 'utf8', timeout: 300_000 });

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
  });

  after(async () => {
    await helmRun(['uninstall', release, '-n', namespace, '--ignore-not-found']).catch(() => undefined);
    await cluster.kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--timeout=180s']);
  });

  test('helm lint --strict passes', async () => {
    const { stdout } = await run(helm, ['lint', '--strict', CHART], { encoding: 'utf8' });
    assert.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('installs and becomes ready; uninstall leaves the CRD and the Tenants in place', async () => {
    const keep = uniqueName('kept');
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: `apiVersion: neurallog.io/v1\nkind: Tenant\nmetadata:\n  name: ${keep}\nspec:\n  displayName: Kept\n`,
    });
    try {
      await helmRun([
        'install',
        release,
        CHART,
        '-n',
        namespace,
        '--create-namespace',
        '--set',
        `fullnameOverride=${release}`,
        '--wait',
        '--timeout',
        '3m',
      ]);
      const d = await cluster.getJson<DeploymentJson>([
        'deployment',
        `${release}-controller-manager`,
        '-n',
        namespace,
      ]);
      assert.ok(available(d), 'the chart Deployment is Available');
      const binding = await cluster.getJson<{ subjects: Array<{ name: string; namespace: string }> }>([
        'clusterrolebinding',
        `${release}-manager-rolebinding`,
      ]);
      assert.deepEqual(
        binding?.subjects.map((s) => [s.name, s.namespace]),
        [[`${release}-controller-manager`, namespace]],
      );

      await helmRun(['uninstall', release, '-n', namespace, '--wait']);
      assert.ok(await cluster.getJson(['crd', 'tenants.neurallog.io']), 'the CRD survives helm uninstall');
      assert.ok(await cluster.getJson(['tenant', keep]), 'the Tenant survives helm uninstall');
      assert.equal(await cluster.getJson(['clusterrole', `${release}-manager-role`]), undefined);
    } finally {
      // No operator runs for this Tenant, so no finalizer holds it.
      await cluster.kubectl(['delete', 'tenant', keep, '--ignore-not-found', '--wait=false']);
    }
  });
});
