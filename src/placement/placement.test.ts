import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MemberView, place } from './placement.ts';
import { matchesSelector } from './selector.ts';

const member = (name: string, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  labels: {},
  ready: true,
  unschedulable: false,
  deleting: false,
  placed: 0,
  ...extra,
});

describe('place', () => {
  it('picks the lowest fill ratio, then the fewest tenants, then the name', () => {
    const members = [
      member('prod-1', { maxTenants: 10, placed: 5 }),
      member('prod-2', { maxTenants: 25, placed: 5 }),
      member('prod-3', { maxTenants: 25, placed: 5 }),
    ];
    const decision = place({}, members);
    assert.deepEqual(
      decision.placed && decision.clusterName,
      'prod-2',
      '5/25 beats 5/10; prod-2 before prod-3 by name',
    );
    const fewest = place({}, [member('b', { placed: 3 }), member('a', { placed: 4 })]);
    assert.equal(fewest.placed && fewest.clusterName, 'b', 'unlimited members: the fewest tenants first');
  });

  it('spreads a burst by fill ratio and never overfills, counting every decision made', () => {
    const members = [member('small', { maxTenants: 10 }), member('large', { maxTenants: 25 })];
    const counts = new Map<string, number>([
      ['small', 0],
      ['large', 0],
    ]);
    const refusals: string[] = [];
    for (let i = 0; i < 40; i++) {
      const views = members.map((m) => ({ ...m, placed: counts.get(m.name)! }));
      const d = place({}, views);
      if (!d.placed) {
        refusals.push(d.message);
        continue;
      }
      counts.set(d.clusterName, counts.get(d.clusterName)! + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { small: 10, large: 25 });
    assert.equal(refusals.length, 5);
    assert.equal(refusals[0], 'large: full (25/25); small: full (10/10)');
  });

  it('honours a pin and a selector, and takes nothing on a cordoned, unready or deleting member', () => {
    const members = [
      member('prod-1', { labels: { env: 'prod' } }),
      member('prod-2', { labels: { env: 'prod' }, unschedulable: true }),
      member('staging', { labels: { env: 'staging' }, placed: 0 }),
      member('down', { ready: false, notReadyReason: 'Unreachable' }),
      member('gone', { deleting: true }),
    ];
    const pinned = place({ clusterName: 'staging' }, members);
    assert.deepEqual(pinned, {
      placed: true,
      clusterName: 'staging',
      reason: 'pinned by spec.placement.clusterName',
    });
    const selected = place({ clusterSelector: { matchLabels: { env: 'prod' } } }, members);
    assert.equal(selected.placed && selected.clusterName, 'prod-1');
    const none = place({ clusterName: 'prod-2' }, members);
    assert.deepEqual(none, {
      placed: false,
      message:
        'down: not the pinned cluster; gone: not the pinned cluster; prod-1: not the pinned cluster; prod-2: cordoned (spec.unschedulable); staging: not the pinned cluster',
    });
    const nowhere = place({ clusterSelector: { matchLabels: { env: 'dev' } } }, members);
    assert.ok(!nowhere.placed);
    assert.match(nowhere.message, /down: labels do not match/);
    const unready = place({}, [member('down', { ready: false, notReadyReason: 'Unreachable' })]);
    assert.deepEqual(unready, { placed: false, message: 'down: not Ready (Unreachable)' });
  });

  it('names a pin to a member that does not exist, and says when there is no member at all', () => {
    assert.deepEqual(place({ clusterName: 'nope' }, [member('a')]), {
      placed: false,
      message: 'no MemberCluster named nope; a: not the pinned cluster',
    });
    assert.deepEqual(place({}, []), { placed: false, message: 'no MemberCluster exists' });
  });
});

describe('matchesSelector', () => {
  it('ANDs matchLabels and matchExpressions; an empty selector matches all', () => {
    const labels = { env: 'prod', region: 'eu' };
    assert.equal(matchesSelector(labels, {}), true);
    assert.equal(matchesSelector(labels, { matchLabels: { env: 'prod' } }), true);
    assert.equal(matchesSelector(labels, { matchLabels: { env: 'prod', region: 'us' } }), false);
    assert.equal(
      matchesSelector(labels, {
        matchExpressions: [{ key: 'region', operator: 'In', values: ['eu', 'us'] }],
      }),
      true,
    );
    assert.equal(
      matchesSelector(labels, { matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['eu'] }] }),
      false,
    );
    assert.equal(
      matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }),
      true,
    );
    assert.equal(matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }), false);
    assert.equal(
      matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }),
      true,
    );
  });
});
