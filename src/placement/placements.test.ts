import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memberCluster } from '../members/member-cluster.test-util.ts';
import { Placements } from './placements.ts';

const member = (name: string, maxTenants: number, ready = true) =>
  memberCluster(name, { maxTenants, ready, self: true });

describe('Placements', () => {
  it('counts decisions the cache does not show yet, so a burst never overfills a member', () => {
    const cached: Array<{ metadata: { name: string }; status?: { placement?: { clusterName: string } } }> =
      [];
    const placements = new Placements(() => cached);
    const members = [member('small', 10), member('large', 25)];
    const got = new Map<string, number>();
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const d = placements.decide(`t${i}`, `t${i}`, {}, members);
      if (d.placed) got.set(d.clusterName, (got.get(d.clusterName) ?? 0) + 1);
      else refused++;
    }
    assert.deepEqual(Object.fromEntries(got), { small: 10, large: 25 });
    assert.equal(refused, 5);
  });

  it('counts a tenant once when the cache catches up, and forgets a decision that was not written', () => {
    const cached: Array<{ metadata: { name: string }; status?: { placement?: { clusterName: string } } }> = [
      { metadata: { name: 'a' } },
    ];
    const placements = new Placements(() => cached);
    const d = placements.decide('a', 'a', {}, [member('m', 5)]);
    assert.ok(d.placed);
    assert.equal(placements.counts().get('m'), 1);
    cached[0]!.status = { placement: { clusterName: 'm' } };
    assert.equal(placements.counts().get('m'), 1, 'the cached decision replaces the pending one');
    placements.decide('b', 'b', {}, [member('m', 5)]);
    placements.forget('b');
    assert.equal(placements.counts().get('m'), 1);
  });

  it('takes no tenant on a member that has not been probed Ready, and says so', () => {
    const placements = new Placements(() => []);
    const unprobed = { ...member('new', 5), status: {} };
    const d = placements.decide('a', 'a', {}, [unprobed, member('down', 5, false)]);
    assert.deepEqual(d, {
      placed: false,
      message: 'down: not Ready (Unreachable); new: not Ready (NotProbedYet)',
    });
  });

  it('refuses a tenant id another Tenant holds: placed, just decided, or living on the management cluster', () => {
    type Cached = {
      metadata: { name: string; finalizers?: string[]; creationTimestamp?: string };
      spec?: { tenantId?: string };
      status?: { placement?: { clusterName: string } };
    };
    const cached: Cached[] = [
      {
        metadata: { name: 'placed' },
        spec: { tenantId: 'acme' },
        status: { placement: { clusterName: 'm' } },
      },
      {
        metadata: {
          name: 'old',
          finalizers: ['neurallog.io/finalizer'],
          creationTimestamp: '2029-01-01T00:00:00Z',
        },
      },
      { metadata: { name: 'waiting' }, spec: { tenantId: 'globex' } },
    ];
    const placements = new Placements(() => cached);
    const members = [member('m', 50)];
    const taken = placements.decide('copy', 'acme', {}, members);
    assert.ok(!taken.placed && 'idTakenBy' in taken);
    assert.deepEqual(taken.idTakenBy, { tenant: 'placed', clusterName: 'm' });
    assert.match(taken.message, /tenant id acme is already used by Tenant placed \(placed on m\)/);

    const atHome = placements.decide('copy', 'old', {}, members);
    assert.ok(!atHome.placed && 'idTakenBy' in atHome);
    assert.deepEqual(atHome.idTakenBy, { tenant: 'old', clusterName: undefined });

    assert.ok(placements.decide('first', 'initech', {}, members).placed);
    const race = placements.decide('second', 'initech', {}, members);
    assert.ok(!race.placed && 'idTakenBy' in race, 'a decision not yet cached holds the id too');

    assert.ok(placements.decide('copy', 'globex', {}, members).placed, 'an unplaced Tenant holds nothing');
    assert.ok(
      placements.decide('placed', 'acme', {}, members).placed,
      'a Tenant does not conflict with itself',
    );
  });

  it('lets the older of two unplaced Tenants of one id living here be placed, not both refused', () => {
    const finalizers = ['neurallog.io/finalizer'];
    const cached = [
      {
        metadata: { name: 'b', finalizers, creationTimestamp: '2029-01-02T00:00:00Z' },
        spec: { tenantId: 'x' },
      },
      {
        metadata: { name: 'a', finalizers, creationTimestamp: '2029-01-03T00:00:00Z' },
        spec: { tenantId: 'x' },
      },
    ];
    const placements = new Placements(() => cached);
    const younger = placements.decide('a', 'x', {}, [member('m', 5)]);
    assert.ok(!younger.placed && 'idTakenBy' in younger && younger.idTakenBy.tenant === 'b');
    assert.ok(placements.decide('b', 'x', {}, [member('m', 5)]).placed, 'the older one is not blocked');
  });

  it('counts an adopted tenant on its member whatever the capacity', () => {
    const placements = new Placements(() => [{ metadata: { name: 'old' } }]);
    placements.adopt('old', 'old', 'home');
    assert.equal(placements.counts().get('home'), 1);
    const full = placements.decide('new', 'new', {}, [member('home', 1)]);
    assert.deepEqual(full, { placed: false, message: 'home: full (1/1)' });
  });
});
