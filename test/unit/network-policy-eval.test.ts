/**
 * The rendered NetworkPolicies of several tenants, evaluated together (network-policy-eval.ts):
 * every path between every pod and port of the model, compared with what SPEC §1.4/§2.4 allow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTenant } from '../../src/api/validate.ts';
import { render } from '../../src/render/index.ts';
import { matchesSelector } from '../../src/placement/selector.ts';
import type { RenderedObject } from '../../src/render/meta.ts';
import {
  type Cluster,
  type Connection,
  type Endpoint,
  EXTERNAL,
  type NetworkPolicy,
  type Pod,
  type Protocol,
  allows,
} from './network-policy-eval.ts';

describe('the NetworkPolicy evaluator', () => {
  const ns = { a: {}, b: { team: 'blue' } };
  const web: Pod = {
    name: 'web',
    namespace: 'a',
    labels: { app: 'web' },
    ports: [{ name: 'http', containerPort: 8080 }],
  };
  const db: Pod = {
    name: 'db',
    namespace: 'a',
    labels: { app: 'db' },
    ports: [{ name: 'pg', containerPort: 5432 }],
  };
  const blue: Pod = {
    name: 'blue',
    namespace: 'b',
    labels: { app: 'web' },
    ports: [{ name: 'http', containerPort: 8080 }],
  };
  const dns: Pod = {
    name: 'dns',
    namespace: 'b',
    labels: {},
    ports: [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
    ],
  };
  const policy = (name: string, namespace: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({
    metadata: { name, namespace },
    spec,
  });
  const conn = (from: Endpoint, to: Endpoint, port: number, protocol: Protocol = 'TCP'): Connection => ({
    from,
    to,
    port,
    protocol,
  });

  test('no policy: everything is open, in the cluster and out', () => {
    const c: Cluster = { namespaces: ns, policies: [] };
    assert.equal(allows(c, conn(blue, db, 5432)), true);
    assert.equal(allows(c, conn(EXTERNAL, db, 5432)), true);
    assert.equal(allows(c, conn(db, EXTERNAL, 443)), true);
  });

  test('a policy selecting a pod closes it in its policyTypes only; absent policyTypes means Ingress', () => {
    const c: Cluster = { namespaces: ns, policies: [policy('deny-in', 'a', { podSelector: {} })] };
    assert.equal(allows(c, conn(web, db, 5432)), false);
    assert.equal(allows(c, conn(db, blue, 8080)), true, 'egress stays open');
    const both: Cluster = {
      namespaces: ns,
      policies: [
        policy('deny', 'a', {
          podSelector: { matchLabels: { app: 'db' } },
          policyTypes: ['Ingress', 'Egress'],
        }),
      ],
    };
    assert.equal(allows(both, conn(db, blue, 8080)), false);
    assert.equal(allows(both, conn(web, blue, 8080)), true, 'web is not selected');
  });

  test('peers: podSelector alone is the own namespace; namespaceSelector and podSelector together are AND', () => {
    const onlyWeb = policy('p', 'a', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    });
    const c: Cluster = { namespaces: ns, policies: [onlyWeb] };
    assert.equal(allows(c, conn(web, db, 5432)), true);
    assert.equal(allows(c, conn(blue, db, 5432)), false, 'same labels, other namespace');
    const blueWeb = policy('p', 'a', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: 'blue' } },
              podSelector: { matchLabels: { app: 'web' } },
            },
          ],
        },
      ],
    });
    const d: Cluster = { namespaces: ns, policies: [blueWeb] };
    assert.equal(allows(d, conn(blue, db, 5432)), true);
    assert.equal(allows(d, conn(dns, db, 5432)), false, 'right namespace, wrong pod');
    assert.equal(allows(d, conn(web, db, 5432)), false, 'right pod labels, wrong namespace');
    assert.equal(allows(d, conn(EXTERNAL, db, 5432)), false, 'a peer never matches outside the cluster');
  });

  test('ports: numbers, names resolved on the destination, protocols (TCP by default)', () => {
    const egress = (ports: NetworkPolicy['spec']['egress']) =>
      ({
        namespaces: ns,
        policies: [policy('e', 'a', { podSelector: {}, policyTypes: ['Egress'], egress: ports })],
      }) as Cluster;
    const dnsOnly = egress([{ ports: [{ protocol: 'UDP', port: 53 }] }]);
    assert.equal(allows(dnsOnly, conn(web, dns, 53, 'UDP')), true);
    assert.equal(allows(dnsOnly, conn(web, dns, 53, 'TCP')), false);
    const named = egress([{ ports: [{ port: 'http' }] }]);
    assert.equal(allows(named, conn(web, blue, 8080)), true);
    assert.equal(allows(named, conn(web, db, 5432)), false, 'db has no port named http');
    assert.equal(allows(named, conn(web, EXTERNAL, 8080)), false, 'a name resolves on pods only');
    const noRules = egress([]);
    assert.equal(allows(noRules, conn(web, blue, 8080)), false);
    assert.throws(() => allows(noRules, conn(web, blue, 9999)), /does not listen/);
  });

  test('matchExpressions', () => {
    const labels = { app: 'web', tier: 'front' };
    assert.equal(
      matchesSelector(labels, { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }),
      true,
    );
    assert.equal(
      matchesSelector(labels, { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }),
      false,
    );
    assert.equal(matchesSelector(labels, { matchExpressions: [{ key: 'x', operator: 'Exists' }] }), false);
    assert.equal(
      matchesSelector(labels, { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }),
      true,
    );
    assert.equal(matchesSelector(labels, {}), true);
  });
});

// ---- The tenants' rendered policies ----

interface TenantModel {
  id: string;
  namespace: string;
  isolated: boolean;
  allowedNamespaces: string[];
  allowWebEgress: boolean;
  objects: RenderedObject[];
}

function tenantModel(
  id: string,
  networkPolicy: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): TenantModel {
  const tenant = parseTenant({
    apiVersion: 'neurallog.io/v1',
    kind: 'Tenant',
    metadata: { name: id },
    spec: { networkPolicy, ...extra },
  });
  return {
    id,
    namespace: `tenant-${id}`,
    isolated: networkPolicy.enabled !== false,
    allowedNamespaces: (networkPolicy.allowedNamespaces as string[] | undefined) ?? [],
    allowWebEgress: networkPolicy.allowWebEgress !== false,
    objects: render(tenant, { authUrl: 'http://auth.neurallog-system.svc:3000' }),
  };
}

type Workload = RenderedObject & {
  spec: {
    replicas: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: Array<{ ports: Pod['ports'] }> };
    };
  };
};

/** The pods the tenant's Deployment and StatefulSet make, with the labels and ports they render. */
function workloadPods(t: TenantModel): Pod[] {
  const pods: Pod[] = [];
  for (const o of t.objects) {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') continue;
    const w = o as Workload;
    for (let i = 0; i < w.spec.replicas; i++) {
      const name = `${o.metadata.name}-${i}`;
      const labels = { ...w.spec.template.metadata.labels };
      // The StatefulSet controller labels each pod with its name (the Redis Service selects pod 0 by it).
      if (o.kind === 'StatefulSet') labels['statefulset.kubernetes.io/pod-name'] = name;
      pods.push({
        name,
        namespace: t.namespace,
        labels,
        ports: w.spec.template.spec.containers.flatMap((c) => c.ports),
      });
    }
  }
  return pods;
}

const tenants = [
  tenantModel(
    'alpha',
    {
      allowedNamespaces: ['monitoring'],
      ingressRules: [{ description: 'scraper', from: { role: 'scraper' }, ports: [{ port: 'metrics' }] }],
      egressRules: [{ to: { app: 'cache' }, ports: [{ port: 6380 }] }],
    },
    { server: { replicas: 2 }, redis: { replicas: 2 } },
  ),
  tenantModel('beta', { allowWebEgress: false }),
  tenantModel('gamma', { enabled: false }),
];

const SYSTEM = ['neurallog-system', 'ingress-nginx', 'kube-system', 'monitoring', 'default'];

const pods: Pod[] = [
  ...tenants.flatMap(workloadPods),
  // Pods a person runs in the tenant namespaces, not made by the operator.
  {
    name: 'alpha-scraper',
    namespace: 'tenant-alpha',
    labels: { role: 'scraper' },
    ports: [{ name: 'metrics', containerPort: 9100 }],
  },
  {
    name: 'alpha-cache',
    namespace: 'tenant-alpha',
    labels: { app: 'cache' },
    ports: [{ name: 'cache', containerPort: 6380 }],
  },
  {
    name: 'gamma-web',
    namespace: 'tenant-gamma',
    labels: { app: 'web' },
    ports: [{ name: 'web', containerPort: 80 }],
  },
  {
    name: 'auth',
    namespace: 'neurallog-system',
    labels: { app: 'auth' },
    ports: [{ name: 'http', containerPort: 3000 }],
  },
  {
    name: 'ingress-controller',
    namespace: 'ingress-nginx',
    labels: { app: 'ingress-nginx' },
    ports: [
      { name: 'http', containerPort: 80 },
      { name: 'https', containerPort: 443 },
    ],
  },
  {
    name: 'coredns',
    namespace: 'kube-system',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
    ],
  },
  {
    name: 'prometheus',
    namespace: 'monitoring',
    labels: { app: 'prometheus' },
    ports: [{ name: 'web', containerPort: 9090 }],
  },
  {
    name: 'client',
    namespace: 'default',
    labels: { app: 'client' },
    ports: [{ name: 'http', containerPort: 8080 }],
  },
];

const cluster: Cluster = {
  namespaces: Object.fromEntries([...tenants.map((t) => [t.namespace, {}]), ...SYSTEM.map((n) => [n, {}])]),
  policies: tenants.flatMap(
    (t) => t.objects.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[],
  ),
};

const EXTERNAL_PORTS: Array<[number, Protocol]> = [
  [80, 'TCP'],
  [443, 'TCP'],
  [22, 'TCP'],
  [53, 'UDP'],
  [5432, 'TCP'],
];

/** Every (source, destination, port) of the model: pod to pod on each port it listens on, pod to outside, outside to pod. */
function allConnections(): Connection[] {
  const out: Connection[] = [];
  const sources: Endpoint[] = [...pods, EXTERNAL];
  for (const from of sources) {
    for (const to of pods) {
      if (to === from) continue;
      for (const p of to.ports) out.push({ from, to, port: p.containerPort, protocol: p.protocol ?? 'TCP' });
    }
    if (from !== EXTERNAL) {
      for (const [port, protocol] of EXTERNAL_PORTS) out.push({ from, to: EXTERNAL, port, protocol });
    }
  }
  return out;
}

const tenantOf = (e: Endpoint) =>
  'namespace' in e ? tenants.find((t) => t.namespace === e.namespace) : undefined;
const isServer = (e: Endpoint) => 'labels' in e && e.labels['app.kubernetes.io/component'] === 'server';
const nsOf = (e: Endpoint) => ('namespace' in e ? e.namespace : undefined);

/** SPEC §1.4 and §2.4 in words: what an isolated tenant's pods may send and receive. */
function specAllows(c: Connection): boolean {
  const source = tenantOf(c.from);
  if (source?.isolated) {
    const out =
      nsOf(c.to) === source.namespace || // allow-same-namespace
      c.port === 53 || // allow-dns-egress (UDP and TCP, anywhere)
      nsOf(c.to) === 'neurallog-system' || // allow-system-egress
      (source.allowWebEgress && c.protocol === 'TCP' && (c.port === 80 || c.port === 443)); // allow-web-egress
    // custom-egress-0 of alpha stays inside its namespace, which allow-same-namespace opens already.
    if (!out) return false;
  }
  const destination = tenantOf(c.to);
  if (destination?.isolated) {
    const into =
      nsOf(c.from) === destination.namespace || // allow-same-namespace (custom-ingress-0 included)
      (isServer(c.to) &&
        c.port === 3030 &&
        c.protocol === 'TCP' &&
        ['neurallog-system', 'ingress-nginx', ...destination.allowedNamespaces].includes(nsOf(c.from) ?? '')); // allow-system-ingress, allow-api-access
    if (!into) return false;
  }
  return true;
}

const describeConnection = (c: Connection) =>
  `${'namespace' in c.from ? `${c.from.namespace}/${c.from.name}` : 'external'} -> ${
    'namespace' in c.to ? `${c.to.namespace}/${c.to.name}` : 'external'
  } ${c.protocol}/${c.port}`;

describe('the rendered network policies of three tenants, evaluated together', () => {
  const connections = allConnections();

  test('the model is what the tenants render (two server and two Redis pods for alpha, policies for alpha and beta only)', () => {
    assert.deepEqual(
      pods
        .filter((p) => p.namespace === 'tenant-alpha' && p.labels['app.kubernetes.io/component'])
        .map((p) => p.name),
      ['alpha-redis-0', 'alpha-redis-1', 'alpha-server-0', 'alpha-server-1'],
    );
    assert.deepEqual(
      [...new Set(cluster.policies.map((p) => p.metadata.namespace))],
      ['tenant-alpha', 'tenant-beta'],
    );
    const allowed = connections.filter((c) => allows(cluster, c)).length;
    assert.ok(allowed > 0 && allowed < connections.length, `${allowed} of ${connections.length} allowed`);
  });

  test('every path is allowed exactly when the SPEC allows it', () => {
    const wrong = connections
      .filter((c) => allows(cluster, c) !== specAllows(c))
      .map((c) => `${describeConnection(c)}: policies ${allows(cluster, c) ? 'allow' : 'deny'}`);
    assert.deepEqual(wrong, []);
  });

  test('no path from one tenant to another, except to a tenant that turned isolation off', () => {
    const crossTenant = connections.filter((c) => {
      const a = tenantOf(c.from);
      const b = tenantOf(c.to);
      return a && b && a !== b && allows(cluster, c);
    });
    // alpha may open web connections anywhere (allowWebEgress), and gamma does not isolate itself.
    assert.deepEqual(
      crossTenant.map(describeConnection).sort(),
      ['alpha-server-0', 'alpha-server-1', 'alpha-redis-0', 'alpha-redis-1', 'alpha-scraper', 'alpha-cache']
        .map((name) => `tenant-alpha/${name} -> tenant-gamma/gamma-web TCP/80`)
        .sort(),
    );
  });

  test('Redis of an isolated tenant is reachable from its own namespace only', () => {
    for (const t of tenants.filter((x) => x.isolated)) {
      const redis = pods.filter(
        (p) => p.namespace === t.namespace && p.labels['app.kubernetes.io/component'] === 'redis',
      );
      assert.ok(redis.length > 0);
      const from = connections
        .filter((c) => redis.includes(c.to as Pod) && allows(cluster, c))
        .map((c) => nsOf(c.from));
      assert.deepEqual([...new Set(from)], [t.namespace], t.id);
      // Every server pod of the tenant reaches every Redis pod.
      for (const server of pods.filter((p) => p.namespace === t.namespace && isServer(p))) {
        for (const r of redis)
          assert.equal(allows(cluster, { from: server, to: r, port: 6379, protocol: 'TCP' }), true);
      }
    }
  });

  test('the system namespaces and allowedNamespaces reach the server on http and nothing else', () => {
    const fromOutside = connections.filter(
      (c) => tenantOf(c.to)?.isolated && nsOf(c.from) !== nsOf(c.to) && allows(cluster, c),
    );
    assert.ok(fromOutside.length > 0);
    for (const c of fromOutside) {
      assert.ok(isServer(c.to) && c.port === 3030, describeConnection(c));
    }
    const sources = (id: string) =>
      [...new Set(fromOutside.filter((c) => tenantOf(c.to)?.id === id).map((c) => nsOf(c.from)))].sort();
    assert.deepEqual(sources('alpha'), ['ingress-nginx', 'monitoring', 'neurallog-system']);
    assert.deepEqual(sources('beta'), ['ingress-nginx', 'neurallog-system']);
  });

  test('an isolated tenant reaches DNS and the Auth service; the internet on 80/443 only while allowWebEgress', () => {
    const server = (id: string) => pods.find((p) => p.name === `${id}-server-0`)!;
    const coredns = pods.find((p) => p.name === 'coredns')!;
    const auth = pods.find((p) => p.name === 'auth')!;
    for (const id of ['alpha', 'beta']) {
      assert.equal(allows(cluster, { from: server(id), to: coredns, port: 53, protocol: 'UDP' }), true);
      assert.equal(allows(cluster, { from: server(id), to: coredns, port: 53, protocol: 'TCP' }), true);
      assert.equal(allows(cluster, { from: server(id), to: auth, port: 3000, protocol: 'TCP' }), true);
      assert.equal(allows(cluster, { from: server(id), to: EXTERNAL, port: 22, protocol: 'TCP' }), false);
      assert.equal(allows(cluster, { from: EXTERNAL, to: server(id), port: 3030, protocol: 'TCP' }), false);
    }
    assert.equal(allows(cluster, { from: server('alpha'), to: EXTERNAL, port: 443, protocol: 'TCP' }), true);
    assert.equal(allows(cluster, { from: server('beta'), to: EXTERNAL, port: 443, protocol: 'TCP' }), false);
  });
});
