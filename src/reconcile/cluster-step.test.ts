import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { KubeObject } from '../kube/objects.ts';
import type { MemberClusterObject } from '../members/member-controller.ts';
import { memberCluster } from '../members/member-cluster.test-util.ts';
import { Placements } from '../placement/placements.ts';
import { FINALIZER } from '../render/meta.ts';
import { type MemberPlacement, clusterStep } from './cluster-step.ts';
import type { TenantCluster, TenantObject } from './ports.ts';

const readyMember = (name: string, self: boolean) => memberCluster(name, { self });

/** A tenant made before the first MemberCluster: our finalizer, no placement, its namespace here. */
function setup(
  members: MemberClusterObject[],
  given: { t?: TenantObject; others?: TenantObject[]; namespaceHere?: boolean } = {},
) {
  const t: TenantObject = given.t ?? {
    apiVersion: 'neurallog.io/v1',
    kind: 'Tenant',
    metadata: { name: 'acme', uid: 'u1', resourceVersion: '5', generation: 1, finalizers: [FINALIZER] },
    status: { phase: 'Running', conditions: [] },
  };
  const others = given.others ?? [];
  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'tenant-acme', ownerReferences: [{ uid: 'u1', controller: true } as never] },
  };
  const requests: string[] = [];
  const homeCluster = {
    name: 'local',
    observed: {
      tenant: () => t,
      children: () => [],
      namespace: () => (given.namespaceHere === false ? undefined : namespace),
    },
    writer: {} as TenantCluster['writer'],
    ownership: 'ownerReference',
  } satisfies TenantCluster;
  const placements = new Placements(() => [t, ...others]);
  const placement: MemberPlacement = {
    members: () => members,
    placements,
    clusterFor: (name) =>
      name === 'management' ? { kind: 'ready', cluster: homeCluster } : { kind: 'unreachable', message: 'x' },
    memberCleanupTimeoutMs: 60_000,
    deferCleanup: async () => {},
  };
  const home = {
    get: async <T extends KubeObject>() => {
      requests.push('get Tenant');
      return t as unknown as T;
    },
    patchTenantStatus: async (_name: string, patch: Record<string, unknown>, resourceVersion?: string) => {
      requests.push(`patch status ${resourceVersion ?? 'unguarded'}`);
      return { ...t, status: { ...t.status, ...patch } } as KubeObject;
    },
  };
  const run = () =>
    clusterStep({
      t,
      namespace: 'tenant-acme',
      id: 'acme',
      request: {},
      placement,
      homeCluster,
      home,
      events: { record: async () => {} },
      now: () => new Date('2030-01-01T00:00:00Z'),
      log: pino({ level: 'silent' }),
    });
  return { run, requests, placements, homeCluster, others };
}

describe('clusterStep', () => {
  it('keeps a tenant made before the first MemberCluster at home without reading it again', async () => {
    const s = setup([readyMember('prod-1', false)]);
    const outcome = await s.run();
    assert.equal(outcome.kind === 'cluster' && outcome.cluster, s.homeCluster);
    assert.deepEqual(s.requests, [], 'no request: resyncs of home tenants cost nothing');
  });

  it('records it, guarded by its resourceVersion, on the MemberCluster that stands for this cluster', async () => {
    const s = setup([readyMember('prod-1', false), readyMember('management', true)]);
    const outcome = await s.run();
    assert.deepEqual(s.requests, ['get Tenant', 'patch status 5']);
    assert.equal(outcome.kind, 'stop');
    assert.equal(s.placements.counts().get('management'), 1);
  });

  it('does not read a Tenant refused for its id again while the same Tenant holds the id', async () => {
    const message =
      'not placed: tenant id acme is already used by Tenant holder (placed on prod-1); delete holder, or ...';
    const copy: TenantObject = {
      apiVersion: 'neurallog.io/v1',
      kind: 'Tenant',
      metadata: { name: 'copy', uid: 'u2', resourceVersion: '9', generation: 1 },
      spec: { tenantId: 'acme' },
      status: {
        phase: 'Failed',
        conditions: [
          {
            type: 'Scheduled',
            status: 'False',
            reason: 'TenantIdConflict',
            message,
            lastTransitionTime: '2030-01-01T00:00:00Z',
          },
        ],
      },
    };
    const holder: TenantObject = {
      apiVersion: 'neurallog.io/v1',
      kind: 'Tenant',
      metadata: { name: 'holder', uid: 'u3' },
      spec: { tenantId: 'acme' },
      status: { placement: { clusterName: 'prod-1', reason: 'x', time: '2030-01-01T00:00:00Z' } },
    };
    const s = setup([readyMember('prod-1', false)], { t: copy, others: [holder], namespaceHere: false });
    const outcome = await s.run();
    assert.deepEqual(outcome, { kind: 'stop', result: { requeueAfterMs: 30_000 } });
    assert.deepEqual(s.requests, [], 'steady: no read, no write');
    s.others.length = 0;
    await s.run();
    assert.equal(s.requests[0], 'get Tenant', 'once the id is free it is decided from the live Tenant');
  });
});
