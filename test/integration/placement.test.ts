// Placement over MemberClusters, on three local control planes: the management cluster, with the
// operator under the shipped config/rbac, and two members joined with `tenant-operator cluster
// join` (config/member on each), of maxTenants 10 and 25. Every placed tenant is provisioned on
// its member and must become Ready: 30 tenants created at once are all placed, none over
// capacity, spread by fill ratio; a pin and a selector are honoured; a cordoned member takes
// nothing new; full members leave a tenant Pending with a reason per member until capacity is
// raised; a changed spec.placement is reported, not applied; a MemberCluster with tenants is not
// deleted until they are gone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Placements } from '../../src/placement/placements.ts';
import type { MemberClusterObject } from '../../src/members/member-controller.ts';
import { type TestCluster, uniqueName, useSiblingCluster } from '../cluster/fixture.ts';
import { joinArgs, leaveArgs, tenantOperatorCli } from '../operator/cli.ts';
import { waitForMembersReady } from '../operator/members.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorEnvironment, startEnvironment } from '../operator/environment.ts';
import {
  type TenantJson,
  getTenant,
  tenantManifest,
  waitForGone,
  waitForReady,
} from '../operator/tenants.ts';

type PlacedJson = TenantJson & {
  status?: TenantJson['status'] & { placement?: { clusterName: string; reason: string; time: string } };
};

describe('placement over member clusters', { timeout: 900_000 }, () => {
  let cluster: TestCluster;
  let env: OperatorEnvironment;
  const prefix = uniqueName('pl');
  const small = `${prefix}-small`;
  const large = `${prefix}-large`;
  const burst = Array.from({ length: 30 }, (_, i) => `${prefix}-${i}`);
  const tenants: string[] = [...burst];

  const memberClusters = new Map<string, TestCluster>();

  before(async () => {
    env = await startEnvironment('placement', { args: ['--member-probe-interval', '1s'] });
    ({ cluster } = env);
    for (const [name, max, size, sibling] of [
      [small, 10, 'small', 'member-a'],
      [large, 25, 'large', 'member-b'],
    ] as const) {
      const member = await useSiblingCluster(sibling);
      memberClusters.set(name, member);
      const joined = await tenantOperatorCli(
        joinArgs(
          name,
          { member: member.kubeconfigPath, management: cluster.kubeconfigPath },
          '--max-tenants',
          String(max),
          '--label',
          `size=${size}`,
        ),
      );
      assert.equal(joined.code, 0, joined.stderr);
    }
    await waitForMembersReady(cluster, [small, large]);
  });

  after(async () => {
    await cluster?.kubectl(['delete', 'tenants', ...tenants, '--ignore-not-found', '--wait=false']);
    for (const t of tenants) await waitForGone(cluster, ['tenant', t], 180_000).catch(() => undefined);
    for (const [name, member] of memberClusters) {
      await tenantOperatorCli(
        leaveArgs(name, { member: member.kubeconfigPath, management: cluster.kubeconfigPath }),
      );
    }
    await env?.close();
  });

  const placementOf = async (name: string) =>
    ((await getTenant(cluster, name)) as PlacedJson | undefined)?.status?.placement;
  const scheduledOf = async (name: string) =>
    (await getTenant(cluster, name))?.status?.conditions?.find((c) => c.type === 'Scheduled');

  async function waitForPlacement(name: string): Promise<string> {
    return waitFor(async () => (await placementOf(name))?.clusterName ?? notYet(await scheduledOf(name)), {
      timeoutMs: 60_000,
      description: `tenant ${name} placed`,
    });
  }

  async function waitForUnplaced(name: string): Promise<string> {
    return waitFor(
      async () => {
        const s = await scheduledOf(name);
        return s?.status === 'False' && s.reason === 'NoClusterAvailable' ? s.message : notYet(s);
      },
      { timeoutMs: 60_000, description: `tenant ${name} NoClusterAvailable` },
    );
  }

  test('30 tenants created at once are all placed, none over capacity, spread by fill ratio, and come up', async () => {
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: burst.map((n) => tenantManifest(n)).join('---\n'),
    });
    const placed = new Map<string, number>();
    for (const name of burst) {
      const where = await waitForPlacement(name);
      placed.set(where, (placed.get(where) ?? 0) + 1);
    }
    // What the fill-ratio rule gives for 30 decisions, whatever their order.
    const expected = new Placements(() => []);
    const members = [small, large].map((name, i) => ({
      apiVersion: 'neurallog.io/v1',
      kind: 'MemberCluster',
      metadata: { name },
      spec: { maxTenants: i === 0 ? 10 : 25 },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' as const, reason: 'Ready', message: '', lastTransitionTime: '' },
        ],
      },
    }));
    for (const name of burst) expected.decide(name, name, {}, members);
    assert.deepEqual(Object.fromEntries(placed), Object.fromEntries(expected.counts()));
    assert.ok((placed.get(small) ?? 0) <= 10 && (placed.get(large) ?? 0) <= 25);
    for (const name of burst) await waitForReady(cluster, name, 300_000);
    for (const name of burst.slice(0, 4)) {
      const where = (await placementOf(name))!.clusterName;
      const other = where === small ? large : small;
      assert.ok(
        await memberClusters.get(where)!.getJson(['namespace', `tenant-${name}`]),
        `${name} is on ${where}`,
      );
      assert.equal(await memberClusters.get(other)!.getJson(['namespace', `tenant-${name}`]), undefined);
    }
    await waitFor(
      async () => {
        const m = await cluster.getJson<MemberClusterObject>(['membercluster', large]);
        return m?.status?.tenants === placed.get(large) ? true : notYet(m?.status?.tenants);
      },
      { timeoutMs: 30_000, description: `MemberCluster ${large} counting its tenants` },
    );
    const wide = await cluster.kubectlOk(['get', 'tenants', burst[0]!, '-o', 'wide']);
    assert.match(wide.stdout, new RegExp(`\\s(${small}|${large})\\s*$`, 'm'), 'the CLUSTER column');
  });

  test('a pin and a selector are honoured; a cordoned member takes no new tenant until uncordoned', async () => {
    const pinned = `${prefix}-pinned`;
    const selected = `${prefix}-selected`;
    tenants.push(pinned, selected);
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: [
        tenantManifest(pinned, { placement: { clusterName: small } }),
        tenantManifest(selected, { placement: { clusterSelector: { matchLabels: { size: 'large' } } } }),
      ].join('---\n'),
    });
    assert.equal(await waitForPlacement(pinned), small);
    assert.equal(await waitForPlacement(selected), large);

    await cluster.kubectlOk([
      'patch',
      'membercluster',
      large,
      '--type=merge',
      '-p',
      '{"spec":{"unschedulable":true}}',
    ]);
    const cordoned = `${prefix}-cordoned`;
    tenants.push(cordoned);
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: tenantManifest(cordoned, { placement: { clusterSelector: { matchLabels: { size: 'large' } } } }),
    });
    const why = await waitForUnplaced(cordoned);
    assert.match(why, new RegExp(`${large}: cordoned \\(spec\\.unschedulable\\)`));
    assert.match(why, new RegExp(`${small}: labels do not match`));
    assert.equal((await getTenant(cluster, cordoned))?.status?.phase, 'Pending');
    for (const member of memberClusters.values())
      assert.equal(
        await member.getJson(['namespace', `tenant-${cordoned}`]),
        undefined,
        'nothing is made for a tenant that is not placed',
      );
    await cluster.kubectlOk([
      'patch',
      'membercluster',
      large,
      '--type=merge',
      '-p',
      '{"spec":{"unschedulable":false}}',
    ]);
    assert.equal(await waitForPlacement(cordoned), large);
  });

  test('full members leave a tenant Pending with a reason per member, placed as soon as capacity is raised', async () => {
    // The small member is full: every tenant pinned to it so far has filled its 10 places.
    const filler: string[] = [];
    const m = await cluster.getJson<MemberClusterObject>(['membercluster', small]);
    const onSmall = (
      await Promise.all(tenants.map(async (t) => ((await placementOf(t))?.clusterName === small ? 1 : 0)))
    ).reduce<number>((a, b) => a + b, 0);
    for (let i = onSmall; i < (m?.spec?.maxTenants ?? 10); i++) filler.push(`${prefix}-fill-${i}`);
    tenants.push(...filler);
    if (filler.length > 0)
      await cluster.kubectlOk(['apply', '-f', '-'], {
        input: filler.map((n) => tenantManifest(n, { placement: { clusterName: small } })).join('---\n'),
      });
    for (const name of filler) assert.equal(await waitForPlacement(name), small);
    const waiting = `${prefix}-waiting`;
    tenants.push(waiting);
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: tenantManifest(waiting, { placement: { clusterName: small } }),
    });
    const why = await waitForUnplaced(waiting);
    assert.match(why, new RegExp(`${small}: full \\(10/10\\)`));
    assert.match(why, new RegExp(`${large}: not the pinned cluster`));
    await cluster.kubectlOk([
      'patch',
      'membercluster',
      small,
      '--type=merge',
      '-p',
      '{"spec":{"maxTenants":11}}',
    ]);
    assert.equal(await waitForPlacement(waiting), small);
  });

  test('a changed spec.placement is reported with a Warning and not applied', async () => {
    const name = burst[0]!;
    const where = (await placementOf(name))!;
    const other = where.clusterName === small ? large : small;
    await cluster.kubectlOk([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { placement: { clusterName: other } } }),
    ]);
    const scheduled = await waitFor(
      async () => {
        const s = await scheduledOf(name);
        return s?.reason === 'PlacementChangeNotApplied' ? s : notYet(s);
      },
      { timeoutMs: 60_000, description: `tenant ${name} PlacementChangeNotApplied` },
    );
    assert.match(
      scheduled.message,
      new RegExp(`asks for ${other}; the tenant stays on ${where.clusterName}`),
    );
    assert.deepEqual(await placementOf(name), where, 'the decision is unchanged');
    const events = await cluster.kubectlOk([
      'get',
      'events',
      '-A',
      '--field-selector',
      `involvedObject.name=${name},reason=PlacementChangeNotApplied`,
      '-o',
      'name',
    ]);
    assert.notEqual(events.stdout.trim(), '', 'a Warning event says so');
  });

  test('a MemberCluster with tenants is not deleted until they are gone, and says how many remain', async () => {
    const onSmall: string[] = [];
    for (const t of tenants) if ((await placementOf(t))?.clusterName === small) onSmall.push(t);
    assert.ok(onSmall.length > 0);
    await cluster.kubectlOk(['delete', 'membercluster', small, '--wait=false']);
    const terminating = await waitFor(
      async () => {
        const m = await cluster.getJson<MemberClusterObject>(['membercluster', small]);
        const c = m?.status?.conditions?.find((x) => x.type === 'Terminating');
        return m?.metadata.deletionTimestamp && c ? c : notYet(m?.status?.conditions);
      },
      { timeoutMs: 60_000, description: `MemberCluster ${small} waiting for its tenants` },
    );
    assert.equal(
      terminating.message.startsWith(`deletion waits for ${onSmall.length} tenants placed here`),
      true,
      terminating.message,
    );
    await cluster.kubectlOk(['delete', 'tenants', ...onSmall, '--wait=false']);
    for (const t of onSmall) await waitForGone(cluster, ['tenant', t], 180_000);
    await waitForGone(cluster, ['membercluster', small], 60_000);
  });
});
