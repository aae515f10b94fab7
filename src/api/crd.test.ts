import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  CRD_PATH,
  MEMBER_CLUSTER_CRD_PATH,
  memberClusterCrd,
  memberClusterCrdYaml,
  tenantCrd,
  tenantCrdYaml,
} from './crd.ts';

type Node = { [key: string]: unknown };
const root = new URL('../../', import.meta.url);

function schemaOf(crd: Node): Node {
  const versions = (crd.spec as Node).versions as Node[];
  return ((versions[0] as Node).schema as Node).openAPIV3Schema as Node;
}

function walk(node: Node, path: string, visit: (node: Node, path: string) => void): void {
  visit(node, path);
  for (const [key, child] of Object.entries((node.properties as Node | undefined) ?? {})) {
    walk(child as Node, `${path}.${key}`, visit);
  }
  if (node.items) walk(node.items as Node, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object')
    walk(node.additionalProperties as Node, `${path}{}`, visit);
}

test('the checked-in CRDs are what the code generates (run `npm run generate` after changing src/api)', async () => {
  assert.equal(await readFile(new URL(CRD_PATH, root), 'utf8'), tenantCrdYaml());
  assert.equal(await readFile(new URL(MEMBER_CLUSTER_CRD_PATH, root), 'utf8'), memberClusterCrdYaml());
});

test('the CRD YAML parses back to the generated object', () => {
  assert.deepEqual(parse(tenantCrdYaml()), tenantCrd());
  assert.deepEqual(parse(memberClusterCrdYaml()), memberClusterCrd());
});

test('names, scope, printer columns and status subresource follow the spec', () => {
  const spec = tenantCrd().spec as Node;
  assert.equal(spec.scope, 'Cluster');
  assert.deepEqual(spec.names, {
    kind: 'Tenant',
    listKind: 'TenantList',
    plural: 'tenants',
    singular: 'tenant',
    shortNames: ['tn'],
    categories: ['neurallog'],
  });
  const version = (spec.versions as Node[])[0] as Node;
  assert.deepEqual(version.subresources, { status: {} });
  const columns = version.additionalPrinterColumns as Node[];
  assert.deepEqual(
    columns.map((c) => [String(c.name).toUpperCase(), c.jsonPath, c.priority ?? 0]),
    [
      ['DISPLAY NAME', '.spec.displayName', 0],
      ['NAMESPACE', '.status.namespace', 0],
      ['PHASE', '.status.phase', 0],
      ['AGE', '.metadata.creationTimestamp', 0],
      ['PLAN', '.spec.planId', 1],
      ['READY', '.status.conditions[?(@.type=="Ready")].status', 1],
      ['CLUSTER', '.status.placement.clusterName', 1],
    ],
  );
});

test('MemberCluster: names, scope, printer columns and the name rule follow the spec', () => {
  const spec = memberClusterCrd().spec as Node;
  assert.equal(spec.scope, 'Cluster');
  assert.deepEqual(spec.names, {
    kind: 'MemberCluster',
    listKind: 'MemberClusterList',
    plural: 'memberclusters',
    singular: 'membercluster',
    shortNames: ['mc'],
    categories: ['neurallog'],
  });
  const version = (spec.versions as Node[])[0] as Node;
  assert.deepEqual(version.subresources, { status: {} });
  assert.deepEqual(
    (version.additionalPrinterColumns as Node[]).map((c) => [String(c.name).toUpperCase(), c.jsonPath]),
    [
      ['READY', '.status.conditions[?(@.type=="Ready")].status'],
      ['TENANTS', '.status.tenants'],
      ['MAX', '.spec.maxTenants'],
      ['VERSION', '.status.kubernetesVersion'],
      ['AGE', '.metadata.creationTimestamp'],
    ],
  );
  const rules = schemaOf(memberClusterCrd())['x-kubernetes-validations'] as Node[];
  assert.equal(rules.length, 1);
  assert.match(String(rules[0]?.rule), /size\(self\.metadata\.name\) <= 63/);
});

for (const [kind, crd] of [
  ['Tenant', tenantCrd()],
  ['MemberCluster', memberClusterCrd()],
] as const) {
  test(`${kind}: the schema is structural: no $ref, no uniqueItems, no additionalProperties beside properties`, () => {
    walk(schemaOf(crd), 'root', (node, path) => {
      assert.equal(node.$ref, undefined, `${path} has $ref`);
      assert.equal(node.$defs, undefined, `${path} has $defs`);
      assert.equal(node.uniqueItems, undefined, `${path} has uniqueItems`);
      assert.equal(node.const, undefined, `${path} has const`);
      if (node.properties)
        assert.equal(
          node.additionalProperties,
          undefined,
          `${path} mixes properties and additionalProperties`,
        );
      if (node['x-kubernetes-int-or-string']) {
        assert.deepEqual(node.anyOf, [{ type: 'integer' }, { type: 'string' }], `${path} int-or-string`);
      } else {
        assert.ok(node.type, `${path} has no type`);
      }
    });
  });

  test(`${kind}: every field under spec and status has a description (kubectl explain is useful)`, () => {
    const missing: string[] = [];
    walk(schemaOf(crd), 'root', (node, path) => {
      if (path.endsWith('{}') || path === 'root.metadata') return;
      if (typeof node.description !== 'string' || node.description.length === 0) missing.push(path);
    });
    assert.deepEqual(missing, []);
  });
}

test('quantities are int-or-string with the quantity pattern', () => {
  const spec = schemaOf(tenantCrd()).properties as Node;
  const redis = ((spec.spec as Node).properties as Node).redis as Node;
  const storage = (redis.properties as Node).storage as Node;
  assert.equal(storage['x-kubernetes-int-or-string'], true);
  assert.match(String(storage.pattern), /KMGTPE/);
});

test('root CEL rules check the tenant id and its immutability', () => {
  const rules = schemaOf(tenantCrd())['x-kubernetes-validations'] as Node[];
  assert.equal(rules.length, 2);
  assert.match(String(rules[0]?.rule), /self\.metadata\.name\.matches/);
  assert.match(String(rules[1]?.rule), /oldSelf/);
});

test('the checked-in API reference is what the code generates (run `npm run generate`)', async () => {
  const { API_REFERENCE_PATH, apiReferenceMarkdown } = await import('./reference.ts');
  assert.equal(await readFile(new URL(API_REFERENCE_PATH, root), 'utf8'), apiReferenceMarkdown());
});

test('spec.redis.config: the CEL allow-list and the value pattern are the ones validate uses', async () => {
  const { ALLOWED_REDIS_DIRECTIVE_NAMES, REDIS_CONFIG_VALUE_PATTERN } = await import('./redis-config.ts');
  const spec = (schemaOf(tenantCrd()).properties as Node).spec as Node;
  const redis = (spec.properties as Node).redis as Node;
  const config = (redis.properties as Node).config as Node;
  const rules = config['x-kubernetes-validations'] as Node[];
  assert.equal(rules.length, 1);
  const listed = (rule: string) => [...rule.matchAll(/'([a-z0-9-]+)'/g)].map((m) => m[1]);
  assert.deepEqual(listed(String(rules[0]?.rule)), ALLOWED_REDIS_DIRECTIVE_NAMES);
  assert.match(
    String(rules[0]?.messageExpression),
    /^'spec\.redis\.config\.' \+ self\.filter\(k, !\(k in \[/,
  );
  assert.deepEqual(config.additionalProperties, {
    type: 'string',
    maxLength: 1024,
    pattern: REDIS_CONFIG_VALUE_PATTERN,
  });
});

test('every integer has the safe-integer bounds the offline validator applies', () => {
  const integers: string[] = [];
  walk(schemaOf(tenantCrd()), 'tenant', (node, path) => {
    const isInteger = node.type === 'integer' || node['x-kubernetes-int-or-string'] === true;
    if (!isInteger) return;
    integers.push(path);
    assert.ok(
      typeof node.maximum === 'number' && node.maximum <= Number.MAX_SAFE_INTEGER,
      `${path} has no maximum within 2^53 - 1`,
    );
  });
  assert.ok(integers.includes('tenant.spec.resources.pods'));
  assert.ok(integers.includes('tenant.spec.redis.storage'));
});

test("billingEmail is checked by one pattern, not by the API server's format: email", () => {
  const spec = (schemaOf(tenantCrd()).properties as Node).spec as Node;
  const email = (spec.properties as Node).billingEmail as Node;
  assert.equal(email.format, undefined);
  assert.equal(typeof email.pattern, 'string');
});
