import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TenantObject } from '../reconcile/ports.ts';
import { needsReconcile } from './caches.ts';

const tenant = (
  metadata: Partial<TenantObject['metadata']> = {},
  rest: Partial<TenantObject> = {},
): TenantObject => ({
  apiVersion: 'neurallog.io/v1',
  kind: 'Tenant',
  metadata: { name: 'x', generation: 1, resourceVersion: '10', ...metadata },
  spec: {},
  ...rest,
});

describe('needsReconcile', () => {
  it('is false for the echo of a status write (only status and resourceVersion moved)', () => {
    const before = tenant();
    const after = tenant({ resourceVersion: '11' }, { status: { phase: 'Running' } });
    assert.equal(needsReconcile(before, after), false);
  });

  it('is true for a spec change, a deletion, a finalizer change, and a force-reconcile annotation', () => {
    const before = tenant({ finalizers: ['neurallog.io/finalizer'] });
    assert.equal(
      needsReconcile(before, tenant({ generation: 2, finalizers: ['neurallog.io/finalizer'] })),
      true,
    );
    assert.equal(
      needsReconcile(
        before,
        tenant({ deletionTimestamp: '2030-01-01T00:00:00Z', finalizers: ['neurallog.io/finalizer'] }),
      ),
      true,
    );
    assert.equal(needsReconcile(before, tenant({ finalizers: [] })), true);
    assert.equal(
      needsReconcile(
        before,
        tenant({
          finalizers: ['neurallog.io/finalizer'],
          annotations: { 'neurallog.io/force-reconcile': '1' },
        }),
      ),
      true,
    );
    assert.equal(
      needsReconcile(before, tenant({ finalizers: ['neurallog.io/finalizer'], labels: { a: 'b' } })),
      true,
    );
  });
});
