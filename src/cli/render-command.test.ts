import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { main } from './main.ts';

const root = new URL('../../', import.meta.url);
const samplesDir = new URL('config/samples/', root);
const goldenDir = new URL('test/golden/', root);
const update = process.env.UPDATE_GOLDEN === '1';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const samples = (await readdir(samplesDir)).filter((f) => f.startsWith('neurallog_v1_tenant_')).sort();

test('there are three samples: basic, customized, acme-corp', () => {
  assert.deepEqual(samples, [
    'neurallog_v1_tenant_acme_corp.yaml',
    'neurallog_v1_tenant_basic.yaml',
    'neurallog_v1_tenant_customized.yaml',
  ]);
});

for (const sample of samples) {
  test(`render of ${sample} matches its golden file byte for byte (UPDATE_GOLDEN=1 rewrites it)`, async () => {
    const { code, out, err } = await run(['render', '-f', new URL(sample, samplesDir).pathname]);
    assert.equal(err, '');
    assert.equal(code, 0);
    const golden = new URL(sample, goldenDir);
    if (update) await writeFile(golden, out);
    assert.equal(out, await readFile(golden, 'utf8'));
  });
}

test('render of the same input twice is byte-identical', async () => {
  const file = new URL(samples[2]!, samplesDir).pathname;
  const first = await run(['render', '-f', file]);
  const second = await run(['render', '-f', file]);
  assert.equal(first.out, second.out);
});

test('render emits every object of a tenant as its own YAML document', async () => {
  const { out } = await run(['render', '-f', new URL('neurallog_v1_tenant_basic.yaml', samplesDir).pathname]);
  const kinds = parseAllDocuments(out)
    .map((d) => d.toJS() as { kind: string; metadata: { name: string } } | null)
    .filter((d) => d !== null)
    .map((d) => `${d.kind}/${d.metadata.name}`);
  assert.deepEqual(kinds, [
    'Namespace/tenant-my-tenant',
    'ResourceQuota/tenant-quota',
    'LimitRange/tenant-limits',
    'ServiceAccount/tenant-service-account',
    'Role/tenant-role',
    'RoleBinding/tenant-role-binding',
    'NetworkPolicy/default-deny',
    'NetworkPolicy/allow-same-namespace',
    'NetworkPolicy/allow-system-ingress',
    'NetworkPolicy/allow-dns-egress',
    'NetworkPolicy/allow-system-egress',
    'NetworkPolicy/allow-web-egress',
    'Secret/my-tenant-redis-auth',
    'ConfigMap/my-tenant-redis-config',
    'Service/my-tenant-redis',
    'StatefulSet/my-tenant-redis',
    'Service/my-tenant-server',
    'Deployment/my-tenant-server',
  ]);
});

test('several Tenants in one file render together; --auth-url reaches the server env', async () => {
  const basic = await readFile(new URL('neurallog_v1_tenant_basic.yaml', samplesDir), 'utf8');
  const acme = await readFile(new URL('neurallog_v1_tenant_acme_corp.yaml', samplesDir), 'utf8');
  const path = new URL('.tmp-two-tenants.yaml', goldenDir).pathname;
  await writeFile(path, `${basic}---\n${acme}`);
  try {
    const { code, out } = await run(['render', '-f', path, '--auth-url', 'http://auth.example:9000']);
    assert.equal(code, 0);
    assert.match(out, /name: tenant-my-tenant\n/);
    assert.match(out, /name: tenant-acme-corp\n/);
    assert.match(out, /value: http:\/\/auth\.example:9000\n/);
  } finally {
    await (await import('node:fs/promises')).rm(path, { force: true });
  }
});

test('render refuses an invalid Tenant and prints nothing on stdout', async () => {
  const path = new URL('.tmp-invalid.yaml', goldenDir).pathname;
  await writeFile(
    path,
    'apiVersion: neurallog.io/v1\nkind: Tenant\nmetadata: {name: x}\nspec: {planId: gold}\n',
  );
  try {
    const { code, out, err } = await run(['render', '-f', path]);
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.match(err, /spec\.planId/);
  } finally {
    await (await import('node:fs/promises')).rm(path, { force: true });
  }
});
