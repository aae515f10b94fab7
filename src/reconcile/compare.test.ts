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
