import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadTenants, YamlSyntaxError } from './load.ts';

const tenant = (name: string) => `apiVersion: neurallog.io/v1\nkind: Tenant\nmetadata:\n  name: ${name}\n`;

test('several documents load in order, each with its line, empty ones skipped', () => {
  const docs = loadTenants(`${tenant('a')}---\n---\n${tenant('B')}`, 'x.yaml');
  assert.equal(docs.length, 2);
  assert.deepEqual(
    docs.map((d) => [d.index, d.line, d.result.ok]),
    [
      [1, 1, true],
      [2, 7, false],
    ],
  );
});

test('JSON is YAML too', () => {
  const docs = loadTenants(
    '{"apiVersion":"neurallog.io/v1","kind":"Tenant","metadata":{"name":"a"}}',
    'x.json',
  );
  assert.equal(docs[0]?.result.ok, true);
});

test('a syntax error carries the file, line and column', () => {
  assert.throws(
    () => loadTenants(`${tenant('a')}spec:\n  planId: [starter\n  x: 1\n`, 'bad.yaml'),
    (error: unknown) =>
      error instanceof YamlSyntaxError &&
      error.line !== undefined &&
      /^bad\.yaml:\d+(:\d+)?: YAML syntax error/.test(error.message),
  );
});

test('the items of a v1 List (kubectl get tenants -o yaml) count as documents, with server fields', () => {
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'neurallog.io/v1',
        kind: 'Tenant',
        metadata: { name: 'a', uid: 'u-1', generation: 2, resourceVersion: '7', finalizers: ['x/y'] },
        spec: { planId: 'starter' },
        status: { phase: 'Running' },
      },
      { apiVersion: 'neurallog.io/v1', kind: 'Tenant', metadata: { name: 'b' }, spec: { planId: 'gold' } },
    ],
  };
  const docs = loadTenants(JSON.stringify(list), 'list.json');
  assert.deepEqual(
    docs.map((d) => [d.index, d.result.ok]),
    [
      [1, true],
      [2, false],
    ],
  );
});
