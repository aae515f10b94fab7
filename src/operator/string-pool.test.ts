import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringPool } from './string-pool.ts';

describe('StringPool', () => {
  it('shares string values in place and leaves the object equal to what it was', () => {
    const pool = new StringPool();
    const parsed = JSON.parse(
      '{"metadata":{"labels":{"app":"redis"}},"spec":{"ports":[{"protocol":"TCP","port":6379}],"args":["a","b"]}}',
    ) as Record<string, unknown>;
    const copy = structuredClone(parsed);
    assert.equal(pool.share(parsed), parsed, 'the same object, changed in place');
    assert.deepEqual(parsed, copy);
    assert.equal(pool.size(), 4, 'redis, TCP, a and b: values only (keys are shared by the engine already)');
  });

  it('remembers at most its limit, then starts afresh; long strings are not pooled', () => {
    const pool = new StringPool(2);
    pool.get('one');
    pool.get('two');
    assert.equal(pool.size(), 2);
    pool.get('three');
    assert.equal(pool.size(), 1);
    pool.get('x'.repeat(500));
    assert.equal(pool.size(), 1);
  });
});
