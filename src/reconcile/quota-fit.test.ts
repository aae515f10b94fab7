import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedTenant } from '../render/fixtures.test-util.ts';
import { quotaProblem } from './quota-fit.ts';

describe('quotaProblem', () => {
  it('finds that the defaults fit every plan', () => {
    for (const planId of ['starter', 'professional', 'enterprise']) {
      assert.equal(quotaProblem(resolvedTenant({ planId })), undefined, planId);
    }
    assert.equal(quotaProblem(resolvedTenant()), undefined, 'starter is the default plan');
  });

  it('reports each quota key 20 server replicas overrun on the starter plan', () => {
    const problem = quotaProblem(resolvedTenant({ server: { replicas: 20 } }));
    assert.ok(problem);
    // 21 server pods while rolling (maxSurge 1) plus 1 Redis pod.
    assert.match(problem, /pods needs 22 but the quota allows 10/);
    assert.match(problem, /requests\.cpu needs 2200m but the quota allows 2/);
    assert.match(problem, /limits\.cpu needs 10800m but the quota allows 4/);
    assert.match(problem, /limits\.memory needs 11008Mi but the quota allows 8Gi/);
    assert.doesNotMatch(problem, /requests\.memory/, '21 × 128Mi + 128Mi fits 4Gi');
    assert.match(problem, /plan starter/);
    assert.match(problem, /spec\.resources|spec\.planId/);
  });

  it('fits 20 server replicas on the enterprise plan', () => {
    assert.equal(quotaProblem(resolvedTenant({ planId: 'enterprise', server: { replicas: 20 } })), undefined);
  });

  it('names limits.cpu when spec.resources.cpu.limits is overridden too small', () => {
    // Defaults need 2 × 500m (server and its surge pod) + 300m (Redis) = 1300m.
    const problem = quotaProblem(resolvedTenant({ resources: { cpu: { limits: '1' } } }));
    assert.ok(problem);
    assert.match(problem, /limits\.cpu needs 1300m but the quota allows 1/);
    assert.doesNotMatch(problem, /requests\.cpu|pods|memory/);
    assert.equal(
      quotaProblem(resolvedTenant({ resources: { cpu: { limits: '1300m' } } })),
      undefined,
      'exactly enough',
    );
  });

  it('checks storage and memory overrides against Redis and the server', () => {
    const storage = quotaProblem(resolvedTenant({ redis: { storage: '20Gi' } }));
    assert.match(storage ?? '', /requests\.storage needs 20Gi but the quota allows 10Gi/);
    const memory = quotaProblem(resolvedTenant({ resources: { memory: { requests: '256Mi' } } }));
    assert.match(memory ?? '', /requests\.memory needs 384Mi but the quota allows 256Mi/);
  });

  it('counts no server pods when the server is scaled to 0', () => {
    // One Redis pod: 100m requests, 300m limits.
    assert.equal(
      quotaProblem(
        resolvedTenant({ server: { replicas: 0 }, resources: { cpu: { requests: '100m', limits: '300m' } } }),
      ),
      undefined,
    );
    assert.match(
      quotaProblem(resolvedTenant({ server: { replicas: 1 }, resources: { cpu: { requests: '100m' } } })) ??
        '',
      /requests\.cpu needs 300m but the quota allows 100m/,
    );
  });

  it('counts one claim per Redis replica', () => {
    assert.match(
      quotaProblem(resolvedTenant({ redis: { replicas: 4 } })) ?? '',
      /persistentvolumeclaims needs 4 but the quota allows 3/,
    );
  });
});
