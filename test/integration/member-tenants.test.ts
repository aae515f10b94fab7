// Tenants on a member cluster reached through its kubeconfig Secret, on two real local control
// planes: the operator runs under config/rbac in the management cluster and acts on the member as
// the ServiceAccount `cluster join` set up there (config/member), nothing else. A tenant pinned
// to the member comes up there, its objects carrying the tenant-uid annotation instead of owner
// references; drift there is repaired; a look-alike namespace there is never adopted. With the
// member's kube-apiserver stopped, its tenants go Ready=Unknown/ClusterUnreachable while a tenant
// on the other member is created and comes up; a tenant deleted meanwhile lets go after
// --member-cleanup-timeout, and its namespace is deleted on the member when it is back, while
// the look-alike survives; the tenant that stayed recovers by itself.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { startComponent, stopComponent } from '../cluster/cluster.ts';
import { type TestCluster, uniqueName, useSiblingCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { joinArgs, leaveArgs, tenantOperatorCli } from '../operator/cli.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import { OPERATOR_NAMESPACE } from '../operator/service-account.ts';
import { waitForMembersReady } from '../operator/members.ts';
import {
  type TenantJson,
  getTenant,
  tenantManifest,
  waitForGone,
  waitForReady,
} from '../operator/tenants.ts';

const CLEANUP_TIMEOUT_S = 20;

interface NamespaceJson {
  metadata: { annotations?: Record<string, string>; ownerReferences?: unknown[]; deletionTimestamp?: string };
}

interface MemberStatusJson {
  status?: {
    pendingCleanup?: Array<{ tenant: string; uid: string; namespace: string }>;
    conditions?: Array<{ type: string; status: string; reason: string }>;
  };
}

describe('tenants on a member cluster', { timeout: 900_000 }, () => {
  let management: TestCluster;
  let member: TestCluster;
  let env: OperatorEnvironment;
  const prefix = uniqueName('mt');
  const remote = `${prefix}-remote`;
  const local = `${prefix}-local`;
  const kept = `${prefix}-kept`;
  const doomed = `${prefix}-doomed`;
  const during = `${prefix}-during`;
  const lookAlike = `${prefix}-alike`;
  const first = `${prefix}-first`;
  const holder = `${prefix}-holder`;
  const copy = `${prefix}-copy`;
  const sharedId = `${prefix}-shared`;
  const tenants = [kept, doomed, during, lookAlike, first, holder, copy];

  before(async () => {
    env = await startEnvironment('member-tenants', {
      args: [
        '--member-probe-interval',
        '1s',
        '--member-request-timeout',
        '2s',
        '--member-cleanup-timeout',
        `${CLEANUP_TIMEOUT_S}s`,
      ],
    });
    management = env.cluster;
    member = await useSiblingCluster('member-a');
    // Made while the operator serves one cluster: no MemberCluster exists yet.
    await management.kubectlOk(['apply', '-f', '-'], { input: tenantManifest(first) });
    await waitForReady(management, first, 240_000);
    const joined = await tenantOperatorCli(
      joinArgs(
        remote,
        { member: member.kubeconfigPath, management: management.kubeconfigPath },
        '--label',
        'where=remote',
      ),
    );
    assert.equal(joined.code, 0, joined.stderr);
    await management.apply({
      apiVersion: 'neurallog.io/v1',
      kind: 'MemberCluster',
      metadata: { name: local, labels: { where: 'local' } },
      spec: {},
    });
    await waitForMembersReady(management, [remote, local]);
  });

  after(async () => {
    await startComponent(member.cluster, 'kube-apiserver').catch(() => undefined);
    await management?.kubectl(['delete', 'tenants', ...tenants, '--ignore-not-found', '--wait=false']);
    for (const t of tenants) await waitForGone(management, ['tenant', t], 180_000).catch(() => undefined);
    await member?.kubectl([
      'delete',
      'namespace',
      `tenant-${lookAlike}`,
      '--ignore-not-found',
      '--wait=false',
    ]);
    await tenantOperatorCli(
      leaveArgs(remote, { member: member.kubeconfigPath, management: management.kubeconfigPath }),
    );
    await management?.kubectl(['delete', 'membercluster', local, '--ignore-not-found']);
    await env?.close();
  });

  const pinned = (name: string, cluster: string, spec: Record<string, unknown> = {}) =>
    tenantManifest(name, { ...spec, placement: { clusterName: cluster } });
  const readyOf = (t: TenantJson | undefined) => t?.status?.conditions?.find((c) => c.type === 'Ready');

  test('a tenant pinned to the member comes up there, owned through the tenant-uid annotation', async () => {
    await management.kubectlOk(['apply', '-f', '-'], {
      input: [pinned(kept, remote), pinned(doomed, remote)].join('---\n'),
    });
    const t = await waitForReady(management, kept, 240_000);
    await waitForReady(management, doomed, 240_000);
    const ns = await member.getJson<NamespaceJson>(['namespace', `tenant-${kept}`]);
    assert.equal(ns?.metadata.annotations?.['neurallog.io/tenant-uid'], t.metadata.uid);
    assert.equal(ns?.metadata.ownerReferences, undefined, 'no owner reference points across clusters');
    const deployment = await member.getJson<NamespaceJson>([
      'deployment',
      '-n',
      `tenant-${kept}`,
      `${kept}-server`,
    ]);
    assert.equal(deployment?.metadata.annotations?.['neurallog.io/tenant-uid'], t.metadata.uid);
    assert.equal(
      await management.getJson(['namespace', `tenant-${kept}`]),
      undefined,
      'nothing on the management cluster',
    );
  });

  test('drift on the member is repaired', async () => {
    await member.kubectlOk(['delete', 'deployment', '-n', `tenant-${kept}`, `${kept}-server`]);
    await waitFor(
      async () =>
        (await member.getJson(['deployment', '-n', `tenant-${kept}`, `${kept}-server`])) ? true : notYet(),
      { timeoutMs: 60_000, description: 'the server Deployment restored on the member' },
    );
  });

  test('a look-alike namespace on the member, without the annotation, is not adopted', async () => {
    await member.kubectlOk(['create', 'namespace', `tenant-${lookAlike}`]);
    await member.kubectlOk([
      'label',
      'namespace',
      `tenant-${lookAlike}`,
      'app.kubernetes.io/managed-by=tenant-operator',
      `neurallog.io/tenant=${lookAlike}`,
    ]);
    await management.kubectlOk(['apply', '-f', '-'], { input: pinned(lookAlike, remote) });
    await waitFor(
      async () => {
        const ready = readyOf(await getTenant(management, lookAlike));
        return ready?.reason === 'NamespaceConflict' ? true : notYet(ready);
      },
      { timeoutMs: 60_000, description: `tenant ${lookAlike} NamespaceConflict` },
    );
  });

  test('a tenant made before the first MemberCluster is recorded on the MemberCluster that is this cluster', async () => {
    const namespaceBefore = await management.getJson<{ metadata: { uid: string } }>([
      'namespace',
      `tenant-${first}`,
    ]);
    await waitFor(
      async () => {
        const t = await getTenant(management, first);
        const placement = (t?.status as { placement?: { clusterName?: string } } | undefined)?.placement;
        return placement?.clusterName === local ? true : notYet(placement);
      },
      { timeoutMs: 60_000, description: `tenant ${first} recorded on ${local}` },
    );
    await waitFor(
      async () => {
        const m = await management.getJson<{ status?: { tenants?: number } }>(['membercluster', local]);
        return m?.status?.tenants === 1 ? true : notYet(m?.status?.tenants);
      },
      { timeoutMs: 60_000, description: `MemberCluster ${local} counting ${first}` },
    );
    assert.equal(readyOf(await getTenant(management, first))?.status, 'True');
    const namespaceAfter = await management.getJson<{ metadata: { uid: string } }>([
      'namespace',
      `tenant-${first}`,
    ]);
    assert.equal(
      namespaceAfter?.metadata.uid,
      namespaceBefore?.metadata.uid,
      'the tenant stayed where it was',
    );
  });

  test('a tenant id already placed on one member is not provisioned again on another', async () => {
    await management.kubectlOk(['apply', '-f', '-'], {
      input: pinned(holder, remote, { tenantId: sharedId }),
    });
    await waitForReady(management, holder, 240_000);
    await management.kubectlOk(['apply', '-f', '-'], { input: pinned(copy, local, { tenantId: sharedId }) });
    await waitFor(
      async () => {
        const t = await getTenant(management, copy);
        const ready = readyOf(t);
        return ready?.reason === 'TenantIdConflict' && t?.status?.phase === 'Failed' ? true : notYet(ready);
      },
      { timeoutMs: 60_000, description: `tenant ${copy} TenantIdConflict` },
    );
    assert.match(
      readyOf(await getTenant(management, copy))?.message ?? '',
      new RegExp(`used by Tenant ${holder}`),
    );
    assert.equal(
      await management.getJson(['namespace', `tenant-${sharedId}`]),
      undefined,
      'nothing made for the copy',
    );
    assert.deepEqual((await getTenant(management, copy))?.metadata.finalizers ?? [], []);

    // Once the id is free, the copy is placed as any new tenant.
    await management.kubectlOk(['delete', 'tenant', holder, '--wait=false']);
    await waitForGone(management, ['tenant', holder], 180_000);
    const placed = await waitForReady(management, copy, 240_000);
    const ns = await management.getJson<NamespaceJson>(['namespace', `tenant-${sharedId}`]);
    assert.ok(ns, `the copy now lives on ${local}`);
    assert.equal(placed.status?.phase, 'Running');
  });

  test('with the member down its tenants are ClusterUnreachable, while a tenant on the other member comes up', async () => {
    await stopComponent(member.cluster, 'kube-apiserver');
    await waitFor(
      async () => {
        const t = await getTenant(management, kept);
        const ready = readyOf(t);
        return ready?.status === 'Unknown' &&
          ready.reason === 'ClusterUnreachable' &&
          t?.status?.phase === 'Degraded'
          ? true
          : notYet(ready);
      },
      { timeoutMs: 60_000, description: `tenant ${kept} ClusterUnreachable` },
    );
    const started = Date.now();
    await management.kubectlOk(['apply', '-f', '-'], { input: pinned(during, local) });
    await waitForReady(management, during, 120_000);
    process.stdout.write(
      `# a tenant on the management member came up in ${Date.now() - started} ms with the other member down\n`,
    );
  });

  test('a tenant deleted while its member is down lets go after the cleanup timeout, leaving a pending cleanup', async () => {
    const uid = (await getTenant(management, doomed))?.metadata.uid;
    await management.kubectlOk(['delete', 'tenant', doomed, '--wait=false']);
    await waitForGone(management, ['tenant', doomed], (CLEANUP_TIMEOUT_S + 60) * 1000);
    const m = await management.getJson<MemberStatusJson>(['membercluster', remote]);
    assert.deepEqual(
      m?.status?.pendingCleanup?.map((c) => [c.tenant, c.uid, c.namespace]),
      [[doomed, uid, `tenant-${doomed}`]],
    );
    const events = await management.kubectlOk([
      'get',
      'events',
      '-A',
      '--field-selector',
      `involvedObject.name=${doomed},reason=MemberCleanupDeferred`,
      '-o',
      'name',
    ]);
    assert.notEqual(events.stdout.trim(), '');
  });

  test('when the member is back: the pending namespace is deleted, the look-alike survives, the tenant recovers', async () => {
    const auditFrom = (await stat(member.auditLogPath)).size;
    await startComponent(member.cluster, 'kube-apiserver');
    await waitFor(
      async () => {
        const ns = await member.getJson<NamespaceJson>(['namespace', `tenant-${doomed}`]);
        return ns === undefined || ns.metadata.deletionTimestamp ? true : notYet('still there');
      },
      { timeoutMs: 90_000, description: `namespace tenant-${doomed} deleted on the member` },
    );
    await waitFor(
      async () => {
        const m = await management.getJson<MemberStatusJson>(['membercluster', remote]);
        return (m?.status?.pendingCleanup ?? []).length === 0 ? true : notYet(m?.status?.pendingCleanup);
      },
      { timeoutMs: 60_000, description: 'the pending cleanup done' },
    );
    assert.ok(
      await member.getJson(['namespace', `tenant-${lookAlike}`]),
      'the look-alike namespace survives',
    );
    await waitForReady(management, kept, 120_000);
    // Nothing changed on the member meanwhile: the only write there is the pending namespace's deletion.
    const after = (await readFile(member.auditLogPath)).subarray(auditFrom).toString('utf8');
    const writes = after
      .split('\n')
      .filter((l) => l.length > 0)
      .map(
        (l) =>
          JSON.parse(l) as {
            verb: string;
            userAgent?: string;
            objectRef?: { resource?: string; name?: string };
          },
      )
      .filter(
        (e) =>
          (e.userAgent ?? '').startsWith('tenant-operator/') && !['get', 'list', 'watch'].includes(e.verb),
      )
      .filter((e) => e.objectRef?.resource !== 'selfsubjectaccessreviews')
      .map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`);
    assert.deepEqual(writes, [`delete namespaces/tenant-${doomed}`]);
  });

  test('the operator acted on the member only as the member ServiceAccount', async () => {
    const secret = await management.getJson(['secret', '-n', OPERATOR_NAMESPACE, `${remote}-kubeconfig`]);
    assert.ok(secret, 'the kubeconfig Secret join wrote');
    const lines = (await readFile(member.auditLogPath, 'utf8')).split('\n').filter((l) => l.length > 0);
    const byOperator = lines
      .map((l) => JSON.parse(l) as { user: { username: string }; userAgent?: string })
      .filter((e) => (e.userAgent ?? '').startsWith('tenant-operator/'));
    assert.ok(byOperator.length > 0);
    assert.deepEqual(
      [...new Set(byOperator.map((e) => e.user.username))],
      ['system:serviceaccount:neurallog-system:neurallog-operator-member'],
    );
  });
});
