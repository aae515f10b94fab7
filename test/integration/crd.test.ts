// The generated CRD on a real API server: accepted, printer columns, and the API server itself
// rejecting bad Tenants (schema and CEL rules) with the field named.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ALLOWED_REDIS_DIRECTIVES } from '../../src/api/redis-config.ts';
import { validateTenant } from '../../src/api/validate.ts';
import { render } from '../../src/render/index.ts';
import { repoRoot } from '../cluster/config.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { waitFor } from '../cluster/wait.ts';
import { installCrd } from '../operator/tenants.ts';

function tenantYaml(name: string, spec: string): string {
  return `apiVersion: neurallog.io/v1\nkind: Tenant\nmetadata:\n  name: ${name}\nspec:\n${spec}\n`;
}

describe('Tenant CRD on the API server', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  const created: string[] = [];

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
  });

  after(async () => {
    if (created.length > 0) {
      // No operator runs in this file, so nothing holds a finalizer on these.
      await cluster.kubectl(['delete', 'tenants', ...created, '--ignore-not-found', '--wait=false']);
    }
  });

  test('the CRD is accepted as structural, with printer columns, short name and category', async () => {
    const crd = await cluster.getJson<{ status: { conditions: Array<{ type: string; status: string }> } }>([
      'crd',
      'tenants.neurallog.io',
    ]);
    const conditions = Object.fromEntries((crd?.status.conditions ?? []).map((c) => [c.type, c.status]));
    assert.equal(conditions.Established, 'True');
    assert.equal(conditions.NonStructuralSchema, undefined);
    const name = uniqueName('columns');
    created.push(name);
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: tenantYaml(name, '  displayName: Column Check\n  planId: professional'),
    });
    const table = await cluster.kubectlOk(['get', 'tenants', name]);
    assert.match(table.stdout.split('\n')[0] ?? '', /^NAME\s+DISPLAY NAME\s+NAMESPACE\s+PHASE\s+AGE\s*$/);
    assert.match(table.stdout, new RegExp(`${name}\\s+Column Check`));
    const wide = await cluster.kubectlOk(['get', 'tn', name, '-o', 'wide']);
    assert.match(
      wide.stdout.split('\n')[0] ?? '',
      /NAME\s+DISPLAY NAME\s+NAMESPACE\s+PHASE\s+AGE\s+PLAN\s+READY\s+CLUSTER/,
    );
    assert.match(wide.stdout, /professional/);
    const byCategory = await cluster.kubectlOk(['get', 'neurallog']);
    assert.match(byCategory.stdout, new RegExp(name));
  });

  test('kubectl explain describes the fields', async () => {
    const explained = await waitFor(
      async () => {
        const result = await cluster.kubectl(['explain', 'tenant.spec.redis']);
        return result.code === 0 && /storage/.test(result.stdout) ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, description: 'kubectl explain to know the Tenant schema' },
    );
    assert.match(explained, /The tenant's Redis/);
    assert.match(explained, /replicas/);
  });

  const rejected: Array<[string, string, RegExp]> = [
    ['an upper-case tenantId', '  tenantId: AcmeCorp', /spec\.tenantId/],
    ['a 60-character tenantId', `  tenantId: ${'a'.repeat(60)}`, /spec\.tenantId/],
    ['a bad plan', '  planId: gold', /spec\.planId/],
    ['a bad e-mail', '  billingEmail: not-an-email', /spec\.billingEmail/],
    ['negative replicas', '  server:\n    replicas: -1', /spec\.server\.replicas/],
    ['a non-quantity storage', '  redis:\n    storage: lots', /spec\.redis\.storage/],
    [
      'an unknown protocol',
      '  networkPolicy:\n    ingressRules:\n      - ports:\n          - protocol: ICMP\n            port: 80',
      /protocol/,
    ],
    [
      'a port out of range',
      '  networkPolicy:\n    egressRules:\n      - ports:\n          - port: 70000',
      /port/,
    ],
    [
      'env with both value and valueFrom',
      '  server:\n    env:\n      - name: A\n        value: x\n        valueFrom:\n          secretKeyRef: {name: s, key: k}',
      /spec\.server\.env\[0\].*value or valueFrom/,
    ],
    [
      'a redis directive the operator owns',
      '  redis:\n    config:\n      requirepass: x',
      /spec\.redis\.config\.requirepass is not an allowed redis\.conf directive/,
    ],
    [
      'a redis ACL user (would bypass requirepass)',
      "  redis:\n    config:\n      hz: '10'\n      user: x on nopass ~* +@all",
      /spec\.redis\.config\.user is not an allowed redis\.conf directive.*kubectl explain tenant\.spec\.redis\.config/,
    ],
    [
      'a redis module',
      '  redis:\n    config:\n      loadmodule: /tmp/evil.so',
      /spec\.redis\.config\.loadmodule is not an allowed/,
    ],
    [
      'a multi-line redis value',
      '  redis:\n    config:\n      save: "60 1\\nrequirepass x"',
      /spec\.redis\.config\.save/,
    ],
    ['a quoted redis value', `  redis:\n    config:\n      save: '"60 1"'`, /spec\.redis\.config\.save/],
    [
      'a pod label key that is no label key',
      '  server:\n    podLabels:\n      é: a',
      /spec\.server\.podLabels: .*key é must be a qualified name/,
    ],
    [
      'a pod label value with a space',
      '  redis:\n    podLabels:\n      team: has space',
      /spec\.redis\.podLabels\.team/,
    ],
    [
      'a node selector key with two slashes',
      '  server:\n    nodeSelector:\n      a/b/c: x',
      /spec\.server\.nodeSelector: .*key a\/b\/c must be a qualified name/,
    ],
    [
      'an empty annotation key',
      `  server:\n    podAnnotations:\n      '': x`,
      /spec\.server\.podAnnotations: .*must be a qualified name/,
    ],
    [
      'a network rule selecting a label value over 63 characters',
      `  networkPolicy:\n    ingressRules:\n      - from:\n          app: ${'x'.repeat(64)}`,
      /spec\.networkPolicy\.ingressRules\[0\]\.from\.app/,
    ],
    [
      'a storage class that is no name',
      '  redis:\n    storageClassName: "-"',
      /spec\.redis\.storageClassName/,
    ],
    [
      'a quoted port number (a named port needs a letter)',
      '  networkPolicy:\n    ingressRules:\n      - ports:\n          - port: "80"',
      /spec\.networkPolicy\.ingressRules\[0\]\.ports\[0\]\.port.*write a number without quotes/,
    ],
  ];
  for (const [what, spec, field] of rejected) {
    test(`the API server rejects ${what}, naming the field`, async () => {
      const result = await cluster.kubectl(['apply', '-f', '-'], {
        input: tenantYaml(uniqueName('bad'), spec),
      });
      assert.notEqual(result.code, 0, `accepted: ${result.stdout}`);
      assert.match(result.stderr, field);
    });
  }

  test('the API server rejects a metadata.name that is not a valid tenant id when spec.tenantId is unset', async () => {
    const result = await cluster.kubectl(['apply', '-f', '-'], {
      input: tenantYaml(`bad.${uniqueName('name')}`, '  displayName: x'),
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /metadata\.name is the tenant id/);
    const withId = uniqueName('dotted');
    const accepted = await cluster.kubectl(['apply', '-f', '-'], {
      input: tenantYaml(`ok.${withId}`, `  tenantId: ${withId}`),
    });
    assert.equal(accepted.code, 0, accepted.stderr);
    created.push(`ok.${withId}`);
  });

  test('the effective tenant id cannot change: setting, changing or removing spec.tenantId is refused', async () => {
    const name = uniqueName('immutable');
    created.push(name);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: tenantYaml(name, '  displayName: before') });
    const set = await cluster.kubectl([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"tenantId":"other-id"}}',
    ]);
    assert.notEqual(set.code, 0);
    assert.match(set.stderr, /spec\.tenantId is immutable/);
    const same = await cluster.kubectl([
      'patch',
      'tenant',
      name,
      '--type=merge',
      '-p',
      `{"spec":{"tenantId":"${name}"}}`,
    ]);
    assert.equal(same.code, 0, 'setting spec.tenantId to the same effective id is allowed');
    const removed = await cluster.kubectl([
      'patch',
      'tenant',
      name,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/tenantId"}]',
    ]);
    assert.equal(removed.code, 0, 'removing it keeps the same effective id (metadata.name)');
    const other = uniqueName('idset');
    created.push(other);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: tenantYaml(other, `  tenantId: first-${other}`) });
    const drop = await cluster.kubectl([
      'patch',
      'tenant',
      other,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/tenantId"}]',
    ]);
    assert.notEqual(drop.code, 0);
    assert.match(drop.stderr, /immutable/);
  });

  // Affinity and tolerations have the Kubernetes shapes: what the Tenant accepts, the pod template
  // it becomes is accepted too, and what the pod template would refuse the Tenant refuses.
  const zoneIn = (values: string[]) => ({
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values }] }],
      },
    },
  });
  const scheduling: Array<[string, Record<string, unknown>, RegExp | undefined]> = [
    ['a required node affinity', { affinity: zoneIn(['a', 'b']) }, undefined],
    ['In with no values', { affinity: zoneIn([]) }, /values must be non-empty when operator is In or NotIn/],
    [
      'Gt with two values',
      {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 5,
                preference: { matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['1', '2'] }] },
              },
            ],
          },
        },
      },
      /exactly one value when operator is Gt or Lt/,
    ],
    [
      'a weight of 0',
      {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } },
            ],
          },
        },
      },
      /weight/,
    ],
    [
      'matchFields on a label',
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
            },
          },
        },
      },
      /matchFields supports only key metadata\.name/,
    ],
    [
      'an unknown affinity field',
      { affinity: { nodeAffinity: { requiredDuringSchedulingRequiredDuringExecution: {} } } },
      /requiredDuringSchedulingRequiredDuringExecution/,
    ],
    [
      'a pod anti-affinity by hostname',
      {
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: 'kubernetes.io/hostname',
                  labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
                },
              },
            ],
          },
        },
      },
      undefined,
    ],
    [
      'Exists with values in a label selector',
      {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                topologyKey: 'zone',
                labelSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] },
              },
            ],
          },
        },
      },
      /values must be empty when operator is Exists or DoesNotExist/,
    ],
    ['a toleration of every taint', { tolerations: [{ operator: 'Exists' }] }, undefined],
    [
      'a toleration key with a space',
      { tolerations: [{ key: 'has space', operator: 'Exists' }] },
      /spec\.server\.tolerations\[0\]\.key/,
    ],
    [
      'a toleration value with a space',
      { tolerations: [{ key: 'k', value: 'has space' }] },
      /spec\.server\.tolerations\[0\]\.value/,
    ],
    ['an annotation key in capitals', { podAnnotations: { 'Example.COM/Team': 'a' } }, undefined],
    [
      '65 pod labels',
      { podLabels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x'])) },
      /spec\.server\.podLabels/,
    ],
    [
      'a toleration with no key and Equal',
      { tolerations: [{ value: 'x' }] },
      /operator must be Exists when key is empty/,
    ],
    [
      'an Exists toleration with a value',
      { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
      /value must be empty when operator is Exists/,
    ],
    [
      'tolerationSeconds without NoExecute',
      { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }] },
      /effect must be NoExecute when tolerationSeconds is set/,
    ],
  ];
  for (const [what, server, refusal] of scheduling) {
    test(`scheduling: ${what} is ${refusal ? 'refused by the API server and validate alike' : 'accepted, and so is its Deployment'}`, async () => {
      const tenant = {
        apiVersion: 'neurallog.io/v1',
        kind: 'Tenant',
        metadata: { name: uniqueName('sched') },
        spec: { server },
      };
      const result = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
        input: JSON.stringify(tenant),
      });
      const offline = validateTenant(tenant);
      if (refusal) {
        assert.notEqual(result.code, 0, `accepted: ${result.stdout}`);
        assert.match(result.stderr, /spec\.server\.(affinity|tolerations|podLabels|podAnnotations)/);
        assert.match(result.stderr, refusal);
        assert.equal(offline.ok, false, 'validate accepted what the API server refused');
        return;
      }
      assert.equal(result.code, 0, result.stderr);
      assert.ok(offline.ok, 'validate refused what the API server accepted');
      const deployment = render(offline.tenant, { authUrl: 'http://auth' }).find(
        (o) => o.kind === 'Deployment',
      );
      assert.ok(deployment);
      const inDefault = { ...deployment, metadata: { ...deployment.metadata, namespace: 'default' } };
      const applied = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
        input: JSON.stringify(inDefault),
      });
      assert.equal(applied.code, 0, applied.stderr);
    });
  }

  test('the API server accepts every allowed redis directive with its documented example', async () => {
    const config = [...ALLOWED_REDIS_DIRECTIVES]
      .map(([name, d]) => `      ${name}: ${JSON.stringify(d.example)}`)
      .join('\n');
    const result = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: tenantYaml(uniqueName('redis-config'), `  redis:\n    config:\n${config}`),
    });
    assert.equal(result.code, 0, result.stderr);
  });

  test('the offline validator agrees with the API server on the samples', async () => {
    for (const sample of ['basic', 'customized', 'acme_corp']) {
      const text = await readFile(
        join(repoRoot, 'config', 'samples', `neurallog_v1_tenant_${sample}.yaml`),
        'utf8',
      );
      const result = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: text });
      assert.equal(result.code, 0, `${sample}: ${result.stderr}`);
    }
  });
});

describe('MemberCluster CRD on the API server', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  const created: string[] = [];
  const memberYaml = (name: string, spec: string) =>
    `apiVersion: neurallog.io/v1\nkind: MemberCluster\nmetadata:\n  name: ${name}\n  labels:\n    env: prod\nspec:\n${spec}\n`;

  before(async () => {
    cluster = await useCluster();
    await installCrd(cluster);
  });

  after(async () => {
    if (created.length > 0) {
      await cluster.kubectl(['delete', 'memberclusters', ...created, '--ignore-not-found', '--wait=false']);
    }
  });

  test('is accepted as structural, with its printer columns, short name and category', async () => {
    const name = uniqueName('member');
    created.push(name);
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: memberYaml(name, '  maxTenants: 25\n  kubeconfigSecretRef:\n    name: prod-1-kubeconfig'),
    });
    const table = await cluster.kubectlOk(['get', 'mc', name]);
    assert.match(table.stdout.split('\n')[0] ?? '', /^NAME\s+READY\s+TENANTS\s+MAX\s+VERSION\s+AGE\s*$/);
    assert.match(table.stdout, new RegExp(`${name}\\s+25`));
    const byCategory = await cluster.kubectlOk(['get', 'neurallog']);
    assert.match(byCategory.stdout, new RegExp(`membercluster\\.neurallog\\.io/${name}`));
    const selected = await cluster.kubectlOk(['get', 'memberclusters', '-l', 'env=prod', '-o', 'name']);
    assert.match(selected.stdout, new RegExp(name));
  });

  test('kubectl explain describes the fields', async () => {
    const explained = await waitFor(
      async () => {
        const result = await cluster.kubectl(['explain', 'membercluster.spec']);
        return result.code === 0 && /kubeconfigSecretRef/.test(result.stdout) ? result.stdout : undefined;
      },
      { timeoutMs: 30_000, description: 'kubectl explain to know the MemberCluster schema' },
    );
    assert.match(explained, /maxTenants/);
    assert.match(explained, /unschedulable/);
    const placement = await cluster.kubectlOk(['explain', 'tenant.spec.placement']);
    assert.match(placement.stdout, /clusterSelector/);
  });

  const rejected: Array<[string, string, string, RegExp]> = [
    [
      'a name that is no DNS label',
      'prod.eu',
      '  maxTenants: 1',
      /metadata\.name of a MemberCluster must be/,
    ],
    ['a negative maxTenants', 'neg', '  maxTenants: -1', /spec\.maxTenants/],
    [
      'a Secret reference without a name',
      'noname',
      '  kubeconfigSecretRef:\n    key: value',
      /spec\.kubeconfigSecretRef\.name/,
    ],
    ['an unknown field', 'unknown', '  cordon: true', /unknown field "spec\.cordon"/],
  ];
  for (const [what, name, spec, field] of rejected) {
    test(`the API server rejects ${what}, naming the field`, async () => {
      const result = await cluster.kubectl(['apply', '-f', '-'], {
        input: memberYaml(`${name}-${uniqueName('x')}`, spec),
      });
      assert.notEqual(result.code, 0, `accepted: ${result.stdout}`);
      assert.match(result.stderr, field);
    });
  }

  test('whether a member has a kubeconfig Secret is fixed for its life', async () => {
    const name = uniqueName('fixed');
    created.push(name);
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: memberYaml(name, '  kubeconfigSecretRef:\n    name: fixed-kubeconfig'),
    });
    const removed = await cluster.kubectl([
      'patch',
      'membercluster',
      name,
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/kubeconfigSecretRef"},{"op":"add","path":"/spec/maxTenants","value":1}]',
    ]);
    assert.notEqual(removed.code, 0);
    assert.match(removed.stderr, /spec\.kubeconfigSecretRef cannot be added or removed/);
    const renamed = await cluster.kubectl([
      'patch',
      'membercluster',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"kubeconfigSecretRef":{"name":"other-kubeconfig"}}}',
    ]);
    assert.equal(renamed.code, 0, 'pointing at another Secret (a new credential) is allowed');
  });

  test('a Tenant placement pin that is no cluster name is rejected, naming the field', async () => {
    const result = await cluster.kubectl(['apply', '-f', '-'], {
      input: tenantYaml(uniqueName('pin'), '  placement:\n    clusterName: Prod_1'),
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /spec\.placement\.clusterName/);
  });
});
