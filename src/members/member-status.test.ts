import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberClusterStatus } from '../api/member-cluster.ts';
import { isMemberReady, memberStatusPatch } from './member-status.ts';

const T0 = '2030-01-01T00:00:00Z';
const T1 = '2030-01-01T00:00:30Z';

describe('memberStatusPatch', () => {
  it('writes Ready=True with the version on the first probe', () => {
    const patch = memberStatusPatch({
      current: undefined,
      health: { ready: true, version: 'v1.36.3' },
      generation: 1,
      now: T0,
    });
    assert.equal(isMemberReady(patch), true);
    assert.equal(patch?.kubernetesVersion, 'v1.36.3');
    assert.equal(patch?.lastProbeTime, T0);
    assert.equal(patch?.conditions?.[0]?.lastTransitionTime, T0);
    assert.equal(patch?.conditions?.[0]?.observedGeneration, 1);
  });

  it('writes nothing when a probe finds what the status already says', () => {
    const first = memberStatusPatch({
      current: undefined,
      health: { ready: true, version: 'v1.36.3' },
      generation: 1,
      now: T0,
    });
    const again = memberStatusPatch({
      current: first,
      health: { ready: true, version: 'v1.36.3' },
      generation: 1,
      now: T1,
    });
    assert.equal(again, undefined);
  });

  it('keeps the version and moves the transition time when the member goes away', () => {
    const current: MemberClusterStatus = memberStatusPatch({
      current: undefined,
      health: { ready: true, version: 'v1.36.3' },
      generation: 1,
      now: T0,
    })!;
    const down = memberStatusPatch({
      current,
      health: { ready: false, reason: 'Unreachable', message: 'prod-1 does not answer' },
      generation: 1,
      now: T1,
    });
    assert.equal(isMemberReady(down), false);
    assert.equal(down?.kubernetesVersion, 'v1.36.3');
    assert.deepEqual(
      down?.conditions?.map((c) => [c.status, c.reason, c.lastTransitionTime]),
      [['False', 'Unreachable', T1]],
    );
  });

  it('keeps the transition time when only the reason changes, and rewrites for a new generation', () => {
    const unreachable = memberStatusPatch({
      current: undefined,
      health: { ready: false, reason: 'Unreachable', message: 'x' },
      generation: 1,
      now: T0,
    })!;
    const forbidden = memberStatusPatch({
      current: unreachable,
      health: { ready: false, reason: 'Forbidden', message: 'y' },
      generation: 1,
      now: T1,
    });
    assert.equal(forbidden?.conditions?.[0]?.lastTransitionTime, T0);
    const regenerated = memberStatusPatch({
      current: unreachable,
      health: { ready: false, reason: 'Unreachable', message: 'x' },
      generation: 2,
      now: T1,
    });
    assert.equal(regenerated?.observedGeneration, 2);
  });
});
