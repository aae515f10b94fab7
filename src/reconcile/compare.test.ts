import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differences } from './compare.ts';

test('a live object with extra defaulted fields matches', () => {
  const desired = {
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'server', image: 'x' }] } } },
  };
  const live = {
    spec: {
      replicas: 2,
      revisionHistoryLimit: 10,
      template: {
        metadata: { creationTimestamp: null },
        spec: {
          containers: [{ name: 'server', image: 'x', terminationMessagePath: '/dev/termination-log' }],
        },
      },
    },
  };
  assert.deepEqual(differences(desired, live), []);
});

test('changed scalars, missing fields and foreign list entries are reported by path', () => {
  assert.deepEqual(differences({ spec: { replicas: 2 } }, { spec: { replicas: 3 } }), ['spec.replicas']);
  assert.deepEqual(
    differences({ spec: { ports: [{ port: 6379 }] } }, { spec: { ports: [{ port: 6380 }] } }),
    ['spec.ports[0].port'],
  );
  assert.deepEqual(
    differences({ spec: { ports: [{ port: 6379 }] } }, { spec: { ports: [{ port: 6379 }, { port: 1 }] } }),
    ['spec.ports'],
  );
  assert.deepEqual(differences({ metadata: { labels: { a: 'b' } } }, { metadata: {} }), ['metadata.labels']);
  assert.deepEqual(differences({ data: { 'redis.conf': 'x' } }, undefined), ['']);
});

test('quantities compare by value under resource keys only', () => {
  assert.deepEqual(
    differences({ resources: { limits: { cpu: '1' } } }, { resources: { limits: { cpu: '1000m' } } }),
    [],
  );
  assert.deepEqual(
    differences(
      { resources: { requests: { memory: '1Gi' } } },
      { resources: { requests: { memory: '1024Mi' } } },
    ),
    [],
  );
  assert.deepEqual(differences({ spec: { hard: { pods: 10 } } }, { spec: { hard: { pods: '10' } } }), []);
  assert.deepEqual(differences({ env: [{ value: '1' }] }, { env: [{ value: '1.0' }] }), ['env[0].value']);
});

test('empty objects in the desired state match whatever the server keeps', () => {
  assert.deepEqual(differences({ spec: { podSelector: {} } }, { spec: { podSelector: {} } }), []);
  assert.deepEqual(differences({ spec: { podSelector: {} } }, { spec: {} }), []);
});

test('empty lists and strings the API server omits are not drift', () => {
  assert.deepEqual(differences({ spec: { tolerations: [] } }, { spec: {} }), []);
  assert.deepEqual(differences({ env: [{ name: 'EMPTY', value: '' }] }, { env: [{ name: 'EMPTY' }] }), []);
  assert.deepEqual(differences({ spec: { tolerations: [] } }, { spec: { tolerations: [{ key: 'x' }] } }), [
    'spec.tolerations',
  ]);
  assert.deepEqual(differences({ env: [{ value: '' }] }, { env: [{ value: 'set' }] }), ['env[0].value']);
});

test('an empty label or annotation value is stored, so its absence is drift', () => {
  assert.deepEqual(differences({ metadata: { labels: { team: '' } } }, { metadata: { labels: {} } }), [
    'metadata.labels.team',
  ]);
  assert.deepEqual(differences({ data: { empty: '' } }, { data: {} }), ['data.empty']);
  assert.deepEqual(
    differences({ metadata: { labels: { team: '' } } }, { metadata: { labels: { team: '' } } }),
    [],
  );
});
