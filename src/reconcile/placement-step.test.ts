import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberClusterObject } from '../members/member-controller.ts';
import { memberCluster } from '../members/member-cluster.test-util.ts';
import { Placements } from '../placement/placements.ts';
import { placementStep } from './placement-step.ts';
import type { TenantObject } from './ports.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
const member = (name: string, labels: Record<string, string> = {}, maxTenants = 10, self = false) =>
  memberCluster(name, { labels, maxTenants, self });
const tenant = (status?: TenantObject['status']): TenantObject => ({
  apiVersion: 'neurallog.io/v1',
  kind: 'Tenant',
  metadata: { name: 'acme', uid: 'u1', generation: 1 },
  ...(status ? { status } : {}),
});
const port = (members: MemberClusterObject[] | undefined) => ({
  members: () => members,
  placements: new Placements(() => []),
});

describe('placementStep', () => {
  it('does nothing without MemberClusters, and waits while their cache loads', () => {
    assert.deepEqual(
      placementStep({
        t: tenant(),
        request: {},
        port: port([]),
        tenantId: 'acme',
        provisionedAtHome: false,
        now: NOW,
      }),
      { kind: 'home' },
    );
    assert.equal(
      placementStep({
        t: tenant(),
        request: {},
        port: port(undefined),
        tenantId: 'acme',
        provisionedAtHome: false,
        now: NOW,
      }).kind,
      'unplaced',
    );
  });

  it('leaves a tenant made before the first MemberCluster where it is', () => {
    const outcome = placementStep({
      t: tenant(),
      request: {},
      port: port([member('prod-1')]),
      tenantId: 'acme',
      provisionedAtHome: true,
      now: NOW,
    });
    assert.deepEqual(outcome, { kind: 'home' });
  });

  it('records a tenant made before the first MemberCluster on the MemberCluster that is this cluster', () => {
    const placements = new Placements(() => [{ metadata: { name: 'acme' } }]);
    const self = member('management', {}, 1, true);
    const outcome = placementStep({
      t: tenant(),
      request: {},
      port: { members: () => [member('prod-1'), self], placements },
      tenantId: 'acme',
      provisionedAtHome: true,
      now: NOW,
    });
    assert.equal(outcome.kind, 'placed');
    assert.equal(outcome.status?.placement?.clusterName, 'management');
    assert.match(outcome.status?.placement?.reason ?? '', /before it was a MemberCluster/);
    assert.equal(placements.counts().get('management'), 1, 'it counts against maxTenants there');
  });

  it('places no Tenant whose tenant id another Tenant holds, and says which', () => {
    const placements = new Placements(() => [
      {
        metadata: { name: 'acme-2' },
        spec: { tenantId: 'acme' },
        status: { placement: { clusterName: 'prod-1' } },
      },
    ]);
    const outcome = placementStep({
      t: tenant(),
      request: {},
      port: { members: () => [member('prod-1'), member('prod-2')], placements },
      tenantId: 'acme',
      provisionedAtHome: false,
      now: NOW,
    });
    assert.equal(outcome.kind, 'unplaced');
    assert.equal(outcome.status?.phase, 'Failed');
    assert.equal(outcome.status?.observedGeneration, undefined);
    assert.deepEqual(
      outcome.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'TenantIdConflict'],
        ['Scheduled', 'False', 'TenantIdConflict'],
      ],
    );
    assert.match(
      outcome.status?.conditions?.[0]?.message ?? '',
      /already used by Tenant acme-2 \(placed on prod-1\)/,
    );
  });

  it('writes the decision and Scheduled=True before anything is made', () => {
    const outcome = placementStep({
      t: tenant(),
      request: { clusterName: 'prod-2' },
      port: port([member('prod-1'), member('prod-2')]),
      tenantId: 'acme',
      provisionedAtHome: false,
      now: NOW,
    });
    assert.equal(outcome.kind, 'placed');
    assert.deepEqual(outcome.status?.placement, {
      clusterName: 'prod-2',
      reason: 'pinned by spec.placement.clusterName',
      time: '2030-01-01T00:00:00Z',
    });
    assert.deepEqual(
      outcome.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['Scheduled', 'True', 'Placed']],
    );
  });

  it('says for every member why the tenant cannot go there', () => {
    const outcome = placementStep({
      t: tenant(),
      request: { clusterSelector: { matchLabels: { env: 'prod' } } },
      port: port([member('staging', { env: 'staging' })]),
      tenantId: 'acme',
      provisionedAtHome: false,
      now: NOW,
    });
    assert.equal(outcome.kind, 'unplaced');
    assert.equal(outcome.status?.phase, 'Pending');
    assert.equal(outcome.status?.observedGeneration, undefined, 'its first provisioning is no drift');
    const scheduled = outcome.status?.conditions?.find((c) => c.type === 'Scheduled');
    assert.equal(scheduled?.reason, 'NoClusterAvailable');
    assert.equal(scheduled?.message, 'no member cluster can take the tenant: staging: labels do not match');
  });

  it('keeps a decision when spec.placement changes, and reports it once', () => {
    const placed = tenant({
      placement: { clusterName: 'prod-1', reason: 'x', time: '2030-01-01T00:00:00Z' },
      conditions: [
        {
          type: 'Scheduled',
          status: 'True',
          reason: 'Placed',
          message: 'placed on prod-1: x',
          lastTransitionTime: '2030-01-01T00:00:00Z',
          observedGeneration: 1,
        },
      ],
    });
    const members = [member('prod-1', { env: 'prod' }), member('prod-2')];
    const unchanged = placementStep({
      t: placed,
      request: {},
      port: port(members),
      tenantId: 'acme',
      provisionedAtHome: false,
      now: NOW,
    });
    assert.deepEqual(
      unchanged,
      { kind: 'placed', clusterName: 'prod-1', member: members[0] },
      'no status to write',
    );
    const moved = placementStep({
      t: placed,
      request: { clusterName: 'prod-2' },
      port: port(members),
      tenantId: 'acme',
      provisionedAtHome: false,
      now: NOW,
    });
    assert.equal(moved.kind === 'placed' && moved.clusterName, 'prod-1');
    const scheduled = moved.status?.conditions?.find((c) => c.type === 'Scheduled');
    assert.equal(scheduled?.reason, 'PlacementChangeNotApplied');
    assert.match(scheduled?.message ?? '', /asks for prod-2; the tenant stays on prod-1/);
  });
});
