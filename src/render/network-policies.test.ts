import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedTenant } from './fixtures.test-util.ts';
import { type NetworkPolicyObject, networkPolicyNames, renderNetworkPolicies } from './network-policies.ts';

const UID = '3f1c2b9e-0000-4000-8000-000000000005';

const BUILT_IN = [
  'default-deny',
  'allow-same-namespace',
  'allow-system-ingress',
  'allow-dns-egress',
  'allow-system-egress',
  'allow-web-egress',
];

const nsPeer = (name: string) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});

function byName(policies: NetworkPolicyObject[], name: string): NetworkPolicyObject {
  const p = policies.find((x) => x.metadata.name === name);
  assert.ok(p, `policy ${name} rendered`);
  return p;
}

describe('renderNetworkPolicies', () => {
  describe('defaults', () => {
    const policies = renderNetworkPolicies(resolvedTenant());

    it('renders the built-in policies in order; no allow-api-access without allowedNamespaces', () => {
      assert.deepEqual(
        policies.map((p) => p.metadata.name),
        BUILT_IN,
      );
    });

    it('renders networking.k8s.io/v1 NetworkPolicies in the tenant namespace with the tenant labels', () => {
      for (const p of policies) {
        assert.equal(p.apiVersion, 'networking.k8s.io/v1');
        assert.equal(p.kind, 'NetworkPolicy');
        assert.equal(p.metadata.namespace, 'tenant-acme');
        assert.deepEqual(p.metadata.labels, {
          'app.kubernetes.io/managed-by': 'tenant-operator',
          'app.kubernetes.io/part-of': 'neurallog',
          'app.kubernetes.io/instance': 'acme',
          'app.kubernetes.io/component': 'network-policy',
          'neurallog.io/tenant': 'acme',
          'neurallog.io/tenant-id': 'acme',
        });
        assert.equal('annotations' in p.metadata, false);
        assert.equal('ownerReferences' in p.metadata, false);
        if (p.metadata.name !== 'allow-system-ingress') {
          assert.deepEqual(p.spec.podSelector, {}, `${p.metadata.name} selects every pod`);
        }
      }
    });

    it('owner references appear once the Tenant uid is known', () => {
      for (const p of renderNetworkPolicies(resolvedTenant({}, { uid: UID }))) {
        assert.equal(p.metadata.ownerReferences?.length, 1);
        assert.equal(p.metadata.ownerReferences?.[0]?.uid, UID);
        assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'Tenant');
      }
    });

    it('default-deny selects every pod, both directions, with no rules', () => {
      assert.deepEqual(byName(policies, 'default-deny').spec, {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
    });

    it('allow-same-namespace allows ingress from and egress to pods of the tenant namespace', () => {
      assert.deepEqual(byName(policies, 'allow-same-namespace').spec, {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      });
    });

    it('allow-system-ingress allows neurallog-system and ingress-nginx to the server pods on port http only', () => {
      assert.deepEqual(byName(policies, 'allow-system-ingress').spec, {
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/instance': 'acme',
            'app.kubernetes.io/component': 'server',
            'neurallog.io/tenant': 'acme',
          },
        },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [nsPeer('neurallog-system'), nsPeer('ingress-nginx')],
            ports: [{ protocol: 'TCP', port: 'http' }],
          },
        ],
      });
    });

    it('allow-dns-egress allows port 53 UDP and TCP to any destination', () => {
      assert.deepEqual(byName(policies, 'allow-dns-egress').spec, {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      });
    });

    it('allow-system-egress allows egress to neurallog-system', () => {
      assert.deepEqual(byName(policies, 'allow-system-egress').spec, {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [nsPeer('neurallog-system')] }],
      });
    });

    it('allow-web-egress allows TCP 80 and 443 to any destination', () => {
      assert.deepEqual(byName(policies, 'allow-web-egress').spec, {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            ports: [
              { protocol: 'TCP', port: 80 },
              { protocol: 'TCP', port: 443 },
            ],
          },
        ],
      });
    });
  });

  it('renders nothing when disabled, whatever else is set', () => {
    const t = resolvedTenant({
      networkPolicy: {
        enabled: false,
        allowedNamespaces: ['monitoring'],
        ingressRules: [{ from: { app: 'x' } }],
        egressRules: [{ to: { app: 'y' } }],
      },
    });
    assert.deepEqual(renderNetworkPolicies(t), []);
    assert.deepEqual(networkPolicyNames(t), []);
  });

  it('renders the defaults when enabled is explicitly true', () => {
    assert.deepEqual(networkPolicyNames(resolvedTenant({ networkPolicy: { enabled: true } })), BUILT_IN);
  });

  it('omits allow-api-access when allowedNamespaces is empty', () => {
    const names = networkPolicyNames(resolvedTenant({ networkPolicy: { allowedNamespaces: [] } }));
    assert.ok(!names.includes('allow-api-access'));
  });

  it('allow-api-access admits each allowed namespace to the server pods on port http', () => {
    const policies = renderNetworkPolicies(
      resolvedTenant({ networkPolicy: { allowedNamespaces: ['monitoring', 'frontend'] } }),
    );
    assert.deepEqual(
      policies.map((p) => p.metadata.name),
      [...BUILT_IN.slice(0, 3), 'allow-api-access', ...BUILT_IN.slice(3)],
    );
    assert.deepEqual(byName(policies, 'allow-api-access').spec, {
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/instance': 'acme',
          'app.kubernetes.io/component': 'server',
          'neurallog.io/tenant': 'acme',
        },
      },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [nsPeer('monitoring'), nsPeer('frontend')], ports: [{ protocol: 'TCP', port: 'http' }] },
      ],
    });
  });

  it('lists a namespace given twice in allowedNamespaces once', () => {
    const p = byName(
      renderNetworkPolicies(resolvedTenant({ networkPolicy: { allowedNamespaces: ['a', 'b', 'a'] } })),
      'allow-api-access',
    );
    assert.deepEqual(p.spec.ingress?.[0]?.from, [nsPeer('a'), nsPeer('b')]);
  });

  it('omits allow-web-egress when allowWebEgress is false', () => {
    assert.deepEqual(
      networkPolicyNames(resolvedTenant({ networkPolicy: { allowWebEgress: false } })),
      BUILT_IN.filter((n) => n !== 'allow-web-egress'),
    );
  });

  it('renders one policy per custom rule, indexed from 0, ingress before egress, after the built-ins', () => {
    const t = resolvedTenant({
      networkPolicy: {
        ingressRules: [{ from: { app: 'a' } }, { from: { app: 'b' } }],
        egressRules: [{ to: { app: 'c' } }],
      },
    });
    assert.deepEqual(networkPolicyNames(t), [
      ...BUILT_IN,
      'custom-ingress-0',
      'custom-ingress-1',
      'custom-egress-0',
    ]);
  });

  it('custom ingress: from pods with the labels, ports with TCP default, UDP, SCTP and named ports', () => {
    const policies = renderNetworkPolicies(
      resolvedTenant({
        networkPolicy: {
          ingressRules: [
            {
              description: 'metrics scraper',
              from: { 'app.kubernetes.io/name': 'prometheus', tier: 'monitoring' },
              ports: [
                { port: 9090 },
                { protocol: 'TCP', port: 8080 },
                { protocol: 'UDP', port: 8125 },
                { protocol: 'SCTP', port: 9999 },
                { port: 'metrics' },
                { protocol: 'UDP', port: 'statsd' },
              ],
            },
          ],
        },
      }),
    );
    const p = byName(policies, 'custom-ingress-0');
    assert.deepEqual(p.metadata.annotations, { 'neurallog.io/description': 'metrics scraper' });
    assert.deepEqual(p.spec, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus', tier: 'monitoring' } } },
          ],
          ports: [
            { protocol: 'TCP', port: 9090 },
            { protocol: 'TCP', port: 8080 },
            { protocol: 'UDP', port: 8125 },
            { protocol: 'SCTP', port: 9999 },
            { protocol: 'TCP', port: 'metrics' },
            { protocol: 'UDP', port: 'statsd' },
          ],
        },
      ],
    });
  });

  it('custom egress: to pods with the labels, ports mapped likewise', () => {
    const p = byName(
      renderNetworkPolicies(
        resolvedTenant({
          networkPolicy: {
            egressRules: [
              {
                description: 'to the worker',
                to: { app: 'worker' },
                ports: [{ port: 5672 }, { protocol: 'SCTP', port: 'sig' }, { protocol: 'UDP', port: 53 }],
              },
            ],
          },
        }),
      ),
      'custom-egress-0',
    );
    assert.deepEqual(p.metadata.annotations, { 'neurallog.io/description': 'to the worker' });
    assert.deepEqual(p.spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { app: 'worker' } } }],
          ports: [
            { protocol: 'TCP', port: 5672 },
            { protocol: 'SCTP', port: 'sig' },
            { protocol: 'UDP', port: 53 },
          ],
        },
      ],
    });
  });

  it('custom rules with empty or absent from/to select every pod of the namespace; no ports means all ports', () => {
    const policies = renderNetworkPolicies(
      resolvedTenant({
        networkPolicy: {
          ingressRules: [{ from: {} }, {}, { from: {}, ports: [] }],
          egressRules: [{ to: {} }, { description: 'anything here' }],
        },
      }),
    );
    for (const name of ['custom-ingress-0', 'custom-ingress-1', 'custom-ingress-2']) {
      const p = byName(policies, name);
      assert.deepEqual(p.spec, {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }] }],
      });
      assert.equal('annotations' in p.metadata, false);
    }
    assert.deepEqual(byName(policies, 'custom-egress-0').spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: {} }] }],
    });
    assert.deepEqual(byName(policies, 'custom-egress-1').metadata.annotations, {
      'neurallog.io/description': 'anything here',
    });
  });

  it('sorts matchLabels keys, so label order in the manifest does not change the output', () => {
    const a = renderNetworkPolicies(
      resolvedTenant({ networkPolicy: { ingressRules: [{ from: { z: '1', a: '2' } }] } }),
    );
    const b = renderNetworkPolicies(
      resolvedTenant({ networkPolicy: { ingressRules: [{ from: { a: '2', z: '1' } }] } }),
    );
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.deepEqual(
      Object.keys(byName(a, 'custom-ingress-0').spec.ingress![0]!.from![0]!.podSelector!.matchLabels!),
      ['a', 'z'],
    );
  });

  it('custom rules survive allowWebEgress false and allowedNamespaces set', () => {
    const names = networkPolicyNames(
      resolvedTenant({
        networkPolicy: {
          allowWebEgress: false,
          allowedNamespaces: ['monitoring'],
          ingressRules: [{ from: { a: 'b' } }],
          egressRules: [{ to: { c: 'd' } }],
        },
      }),
    );
    assert.deepEqual(names, [
      'default-deny',
      'allow-same-namespace',
      'allow-system-ingress',
      'allow-api-access',
      'allow-dns-egress',
      'allow-system-egress',
      'custom-ingress-0',
      'custom-egress-0',
    ]);
  });

  it('networkPolicyNames matches the rendered names', () => {
    const t = resolvedTenant({
      networkPolicy: { allowedNamespaces: ['x'], egressRules: [{ to: { a: 'b' } }] },
    });
    assert.deepEqual(
      networkPolicyNames(t),
      renderNetworkPolicies(t).map((p) => p.metadata.name),
    );
  });

  it('does not share objects with the tenant model or between renders', () => {
    const t = resolvedTenant({ networkPolicy: { ingressRules: [{ from: { app: 'a' } }] } });
    const first = renderNetworkPolicies(t);
    byName(first, 'custom-ingress-0').spec.ingress![0]!.from![0]!.podSelector!.matchLabels!.app = 'changed';
    byName(first, 'allow-system-ingress').spec.ingress![0]!.from!.pop();
    assert.deepEqual(
      renderNetworkPolicies(t),
      renderNetworkPolicies(resolvedTenant({ networkPolicy: { ingressRules: [{ from: { app: 'a' } }] } })),
    );
    assert.equal(
      byName(renderNetworkPolicies(t), 'custom-ingress-0').spec.ingress![0]!.from![0]!.podSelector!
        .matchLabels!.app,
      'a',
    );
  });

  it('is deterministic', () => {
    const spec = {
      networkPolicy: {
        allowedNamespaces: ['monitoring'],
        ingressRules: [{ description: 'd', from: { app: 'a' }, ports: [{ port: 80 }] }],
        egressRules: [{ to: { app: 'b' }, ports: [{ protocol: 'UDP', port: 'dns' }] }],
      },
    };
    const a = renderNetworkPolicies(resolvedTenant(spec, { uid: UID }));
    const b = renderNetworkPolicies(resolvedTenant(spec, { uid: UID }));
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
  });
});
