import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from './main.ts';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const dir = await mkdtemp(join(tmpdir(), 'validate-'));
async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

test('validate prints every problem with its field path and exits 1', async () => {
  const path = await file(
    'bad.yaml',
    'apiVersion: neurallog.io/v1\nkind: Tenant\nmetadata: {name: ACME}\nspec:\n  planId: gold\n  billingEmail: nope\n  redis: {storage: lots}\n',
  );
  const { code, err, out } = await run(['validate', '-f', path]);
  assert.equal(code, 1);
  assert.equal(out, '');
  for (const field of ['metadata.name', 'spec.planId', 'spec.billingEmail', 'spec.redis.storage']) {
    assert.match(err, new RegExp(`bad\\.yaml: ${field.replace('.', '\\.')}: `));
  }
});

test('validate accepts the samples and exits 0', async () => {
  const { code, out } = await run(['validate', '-f', 'config/samples/neurallog_v1_tenant_customized.yaml']);
  assert.equal(code, 0);
  assert.match(out, /my-customized-tenant is valid/);
});

test('a YAML syntax error is reported with its line, without a stack trace', async () => {
  const path = await file(
    'syntax.yaml',
    'apiVersion: neurallog.io/v1\nkind: Tenant\nspec:\n  planId: [starter\n  x: 1\n',
  );
  const { code, err } = await run(['validate', '-f', path]);
  assert.equal(code, 1);
  assert.match(err, /syntax\.yaml:\d+:\d+: YAML syntax error/);
  assert.doesNotMatch(err, /\n\s+at /);
});

test('odd inputs give one clear line and exit 1, never a stack trace', async () => {
  const inputs = [
    await file('empty.yaml', ''),
    await file('scalar.yaml', '42\n'),
    await file('list.yaml', '- a\n- b\n'),
    await file('binary.yaml', '\u0000\u0001\u0002'),
    dir,
    join(dir, 'missing.yaml'),
  ];
  for (const input of inputs) {
    const { code, err } = await run(['validate', '-f', input]);
    assert.equal(code, 1, input);
    assert.ok(err.length > 0, input);
    assert.doesNotMatch(err, /\n\s+at /, input);
  }
});

test('usage errors exit 2 and say what is missing', async () => {
  const { code, err } = await run(['validate']);
  assert.equal(code, 2);
  assert.match(err, /--file/);
});
