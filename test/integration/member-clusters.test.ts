// MemberCluster health on a real API server, with the operator under the shipped config/rbac: the
// management cluster itself as a member, a member reached through a kubeconfig Secret, and every
// way a member can be unusable (no Secret, a credential without the permissions, a server that is
// not there, a revoked token) — each named in its Ready condition. The Secret is watched: a new
// token is taken up without a restart, and a revoked one shows as Unauthorized.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type TestCluster, uniqueName } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import { freePort, metricValue } from '../operator/harness.ts';
import { OPERATOR_NAMESPACE } from '../operator/service-account.ts';

interface MemberJson {
  metadata: { generation?: number };
  status?: {
    kubernetesVersion?: string;
    lastProbeTime?: string;
    conditions?: Array<{
      type: string;
      status: string;
      reason: string;
      message: string;
      lastTransitionTime: string;
    }>;
  };
}

describe('MemberCluster health', { timeout: 600_000 }, () => {
  let cluster: TestCluster;
  let env: OperatorEnvironment;
  const prefix = uniqueName('mc');
  const members: string[] = [];
  const serviceAccounts: string[] = [];
  const secrets: string[] = [];

  before(async () => {
    env = await startEnvironment('members', {
      args: ['--member-probe-interval', '1s', '--member-request-timeout', '2s'],
    });
    ({ cluster } = env);
  });

  after(async () => {
    if (members.length > 0)
      await cluster.kubectl(['delete', 'memberclusters', ...members, '--ignore-not-found']);
    if (secrets.length > 0)
      await cluster.kubectl(['delete', 'secret', '-n', OPERATOR_NAMESPACE, ...secrets, '--ignore-not-found']);
    for (const sa of serviceAccounts) {
      await cluster.kubectl(['delete', 'serviceaccount', '-n', OPERATOR_NAMESPACE, sa, '--ignore-not-found']);
      await cluster.kubectl(['delete', 'clusterrolebinding', sa, '--ignore-not-found']);
    }
    await env?.close();
  });

  /** A self-contained kubeconfig (inline CA, a token), as a Secret of a member holds it. */
  async function kubeconfigText(token: string, server = cluster.cluster.state.server): Promise<string> {
    const ca = Buffer.from(await readFile(cluster.cluster.state.tls.caCert)).toString('base64');
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'member', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'member', context: { cluster: 'member', user: 'operator' } }],
      'current-context': 'member',
    });
  }

  /** A ServiceAccount in the operator namespace, bound to the operator's ClusterRole unless `bare`. */
  async function serviceAccount(name: string, bare = false): Promise<string> {
    serviceAccounts.push(name);
    await cluster.kubectlOk(['create', 'serviceaccount', '-n', OPERATOR_NAMESPACE, name]);
    if (!bare) {
      await cluster.kubectlOk([
        'create',
        'clusterrolebinding',
        name,
        '--clusterrole=neurallog-operator-manager-role',
        `--serviceaccount=${OPERATOR_NAMESPACE}:${name}`,
      ]);
    }
    return (await cluster.kubectlOk(['create', 'token', '-n', OPERATOR_NAMESPACE, name])).stdout.trim();
  }

  async function writeSecret(name: string, kubeconfig: string, key = 'value'): Promise<void> {
    if (!secrets.includes(name)) secrets.push(name);
    await cluster.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: OPERATOR_NAMESPACE },
        data: { [key]: Buffer.from(kubeconfig).toString('base64') },
      },
      OPERATOR_NAMESPACE,
    );
  }

  async function createMember(name: string, spec: Record<string, unknown> = {}): Promise<void> {
    members.push(name);
    await cluster.apply({ apiVersion: 'neurallog.io/v1', kind: 'MemberCluster', metadata: { name }, spec });
  }

  const readyOf = (m: MemberJson | undefined) => m?.status?.conditions?.find((c) => c.type === 'Ready');

  async function waitForReady(name: string, status: 'True' | 'False', reason?: string) {
    return waitFor(
      async () => {
        const m = await cluster.getJson<MemberJson>(['membercluster', name]);
        const ready = readyOf(m);
        return ready?.status === status && (reason === undefined || ready.reason === reason)
          ? m!
          : notYet(ready ?? m?.status);
      },
      {
        timeoutMs: 60_000,
        description: `MemberCluster ${name} Ready=${status}${reason ? ` (${reason})` : ''}`,
      },
    );
  }

  async function probes(name: string, result: string): Promise<number> {
    return metricValue(await env.operator.metrics(), 'neurallog_operator_member_cluster_probes_total', {
      cluster: name,
      result,
    });
  }

  test('the management cluster itself, as a member without a Secret, is Ready with its version', async () => {
    const name = `${prefix}-self`;
    await createMember(name, { maxTenants: 10 });
    const m = await waitForReady(name, 'True');
    assert.match(m.status?.kubernetesVersion ?? '', /^v1\.\d+\.\d+/);
    assert.equal(readyOf(m)?.reason, 'Ready');
    const table = await cluster.kubectlOk(['get', 'memberclusters', name]);
    assert.match(table.stdout, new RegExp(`${name}\\s+True\\s+0\\s+10\\s+v1\\.`));
    assert.equal(
      metricValue(await env.operator.metrics(), 'neurallog_operator_member_cluster_ready', { cluster: name }),
      1,
    );
  });

  test('a probe that finds nothing new writes nothing', async () => {
    const name = `${prefix}-self`;
    const before = await cluster.getJson<MemberJson>(['membercluster', name]);
    const from = await probes(name, 'Ready');
    await waitFor(async () => ((await probes(name, 'Ready')) >= from + 3 ? true : notYet()), {
      timeoutMs: 30_000,
      description: 'three more probes of the management cluster',
    });
    const after = await cluster.getJson<MemberJson>(['membercluster', name]);
    assert.deepEqual(after?.status, before?.status, 'the status (lastProbeTime included) is unchanged');
  });

  test('a member reached through its kubeconfig Secret is Ready; a missing Secret says so, and its creation is taken up', async () => {
    const name = `${prefix}-remote`;
    const secret = `${name}-kubeconfig`;
    await createMember(name, { kubeconfigSecretRef: { name: secret } });
    const missing = await waitForReady(name, 'False', 'CredentialsInvalid');
    assert.match(
      readyOf(missing)?.message ?? '',
      new RegExp(`Secret ${OPERATOR_NAMESPACE}/${secret} does not exist: create it`),
    );
    await writeSecret(secret, await kubeconfigText(await serviceAccount(`${name}-a`)));
    await waitForReady(name, 'True');
  });

  test('a Secret with the kubeconfig under another key is named with the keys it has', async () => {
    const name = `${prefix}-key`;
    const secret = `${name}-kubeconfig`;
    await writeSecret(secret, await kubeconfigText('unused'), 'config');
    await createMember(name, { kubeconfigSecretRef: { name: secret } });
    const m = await waitForReady(name, 'False', 'CredentialsInvalid');
    assert.match(readyOf(m)?.message ?? '', /has no key value \(it has config\)/);
    const patch = { spec: { kubeconfigSecretRef: { name: secret, key: 'config' } } };
    await cluster.kubectlOk(['patch', 'membercluster', name, '--type=merge', '-p', JSON.stringify(patch)]);
    // The key is right now; the token is not: the member says Unauthorized.
    await waitForReady(name, 'False', 'Unauthorized');
  });

  test('a credential without the operator permissions is Forbidden, naming what is missing', async () => {
    const name = `${prefix}-weak`;
    await writeSecret(`${name}-kubeconfig`, await kubeconfigText(await serviceAccount(`${name}-sa`, true)));
    await createMember(name, { kubeconfigSecretRef: { name: `${name}-kubeconfig` } });
    const m = await waitForReady(name, 'False', 'Forbidden');
    assert.match(
      readyOf(m)?.message ?? '',
      /cannot create, delete, list, watch namespaces; create, list, watch secrets/,
    );
    assert.match(readyOf(m)?.message ?? '', /apply config\/member\/ there/);
  });

  test('a member whose server does not answer is Unreachable, and the others are probed all the while', async () => {
    const name = `${prefix}-down`;
    const port = await freePort();
    await writeSecret(`${name}-kubeconfig`, await kubeconfigText('unused', `https://127.0.0.1:${port}`));
    await createMember(name, { kubeconfigSecretRef: { name: `${name}-kubeconfig` } });
    const m = await waitForReady(name, 'False', 'Unreachable');
    assert.match(readyOf(m)?.message ?? '', new RegExp(`${name} does not answer`));
    assert.equal(
      metricValue(await env.operator.metrics(), 'neurallog_operator_member_cluster_ready', { cluster: name }),
      0,
    );
    const self = `${prefix}-self`;
    const from = await probes(self, 'Ready');
    await waitFor(async () => ((await probes(self, 'Ready')) >= from + 2 ? true : notYet()), {
      timeoutMs: 30_000,
      description: 'the management cluster probed while another member is down',
    });
  });

  test('a rotated token is used without a restart, and a revoked one shows as Unauthorized', async () => {
    const name = `${prefix}-remote`;
    const secret = `${name}-kubeconfig`;
    const before = readyOf(await waitForReady(name, 'True'));
    // The new credential is written, then the old one revoked (its ServiceAccount deleted).
    await writeSecret(secret, await kubeconfigText(await serviceAccount(`${name}-b`)));
    await cluster.kubectlOk(['delete', 'serviceaccount', '-n', OPERATOR_NAMESPACE, `${name}-a`]);
    const from = await probes(name, 'Ready');
    await waitFor(async () => ((await probes(name, 'Ready')) >= from + 3 ? true : notYet()), {
      timeoutMs: 30_000,
      description: 'three Ready probes of the member after its old token was revoked',
    });
    const still = readyOf(await cluster.getJson<MemberJson>(['membercluster', name]));
    assert.equal(still?.status, 'True');
    assert.equal(still?.lastTransitionTime, before?.lastTransitionTime, 'it never stopped being Ready');
    // Revoking the token in use, without a new one, is noticed.
    await cluster.kubectlOk(['delete', 'serviceaccount', '-n', OPERATOR_NAMESPACE, `${name}-b`]);
    const revoked = await waitForReady(name, 'False', 'Unauthorized');
    assert.match(readyOf(revoked)?.message ?? '', /replace the token or certificate in the Secret/);
  });

  test('a deleted MemberCluster takes its ready gauge with it', async () => {
    const name = `${prefix}-down`;
    await cluster.kubectlOk(['delete', 'membercluster', name]);
    const series = `neurallog_operator_member_cluster_ready{cluster="${name}"}`;
    await waitFor(async () => ((await env.operator.metrics()).includes(series) ? notYet() : true), {
      timeoutMs: 30_000,
      description: `the ready gauge of ${name} to go`,
    });
  });
});
