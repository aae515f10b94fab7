import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTenantIdUnchanged } from './tenant.ts';
import { parseTenant, TenantValidationError, validateTenant } from './validate.ts';

const base = () => ({
  apiVersion: 'neurallog.io/v1',
  kind: 'Tenant',
  metadata: { name: 'acme' },
  spec: {} as Record<string, unknown>,
});

function issuesOf(input: unknown): string[] {
  const result = validateTenant(input);
  assert.equal(result.ok, false, 'expected the input to be rejected');
  return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
}

function withSpec(spec: Record<string, unknown>) {
  return { ...base(), spec };
}

describe('validateTenant rejects bad input, naming the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'an upper-case metadata.name',
      { ...base(), metadata: { name: 'Acme' } },
      /^metadata\.name: .*1-40 characters/,
    ],
    [
      'an upper-case tenantId',
      withSpec({ tenantId: 'AcmeCorp' }),
      /^spec\.tenantId: must be 1-40 characters/,
    ],
    [
      'a 60-character tenantId',
      withSpec({ tenantId: 'a'.repeat(60) }),
      /^spec\.tenantId: must be at most 40 characters/,
    ],
    ['a 60-character metadata.name', { ...base(), metadata: { name: 'a'.repeat(60) } }, /^metadata\.name: /],
    ['a tenantId ending in "-"', withSpec({ tenantId: 'acme-' }), /^spec\.tenantId: /],
    ['a tenantId starting with a digit', withSpec({ tenantId: '1acme' }), /^spec\.tenantId: /],
    ['a bad plan', withSpec({ planId: 'gold' }), /^spec\.planId: .*starter.*professional.*enterprise/],
    [
      'a bad e-mail',
      withSpec({ billingEmail: 'billing-at-acme' }),
      /^spec\.billingEmail: must be an e-mail address/,
    ],
    [
      'negative server replicas',
      withSpec({ server: { replicas: -1 } }),
      /^spec\.server\.replicas: replicas must be 0 or more/,
    ],
    [
      'zero redis replicas',
      withSpec({ redis: { replicas: 0 } }),
      /^spec\.redis\.replicas: redis replicas must be 1 or more/,
    ],
    [
      'a non-quantity storage',
      withSpec({ redis: { storage: 'lots' } }),
      /^spec\.redis\.storage: must be a Kubernetes quantity/,
    ],
    ['a negative storage', withSpec({ redis: { storage: '-1Gi' } }), /^spec\.redis\.storage: /],
    [
      'an unknown protocol',
      withSpec({ networkPolicy: { ingressRules: [{ ports: [{ protocol: 'ICMP', port: 80 }] }] } }),
      /^spec\.networkPolicy\.ingressRules\[0\]\.ports\[0\]\.protocol: .*TCP.*UDP.*SCTP/,
    ],
    [
      'a port out of range',
      withSpec({ networkPolicy: { egressRules: [{ ports: [{ port: 70000 }] }] } }),
      /^spec\.networkPolicy\.egressRules\[0\]\.ports\[0\]\.port: port must be from 1 to 65535/,
    ],
    [
      'a port of 0',
      withSpec({ networkPolicy: { egressRules: [{ ports: [{ port: 0 }] }] } }),
      /^spec\.networkPolicy\.egressRules\[0\]\.ports\[0\]\.port: /,
    ],
    [
      'an env item with both value and valueFrom',
      withSpec({
        server: { env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      }),
      /^spec\.server\.env\[0\]: set either value or valueFrom, not both/,
    ],
    [
      'a valueFrom with two sources',
      withSpec({
        server: {
          env: [
            {
              name: 'A',
              valueFrom: { secretKeyRef: { name: 's', key: 'k' }, configMapKeyRef: { name: 'c', key: 'k' } },
            },
          ],
        },
      }),
      /^spec\.server\.env\[0\]\.valueFrom: valueFrom must set exactly one/,
    ],
    [
      'a redis directive the operator owns',
      withSpec({ redis: { config: { requirepass: 'x' } } }),
      /^spec\.redis\.config\.requirepass: "requirepass" is not an allowed redis\.conf directive: only the tuning directives/,
    ],
    [
      'a redis ACL user (would bypass requirepass)',
      withSpec({ redis: { config: { user: 'x on nopass ~* +@all' } } }),
      /^spec\.redis\.config\.user: "user" is not an allowed redis\.conf directive.*kubectl explain tenant\.spec\.redis\.config/,
    ],
    [
      'a redis module',
      withSpec({ redis: { config: { loadmodule: '/tmp/evil.so' } } }),
      /^spec\.redis\.config\.loadmodule: "loadmodule" is not an allowed/,
    ],
    [
      'the redis debug command',
      withSpec({ redis: { config: { 'enable-debug-command': 'yes' } } }),
      /^spec\.redis\.config\.enable-debug-command: "enable-debug-command" is not an allowed/,
    ],
    [
      'a multi-line redis value',
      withSpec({ redis: { config: { 'maxmemory-policy': 'a\nrequirepass x' } } }),
      /^spec\.redis\.config\.maxmemory-policy: a redis config value is one line of printable ASCII/,
    ],
    [
      'a quoted redis value',
      withSpec({ redis: { config: { save: '"" \n' } } }),
      /^spec\.redis\.config\.save: a redis config value is one line/,
    ],
    [
      'an upper-case redis directive',
      withSpec({ redis: { config: { MaxMemory: '1' } } }),
      /^spec\.redis\.config\.MaxMemory: "MaxMemory" is not an allowed/,
    ],
    ['an unknown field', withSpec({ replicas: 3 }), /^spec\.replicas: unknown field/],
    [
      'a misspelled nested field',
      withSpec({ server: { replica: 3 } }),
      /^spec\.server\.replica: unknown field/,
    ],
    ['a relative probe path', withSpec({ server: { probePath: 'health' } }), /^spec\.server\.probePath: /],
    [
      'a bad imagePullPolicy',
      withSpec({ server: { imagePullPolicy: 'Sometimes' } }),
      /^spec\.server\.imagePullPolicy: /,
    ],
    ['a fractional replica count', withSpec({ server: { replicas: 1.5 } }), /^spec\.server\.replicas: /],
    [
      'a wrong apiVersion',
      { ...base(), apiVersion: 'neurallog.io/v2' },
      /^apiVersion: apiVersion must be neurallog\.io\/v1/,
    ],
    ['a wrong kind', { ...base(), kind: 'Tenants' }, /^kind: kind must be Tenant/],
    ['a missing metadata.name', { ...base(), metadata: {} }, /^metadata\.name: /],
  ];
  for (const [what, input, expected] of cases) {
    test(what, () => {
      const issues = issuesOf(input);
      assert.ok(
        issues.some((i) => expected.test(i)),
        `no issue matched ${expected}; got:\n${issues.join('\n')}`,
      );
    });
  }
});

test('every problem is reported at once, not only the first', () => {
  const issues = issuesOf({
    ...base(),
    metadata: { name: 'Bad_Name' },
    spec: { planId: 'gold', billingEmail: 'x', server: { replicas: -2 } },
  });
  for (const field of ['metadata.name', 'spec.planId', 'spec.billingEmail', 'spec.server.replicas']) {
    assert.ok(
      issues.some((i) => i.startsWith(`${field}:`)),
      `${field} not reported in:\n${issues.join('\n')}`,
    );
  }
});

test('spec.tenantId makes any valid metadata.name acceptable', () => {
  const result = validateTenant({
    ...base(),
    metadata: { name: 'acme.corp' },
    spec: { tenantId: 'acme-corp' },
  });
  assert.equal(result.ok, true);
});

// Cases where the API server and the offline validator disagreed (found by the hostile-input run,
// test/reliability/fuzz.ts): each now gets the same answer from both.
describe('validateTenant answers as the API server does', () => {
  test('metadata.name must be a DNS subdomain even when spec.tenantId is set', () => {
    for (const name of ['Acme.Corp', 'acme-', 'acme_corp', 'acme corp', 'acmé', '-acme', 'a'.repeat(254)]) {
      const issues = issuesOf({ ...base(), metadata: { name }, spec: { tenantId: 'acme' } });
      assert.ok(
        issues.some((i) => i.startsWith('metadata.name: ')),
        `${name}: ${issues.join('; ')}`,
      );
    }
    assert.equal(
      validateTenant({ ...base(), metadata: { name: 'a'.repeat(253) }, spec: { tenantId: 'acme' } }).ok,
      true,
    );
  });

  test('unknown fields are refused at the top, in metadata and in status, as under strict decoding', () => {
    assert.deepEqual(issuesOf({ ...base(), extra: 1 }), [
      'extra: unknown field (check the spelling; see `kubectl explain tenant.spec`)',
    ]);
    assert.match(
      issuesOf({ ...base(), metadata: { name: 'acme', extra: 1 } })[0] ?? '',
      /^metadata\.extra: /,
    );
    assert.match(issuesOf({ ...base(), status: { bogus: 1 } })[0] ?? '', /^status\.bogus: /);
    const live = {
      ...base(),
      metadata: {
        name: 'acme',
        uid: 'u',
        resourceVersion: '1',
        generation: 2,
        creationTimestamp: '2026-01-01T00:00:00Z',
        labels: { a: 'b' },
        annotations: {},
        finalizers: ['neurallog.io/finalizer'],
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
      status: { phase: 'Running', conditions: [] },
    };
    assert.equal(validateTenant(live).ok, true, 'an object as the API server returns it');
  });

  test('a field set to null is unset (the API server prunes it); a null array item is refused', () => {
    const result = validateTenant(
      withSpec({
        displayName: null,
        redis: { config: null, image: null },
        services: { logServer: { replicas: null } },
      }),
    );
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.tenant.spec, { redis: {}, services: { logServer: {} } });
    assert.equal(
      validateTenant({ ...base(), metadata: { name: 'acme', annotations: { note: null } } }).ok,
      true,
    );
    assert.match(issuesOf(withSpec({ server: { env: [null] } }))[0] ?? '', /^spec\.server\.env\[0\]: /);
  });

  test('billingEmail: plain addresses only (not what only Go net/mail takes)', () => {
    for (const email of ['billing@example.com', "o'neil+tag@mail.example.co", 'a.b_c@x-y.example']) {
      assert.equal(validateTenant(withSpec({ billingEmail: email })).ok, true, email);
    }
    for (const email of [
      '"a b"@example.com',
      'a@[127.0.0.1]',
      'é@example.com',
      'a@exämple.com',
      'Bob <bob@example.com>',
      'a@b',
      'a..b@example.com',
      'a@example.com\n',
    ]) {
      assert.match(issuesOf(withSpec({ billingEmail: email }))[0] ?? '', /^spec\.billingEmail: /, email);
    }
  });

  test('integers beyond 2^53 - 1 are refused (the CRD carries the same bound)', () => {
    assert.match(
      issuesOf(withSpec({ redis: { resources: { memory: { limit: 2 ** 60 } } } })).join('\n'),
      /spec\.redis\.resources\.memory\.limit/,
    );
    assert.match(issuesOf(withSpec({ resources: { pods: 2 ** 60 } }))[0] ?? '', /^spec\.resources\.pods: /);
  });
});

test('valid tenants pass, including every optional field', () => {
  const result = validateTenant(
    withSpec({
      displayName: 'Acme',
      tenantId: 'acme',
      planId: 'enterprise',
      billingEmail: 'billing@acme.example',
      resources: {
        cpu: { requests: 4, limits: '8' },
        memory: { requests: '8Gi' },
        storage: { requests: '1Ti', storageClass: 'ssd' },
        pods: 5,
        services: 2,
      },
      features: { aiEnabled: true },
      server: {
        replicas: 0,
        env: [{ name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } }],
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'tenants', effect: 'NoSchedule' }],
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 10,
                preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              },
            ],
          },
        },
        podLabels: { team: 'a' },
      },
      redis: { replicas: 3, storage: 5368709120, config: { 'maxmemory-policy': 'volatile-lru', hz: '20' } },
      networkPolicy: {
        ingressRules: [{ from: { app: 'x' }, ports: [{ protocol: 'SCTP', port: 'metrics' }] }],
      },
      services: { logServer: { enabled: false }, authService: { enabled: false } },
    }),
  );
  assert.deepEqual(result.ok ? [] : result.issues, []);
});

test('nothing it is given makes it throw', () => {
  const odd: unknown[] = [
    null,
    undefined,
    0,
    'tenant',
    [],
    [1, 2],
    { spec: 'x' },
    { ...base(), spec: [] },
    { ...base(), metadata: null },
    { ...base(), spec: { server: { env: 'x' } } },
    { ...base(), spec: { networkPolicy: { ingressRules: [null] } } },
  ];
  for (const input of odd) {
    const result = validateTenant(input);
    assert.equal(result.ok, false, `accepted ${JSON.stringify(input)}`);
    if (!result.ok) assert.ok(result.issues.length > 0);
  }
});

test('parseTenant throws a typed error listing every issue', () => {
  assert.throws(
    () => parseTenant(withSpec({ planId: 'gold' })),
    (error: unknown) =>
      error instanceof TenantValidationError &&
      /spec\.planId/.test(error.message) &&
      error.issues.length === 1,
  );
});

test('the effective tenant id may not change', () => {
  const before = parseTenant(base());
  assert.equal(checkTenantIdUnchanged(before, parseTenant(withSpec({ tenantId: 'acme' }))), undefined);
  assert.match(
    String(checkTenantIdUnchanged(before, parseTenant(withSpec({ tenantId: 'other' })))),
    /spec\.tenantId is immutable/,
  );
});
