// `tenant-operator cluster join` and `leave` against a second, fresh local control plane: from
// nothing on the member to a Ready MemberCluster in the management cluster, probed by the operator
// (running under the shipped config/rbac) with the member ServiceAccount's token and nothing
// else; joining again changes nothing; bad input is refused before anything is written; leave
// refuses while a tenant is placed there and otherwise undoes join.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { joinArgs as joinCommand, tenantOperatorCli } from '../operator/cli.ts';
import { type TestCluster, uniqueName, useSiblingCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import { OPERATOR_NAMESPACE } from '../operator/service-account.ts';
import { tenantManifest, waitForGone } from '../operator/tenants.ts';

const MEMBER_USER = 'system:serviceaccount:neurallog-system:neurallog-operator-member';

interface MemberJson {
  metadata: { labels?: Record<string, string> };
  spec?: { maxTenants?: number; kubeconfigSecretRef?: { name: string } };
  status?: {
    kubernetesVersion?: string;
    conditions?: Array<{ type: string; status: string; reason: string }>;
  };
}

const cli = (args: string[]) => tenantOperatorCli(args);

describe('cluster join and leave', { timeout: 600_000 }, () => {
  let management: TestCluster;
  let member: TestCluster;
  let env: OperatorEnvironment;
  const name = uniqueName('member');
  const twin = `${name}-twin`;
  const tenant = uniqueName('placed');

  before(async () => {
    env = await startEnvironment('join', { args: ['--member-probe-interval', '1s'] });
    management = env.cluster;
    member = await useSiblingCluster('member-a');
  });

  after(async () => {
    await management?.kubectl(['delete', 'tenant', tenant, '--ignore-not-found', '--wait=false']);
    await management?.kubectl(['delete', 'membercluster', name, twin, '--ignore-not-found']);
    await management?.kubectl([
      'delete',
      'secret',
      '-n',
      OPERATOR_NAMESPACE,
      `${name}-kubeconfig`,
      `${twin}-kubeconfig`,
      '--ignore-not-found',
    ]);
    await env?.close();
  });

  const joinArgs = (...extra: string[]) =>
    joinCommand(name, { member: member.kubeconfigPath, management: management.kubeconfigPath }, ...extra);

  test('bad input is refused, naming it, before anything is written', async () => {
    const cliRequests = async (cluster: TestCluster) =>
      (await readFile(cluster.auditLogPath, 'utf8'))
        .split('\n')
        .filter((l) => l.includes('"tenant-operator-cli"')).length;
    const before = [await cliRequests(member), await cliRequests(management)];
    const badName = await cli([...joinArgs(), '--max-tenants', '5'].map((a) => (a === name ? 'Prod_1' : a)));
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /NAME: must be 1-63 characters/);
    const badLabel = await cli(joinArgs('--label', 'env'));
    assert.equal(badLabel.code, 1);
    assert.match(badLabel.stderr, /--label env: write it as key=value/);
    const badValue = await cli(joinArgs('--label', 'env=has space'));
    assert.equal(badValue.code, 1);
    assert.match(badValue.stderr, /--label env: must be a label value/);
    const badMax = await cli(joinArgs('--max-tenants', '-3'));
    assert.notEqual(badMax.code, 0);
    assert.match(badMax.stderr, /--max-tenants/);
    assert.deepEqual(
      [await cliRequests(member), await cliRequests(management)],
      before,
      'no request reached either cluster',
    );
  });

  test('join takes a fresh member to a Ready MemberCluster, probed with the member token only', async () => {
    const joined = await cli(joinArgs('--max-tenants', '25', '--label', 'env=prod'));
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(
      joined.stdout,
      /member .*: applied ServiceAccount neurallog-system\/neurallog-operator-member/,
    );
    assert.match(joined.stdout, new RegExp(`management: wrote MemberCluster ${name}`));
    const mc = await waitFor(
      async () => {
        const m = await management.getJson<MemberJson>(['membercluster', name]);
        const ready = m?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' ? m : notYet(ready);
      },
      { timeoutMs: 60_000, description: `MemberCluster ${name} to be Ready` },
    );
    assert.deepEqual(mc?.metadata.labels?.['env'], 'prod');
    assert.equal(mc?.spec?.maxTenants, 25);
    assert.match(mc?.status?.kubernetesVersion ?? '', /^v1\./);
    // The operator reached the member as the member ServiceAccount (its access reviews are audited there).
    await waitFor(
      async () => {
        const lines = (await readFile(member.auditLogPath, 'utf8'))
          .split('\n')
          .filter((l) => l.includes('selfsubjectaccessreviews'));
        const events = lines.map((l) => JSON.parse(l) as { user: { username: string }; userAgent?: string });
        const byOperator = events.filter((e) => (e.userAgent ?? '').startsWith('tenant-operator/'));
        return byOperator.length > 0 && byOperator.every((e) => e.user.username === MEMBER_USER)
          ? true
          : notYet(byOperator.map((e) => e.user.username));
      },
      { timeoutMs: 30_000, description: 'the operator probing the member as its ServiceAccount' },
    );
  });

  test('joining again changes nothing', async () => {
    const before = await management.getJson<{ metadata: { resourceVersion: string } }>([
      'membercluster',
      name,
    ]);
    const again = await cli(joinArgs('--max-tenants', '25', '--label', 'env=prod'));
    assert.equal(again.code, 0, again.stderr);
    const afterJoin = await management.getJson<{ metadata: { resourceVersion: string } }>([
      'membercluster',
      name,
    ]);
    assert.equal(afterJoin?.metadata.resourceVersion, before?.metadata.resourceVersion);
  });

  test('leave refuses while a tenant is placed on the member', async () => {
    await management.kubectlOk(['apply', '-f', '-'], { input: tenantManifest(tenant) });
    await management.kubectlOk([
      'patch',
      'tenant',
      tenant,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { placement: { clusterName: name, reason: 'test', time: '2030-01-01T00:00:00Z' } },
      }),
    ]);
    const refused = await cli(['cluster', 'leave', name, '--kubeconfig', management.kubeconfigPath]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`1 tenant is placed on ${name} \\(${tenant}\\): delete it first`),
    );
    assert.ok(await management.getJson(['membercluster', name]), 'the MemberCluster is still there');
    await management.kubectlOk(['delete', 'tenant', tenant, '--wait=false']);
    await waitForGone(management, ['tenant', tenant], 120_000);
  });

  test('a second join of the same member leaves, and the first one keeps its credential', async () => {
    const memberSa = ['serviceaccount', '-n', 'neurallog-system', 'neurallog-operator-member'];
    const joinedTwin = await cli(
      joinCommand(twin, { member: member.kubeconfigPath, management: management.kubeconfigPath }),
    );
    assert.equal(joinedTwin.code, 0, joinedTwin.stderr);
    await waitFor(
      async () => {
        const m = await management.getJson<MemberJson>(['membercluster', twin]);
        const ready = m?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' ? true : notYet(ready);
      },
      { timeoutMs: 60_000, description: `MemberCluster ${twin} to be Ready` },
    );
    const left = await cli([
      'cluster',
      'leave',
      twin,
      '--kubeconfig',
      management.kubeconfigPath,
      '--kubeconfig-of-member',
      member.kubeconfigPath,
    ]);
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stdout, new RegExp(`kept ServiceAccount .*still used by MemberCluster ${name} `));
    assert.equal(await management.getJson(['membercluster', twin]), undefined);
    assert.ok(await member.getJson(memberSa), `the member ServiceAccount stays for ${name}`);
    // The credential of the MemberCluster that stays still works on the member.
    const secret = await management.getJson<{ data: Record<string, string> }>([
      'secret',
      '-n',
      OPERATOR_NAMESPACE,
      `${name}-kubeconfig`,
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'join-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, Buffer.from(secret!.data['value']!, 'base64'));
    const whoami = await member.kubectl(['--kubeconfig', kubeconfig, 'auth', 'whoami']);
    await rm(dir, { recursive: true, force: true });
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, new RegExp(MEMBER_USER));
    const stays = await management.getJson<MemberJson>(['membercluster', name]);
    assert.equal(stays?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  test('leave undoes join, keeping the member namespace and ClusterRole', async () => {
    const left = await cli([
      'cluster',
      'leave',
      name,
      '--kubeconfig',
      management.kubeconfigPath,
      '--kubeconfig-of-member',
      member.kubeconfigPath,
    ]);
    assert.equal(left.code, 0, left.stderr);
    assert.equal(await management.getJson(['membercluster', name]), undefined);
    assert.equal(
      await management.getJson(['secret', '-n', OPERATOR_NAMESPACE, `${name}-kubeconfig`]),
      undefined,
    );
    assert.equal(
      await member.getJson(['serviceaccount', '-n', 'neurallog-system', 'neurallog-operator-member']),
      undefined,
    );
    assert.equal(
      await member.getJson(['clusterrolebinding', 'neurallog-operator-member-rolebinding']),
      undefined,
    );
    assert.ok(await member.getJson(['clusterrole', 'neurallog-operator-manager-role']));
    assert.ok(await member.getJson(['namespace', 'neurallog-system']));
  });
});
