import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import { createRecentWrites } from './recent-writes.ts';

const cm = (resourceVersion: string, data = 'a'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'c',
    namespace: 'tenant-x',
    resourceVersion,
    labels: { 'neurallog.io/tenant': 'x' },
    managedFields: [{}],
  },
  data: { data },
});
const KEY = objectKey(cm('1'));
const dataOf = (obj: KubeObject | undefined) => (obj?.data as { data?: string } | undefined)?.data;

function writes(ttlMs = 30_000) {
  let now = 0;
  const recent = createRecentWrites({ ttlMs, now: () => now });
  return { recent, advance: (ms: number) => (now += ms) };
}

describe('recent writes', () => {
  it('gives what was written while the cache still shows an older version, then the cache', () => {
    const { recent } = writes();
    recent.wrote(cm('7', 'new'));
    assert.equal(dataOf(recent.resolve(KEY, cm('5', 'old'))), 'new', 'the cache is behind');
    assert.equal(recent.resolve(KEY, cm('7', 'new'))?.metadata.resourceVersion, '7');
    assert.equal(recent.size(), 0, 'forgotten once the cache caught up');
  });

  it('forgets a write as soon as the watch delivers it or something newer', () => {
    const { recent } = writes();
    recent.wrote(cm('7'));
    recent.observed(cm('6'));
    assert.equal(recent.size(), 1, 'an older event does not confirm it');
    recent.observed(cm('9'));
    assert.equal(recent.size(), 0);
  });

  it('shows an object written but not yet seen at all, and no longer once the watch reports it deleted', () => {
    const { recent } = writes();
    recent.wrote(cm('7'));
    assert.deepEqual(
      recent.unseen('x', new Set()).map((o) => o.metadata.resourceVersion),
      ['7'],
    );
    assert.equal(recent.resolve(KEY, undefined)?.metadata.resourceVersion, '7');
    assert.equal(
      recent
        .unseen('x', new Set())
        .map((o) => o.metadata.managedFields)
        .pop(),
      undefined,
      'trimmed',
    );
    recent.observedDeleted(cm('8'));
    assert.equal(recent.resolve(KEY, undefined), undefined);
  });

  it('hides an object it deleted until the cache shows it gone, or newer (made again)', () => {
    const { recent } = writes();
    recent.deleted(cm('7'));
    assert.equal(recent.resolve(KEY, cm('7')), undefined, 'the cache still shows what was deleted');
    assert.equal(recent.resolve(KEY, cm('12'))?.metadata.resourceVersion, '12', 'someone made it again');
  });

  it('trusts the cache again after the time to live, whatever the watch did', () => {
    const { recent, advance } = writes(1_000);
    recent.wrote(cm('7', 'new'));
    advance(1_001);
    assert.equal(dataOf(recent.resolve(KEY, cm('5', 'old'))), 'old');
    assert.deepEqual(recent.unseen('x', new Set()), []);
  });

  it('compares versions that are not integers by equality only', () => {
    const { recent } = writes();
    recent.wrote(cm('b7', 'new'));
    assert.equal(dataOf(recent.resolve(KEY, cm('a9', 'old'))), 'new');
    assert.equal(dataOf(recent.resolve(KEY, cm('b7', 'new'))), 'new');
    assert.equal(recent.size(), 0);
  });

  it('remembers of a written Secret only its metadata: the password is not kept', () => {
    const { recent } = writes();
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'x-redis-auth', namespace: 'tenant-x', resourceVersion: '3', labels: {} },
      data: { password: 'c2VjcmV0' },
    };
    recent.wrote(secret);
    const remembered = recent.resolve(objectKey(secret), undefined);
    assert.equal(remembered?.metadata.name, 'x-redis-auth');
    assert.ok(!('data' in (remembered ?? {})), 'no data remembered');
  });
});
