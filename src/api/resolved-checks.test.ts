import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedProblems } from './resolved-checks.ts';
import { resolveTenant } from './resolve.ts';
import type { Tenant } from './tenant.ts';

const tenant = (spec: Tenant['spec']): Tenant => ({
  apiVersion: 'neurallog.io/v1',
  kind: 'Tenant',
  metadata: { name: 'acme' },
  spec,
});

describe('resolved problems', () => {
  it('finds nothing in a tenant of defaults', () => {
    assert.deepEqual(resolvedProblems(resolveTenant(tenant({}))), []);
  });

  it('names a memory limit below the default request', () => {
    const problems = resolvedProblems(
      resolveTenant(tenant({ server: { resources: { memory: { limit: '64Mi' } } } })),
    );
    assert.deepEqual(problems, [
      'spec.server.resources.memory: the request 128Mi is more than the limit 64Mi (defaults applied); set both, or a request no larger than the limit',
    ]);
  });

  it('names a cpu request above its own limit, on Redis too', () => {
    const problems = resolvedProblems(
      resolveTenant(tenant({ redis: { resources: { cpu: { request: '2', limit: '100m' } } } })),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^spec\.redis\.resources\.cpu: the request 2 is more than the limit 100m/,
    );
  });

  it('accepts a request equal to the limit, written differently', () => {
    const problems = resolvedProblems(
      resolveTenant(tenant({ server: { resources: { cpu: { request: '0.5', limit: '500m' } } } })),
    );
    assert.deepEqual(problems, []);
  });

  it('names a Redis volume of zero bytes', () => {
    assert.deepEqual(resolvedProblems(resolveTenant(tenant({ redis: { storage: '0' } }))), [
      'spec.redis.storage: 0 is no size for a volume; give at least one byte, e.g. 1Gi',
    ]);
  });
});
