/**
 * The install artefacts (SPEC §8): kustomize manifests under config/, the Helm chart under
 * charts/tenant-operator, the Dockerfile. Checks that they parse, agree with each other and
 * with the code (the verbs the operator uses, the flags `run` accepts), and — when the tools are
 * on this machine (built with the local control plane, or on PATH) — that `kubectl kustomize`
 * and `helm template` render them. test/integration/install.test.ts applies them to a real
 * API server.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { CRD_PATH, MEMBER_CLUSTER_CRD_PATH, memberClusterCrdYaml, tenantCrdYaml } from '../../src/api/crd.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { binaries } from '../cluster/config.ts';
import {
  CHILD_TYPES,
  EVENT_TYPE,
  LEASE_TYPE,
  POD_TYPE,
  MEMBER_CLUSTER_TYPE,
  TENANT_TYPE,
  type ResourceType,
} from '../../src/kube/resources.ts';
import { tenantRoleRules } from '../../src/render/rbac.ts';

type Node = { [key: string]: unknown };
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Manifest extends Node {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

const root = new URL('../../', import.meta.url).pathname;
const CHART = 'charts/tenant-operator';
const CHART_CRD_PATH = `${CHART}/crds/neurallog.io_tenants.yaml`;
const NAMESPACE = 'neurallog-system';
const SERVICE_ACCOUNT = 'neurallog-operator-controller-manager';

const read = (path: string): string => readFileSync(join(root, path), 'utf8');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    const path = `${dir}/${entry}`;
    if (statSync(join(root, path)).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry)) out.push(path);
  }
  return out.sort();
}

function parseDocs(text: string, source: string): Manifest[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  const out: Manifest[] = [];
  for (const doc of docs) {
    assert.deepEqual(
      doc.errors.map((e) => e.message),
      [],
      `${source} is not valid YAML`,
    );
    const value = doc.toJS() as Manifest | null;
    if (value !== null) out.push(value);
  }
  return out;
}

const parseFile = (path: string): Manifest[] => parseDocs(read(path), path);

function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.ok(found, `no ${kind}${name ? ` ${name}` : ''} among ${manifests.map((m) => m.kind).join(', ')}`);
  return found;
}

/** Every `(apiGroup, resource)` a rule list grants, with the verbs granted on it. */
function grants(rules: Rule[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        const verbs = out.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) verbs.add(verb);
        out.set(key, verbs);
      }
    }
  }
  return out;
}

function plain(map: Map<string, Set<string>>): Record<string, string[]> {
  return Object.fromEntries(
    [...map].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]),
  );
}

const groupOf = (type: ResourceType): string =>
  type.apiVersion.includes('/') ? type.apiVersion.split('/')[0]! : '';

/**
 * What the operator itself does, per resource (src/kube/objects.ts, events.ts, the watch caches
 * of src/operator/caches.ts): list/watch for the caches, patch for server-side apply and merge
 * patches, create, delete. The Redis Secret is created once and never patched; the Namespace is
 * also read with get when the cache does not have it yet, and a Tenant before registration.
 */
function operatorVerbs(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (key: string, verbs: string[]) => {
    const set = out.get(key) ?? new Set<string>();
    for (const v of verbs) set.add(v);
    out.set(key, set);
  };
  for (const type of CHILD_TYPES) {
    const verbs = ['list', 'watch', 'create', 'delete'];
    if (type.kind !== 'Secret') verbs.push('patch');
    // get: a namespace the cache does not hold; a Secret's metadata when a create finds it there.
    if (type.kind === 'Namespace' || type.kind === 'Secret') verbs.push('get');
    add(`${groupOf(type)}/${type.plural}`, verbs);
  }
  const tenants = `${groupOf(TENANT_TYPE)}/${TENANT_TYPE.plural}`;
  // get: a Tenant is confirmed live (same uid, not being deleted) before it is registered with Auth.
  add(tenants, ['get', 'list', 'watch', 'patch']);
  add(`${tenants}/status`, ['patch']);
  add(`${tenants}/finalizers`, ['update']);
  // The MemberCluster cache and the members' Ready condition (src/members).
  const members = `${groupOf(MEMBER_CLUSTER_TYPE)}/${MEMBER_CLUSTER_TYPE.plural}`;
  add(members, ['get', 'list', 'watch', 'patch']);
  add(`${members}/status`, ['patch']);
  // list: why a component is not ready (its pods; a StatefulSet's FailedCreate events).
  add(`${groupOf(EVENT_TYPE)}/${EVENT_TYPE.plural}`, ['create', 'patch', 'list']);
  add(`${groupOf(POD_TYPE)}/${POD_TYPE.plural}`, ['list']);
  return out;
}

/** Operator verbs plus everything the per-tenant Role grants (RBAC escalation prevention). */
function expectedClusterGrants(): Map<string, Set<string>> {
  const out = operatorVerbs();
  for (const [key, verbs] of grants(tenantRoleRules())) {
    const set = out.get(key) ?? new Set<string>();
    for (const v of verbs) set.add(v);
    out.set(key, set);
  }
  return out;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/** The long flags `tenant-operator run` accepts, from the real command line definition. */
function runFlags(): Set<string> {
  const program = buildProgram({ out: () => {}, err: () => {} }, () => {});
  const run = program.commands.find((c) => c.name() === 'run');
  assert.ok(run, 'the CLI has a run command');
  return new Set(run.options.map((o) => o.long).filter((l): l is string => l !== undefined));
}

function assertArgsAccepted(args: string[], source: string): void {
  assert.equal(args[0], 'run', `${source}: the first argument is the run command`);
  const flags = runFlags();
  for (const arg of args.slice(1)) {
    const flag = arg.split('=')[0]!;
    assert.ok(flags.has(flag), `${source}: \`run\` has no flag ${flag}`);
  }
}

function which(name: string, candidates: string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const path of [...candidates, ...dirs.map((d) => join(d, name))]) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

type PodSpec = {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: Node;
  containers: Array<{
    name: string;
    image: string;
    args?: string[];
    ports?: Array<{ name?: string; containerPort: number }>;
    livenessProbe?: { httpGet?: { path: string; port: string | number } };
    readinessProbe?: { httpGet?: { path: string; port: string | number } };
    resources?: { requests?: Node; limits?: Node };
    securityContext?: Node;
  }>;
};

/** The checks the shipped Deployment (kustomize or Helm) must pass. */
function assertManagerDeployment(deployment: Manifest, source: string): PodSpec['containers'][number] {
  const spec = deployment.spec as { replicas: number; template: { spec: PodSpec } };
  assert.equal(deployment.metadata.name, SERVICE_ACCOUNT, `${source}: Deployment name`);
  assert.equal(spec.replicas, 2, `${source}: two replicas`);
  const pod = spec.template.spec;
  assert.equal(pod.serviceAccountName, SERVICE_ACCOUNT, `${source}: service account`);
  assert.equal(pod.terminationGracePeriodSeconds, 30, `${source}: grace period`);
  const manager = pod.containers.find((c) => c.name === 'manager');
  assert.ok(manager, `${source}: container manager`);
  const args = manager.args ?? [];
  assertArgsAccepted(args, source);
  assert.ok(args.includes('--leader-elect'), `${source}: --leader-elect`);
  assert.ok(args.includes('--metrics-bind-address=:8080'), `${source}: metrics on :8080`);
  assert.ok(args.includes('--health-probe-bind-address=:8081'), `${source}: probes on :8081`);
  const portOf = (port: string | number | undefined) =>
    typeof port === 'number' ? port : manager.ports?.find((p) => p.name === port)?.containerPort;
  assert.equal(manager.livenessProbe?.httpGet?.path, '/healthz', `${source}: liveness path`);
  assert.equal(portOf(manager.livenessProbe?.httpGet?.port), 8081, `${source}: liveness port`);
  assert.equal(manager.readinessProbe?.httpGet?.path, '/readyz', `${source}: readiness path`);
  assert.equal(portOf(manager.readinessProbe?.httpGet?.port), 8081, `${source}: readiness port`);
  assert.ok(manager.resources?.requests?.cpu && manager.resources.requests.memory, `${source}: requests`);
  assert.ok(manager.resources?.limits?.cpu && manager.resources.limits.memory, `${source}: limits`);
  // Restricted Pod Security Standard.
  const podSc = pod.securityContext ?? {};
  const sc = manager.securityContext ?? {};
  assert.equal(sc.runAsNonRoot ?? podSc.runAsNonRoot, true, `${source}: runAsNonRoot`);
  const uid = (sc.runAsUser ?? podSc.runAsUser) as number | undefined;
  assert.ok(uid !== undefined && uid > 0, `${source}: a numeric non-root runAsUser`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${source}: allowPrivilegeEscalation`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${source}: readOnlyRootFilesystem`);
  assert.deepEqual((sc.capabilities as Node | undefined)?.drop, ['ALL'], `${source}: drop ALL`);
  const seccomp = (sc.seccompProfile ?? podSc.seccompProfile) as Node | undefined;
  assert.equal(seccomp?.type, 'RuntimeDefault', `${source}: seccomp`);
  return manager;
}

function assertMetricsService(service: Manifest, deployment: Manifest, source: string): void {
  const spec = service.spec as { selector: Record<string, string>; ports: Array<Node> };
  const podLabels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } })
    .template.metadata.labels;
  for (const [k, v] of Object.entries(spec.selector)) {
    assert.equal(podLabels[k], v, `${source}: the metrics Service selects the operator pods (${k})`);
  }
  assert.deepEqual(
    spec.ports.map((p) => [p.port, p.targetPort]),
    [[8080, 'metrics']],
    `${source}: metrics port`,
  );
}

function assertRbacWiring(manifests: Manifest[], source: string): void {
  const binding = find(manifests, 'ClusterRoleBinding');
  const role = find(manifests, 'ClusterRole');
  assert.equal(
    (binding.roleRef as Node).name,
    role.metadata.name,
    `${source}: binding names the ClusterRole`,
  );
  const leaderBinding = find(manifests, 'RoleBinding');
  const leaderRole = find(manifests, 'Role');
  assert.equal((leaderBinding.roleRef as Node).name, leaderRole.metadata.name, `${source}: leader binding`);
  for (const b of [binding, leaderBinding]) {
    assert.deepEqual(
      b.subjects,
      [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }],
      `${source}: ${b.kind} binds the operator's ServiceAccount`,
    );
  }
}

const LEADER_RULES: Rule[] = [
  { apiGroups: [groupOf(LEASE_TYPE)], resources: [LEASE_TYPE.plural], verbs: ['get', 'create', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

// ---------------------------------------------------------------------------------------------

describe('YAML under config/ and the chart', () => {
  test('every file parses', () => {
    const files = [
      ...yamlFiles('config'),
      ...yamlFiles(`${CHART}/crds`),
      `${CHART}/Chart.yaml`,
      `${CHART}/values.yaml`,
    ];
    assert.ok(files.length > 15, `found only ${files.length} files`);
    for (const file of files) {
      const docs = parseFile(file);
      assert.ok(docs.length > 0, `${file} has no document`);
      if (file.includes('/crds/') || file.startsWith('config/')) {
        for (const doc of docs) {
          assert.equal(typeof doc.apiVersion, 'string', `${file}: apiVersion`);
          assert.equal(typeof doc.kind, 'string', `${file}: kind`);
        }
      }
    }
  });

  test('the chart CRDs are byte for byte the generated ones in config/crd/bases (`npm run generate`)', () => {
    assert.equal(read(CHART_CRD_PATH), read(CRD_PATH));
    assert.equal(read(CHART_CRD_PATH), tenantCrdYaml());
    const chartMemberCrd = `${CHART}/crds/neurallog.io_memberclusters.yaml`;
    assert.equal(read(chartMemberCrd), read(MEMBER_CLUSTER_CRD_PATH));
    assert.equal(read(chartMemberCrd), memberClusterCrdYaml());
  });

  test('every kustomization lists files that exist', () => {
    for (const file of yamlFiles('config').filter((f) => f.endsWith('/kustomization.yaml'))) {
      const [k] = parseFile(file) as unknown as Array<{ resources?: string[] }>;
      const dir = file.slice(0, file.lastIndexOf('/'));
      for (const resource of k?.resources ?? []) {
        assert.ok(statSync(join(root, dir, resource)), `${file}: ${resource}`);
      }
    }
  });
});

describe('config/rbac', () => {
  const manifests = yamlFiles('config/rbac').flatMap(parseFile);
  const role = find(manifests, 'ClusterRole', 'neurallog-operator-manager-role');
  const rules = role.rules as Rule[];

  test('no wildcard anywhere in the ClusterRole or the leader-election Role', () => {
    for (const m of [role, find(manifests, 'Role')]) {
      const found = strings(m.rules).filter((s) => s.includes('*'));
      assert.deepEqual(found, [], `${m.kind} ${m.metadata.name}`);
      for (const rule of m.rules as Rule[]) {
        assert.equal(rule.nonResourceURLs, undefined);
        assert.equal(rule.resourceNames, undefined);
      }
    }
  });

  test('every kind the operator manages (CHILD_TYPES) is granted the verbs the operator uses', () => {
    const granted = grants(rules);
    for (const [key, verbs] of operatorVerbs()) {
      const have = granted.get(key);
      assert.ok(have, `the ClusterRole does not mention ${key}`);
      for (const verb of verbs) assert.ok(have.has(verb), `the ClusterRole lacks ${verb} on ${key}`);
    }
  });

  test('the operator holds everything the per-tenant Role grants (else the API server refuses to create it)', () => {
    const granted = grants(rules);
    for (const [key, verbs] of grants(tenantRoleRules())) {
      for (const verb of verbs)
        assert.ok(granted.get(key)?.has(verb), `the ClusterRole lacks ${verb} on ${key}`);
    }
  });

  test('and nothing more: the ClusterRole is exactly operator verbs + tenant Role verbs', () => {
    assert.deepEqual(plain(grants(rules)), plain(expectedClusterGrants()));
  });

  test('the leader-election Role grants the Lease and Event verbs, in the operator namespace', () => {
    const leader = find(manifests, 'Role');
    assert.equal(leader.metadata.namespace, NAMESPACE);
    assert.deepEqual(plain(grants(leader.rules as Rule[])), plain(grants(LEADER_RULES)));
  });

  test('bindings join the roles to the operator ServiceAccount', () => {
    const sa = find(manifests, 'ServiceAccount');
    assert.equal(sa.metadata.name, SERVICE_ACCOUNT);
    assert.equal(sa.metadata.namespace, NAMESPACE);
    assertRbacWiring(manifests, 'config/rbac');
  });
});

describe('config/manager', () => {
  const manifests = yamlFiles('config/manager').flatMap(parseFile);

  test('the namespace enforces the restricted Pod Security Standard', () => {
    const ns = find(manifests, 'Namespace', NAMESPACE);
    assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  test('the Deployment: 2 replicas, --leader-elect, probes, resources, restricted security context', () => {
    const deployment = find(manifests, 'Deployment');
    const manager = assertManagerDeployment(deployment, 'config/manager');
    assert.equal(manager.image, 'neurallog/tenant-operator:latest');
    assertMetricsService(find(manifests, 'Service'), deployment, 'config/manager');
  });

  test('the image can be overridden through a kustomize images entry', () => {
    const [k] = parseFile('config/manager/kustomization.yaml') as unknown as Array<{
      images?: Array<{ name: string }>;
    }>;
    assert.ok(k?.images?.some((i) => i.name === 'neurallog/tenant-operator'));
  });
});

describe('config/member (a member cluster, applied by cluster join)', () => {
  const kubectl = which('kubectl', [binaries().kubectl]);
  test('its ClusterRole is config/rbac/role.yaml: the same name and rules', () => {
    const [member] = parseFile('config/member/role.yaml');
    const [role] = parseFile('config/rbac/role.yaml');
    assert.equal(member?.metadata.name, role?.metadata.name);
    assert.deepEqual(member?.rules, role?.rules);
  });
  test(
    'renders a ServiceAccount bound to that ClusterRole, with a long-lived token for it',
    { skip: kubectl ? false : 'kubectl is not installed, so kustomize cannot run here' },
    () => {
      const out = execFileSync(kubectl!, ['kustomize', join(root, 'config/member')], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const manifests = parseDocs(out, 'kubectl kustomize config/member');
      const sa = find(manifests, 'ServiceAccount', 'neurallog-operator-member');
      const binding = find(
        manifests,
        'ClusterRoleBinding',
        'neurallog-operator-member-rolebinding',
      ) as unknown as {
        roleRef: { name: string };
        subjects: Array<{ name: string; namespace: string }>;
      };
      assert.equal(binding.roleRef.name, 'neurallog-operator-manager-role');
      assert.deepEqual(
        binding.subjects.map((x) => `${x.namespace}/${x.name}`),
        [`${sa.metadata.namespace}/${sa.metadata.name}`],
      );
      const token = find(manifests, 'Secret', 'neurallog-operator-member-token') as unknown as {
        type: string;
        metadata: { annotations: Record<string, string> };
      };
      assert.equal(token.type, 'kubernetes.io/service-account-token');
      assert.equal(token.metadata.annotations['kubernetes.io/service-account.name'], sa.metadata.name);
      for (const m of manifests) assert.equal(m.metadata.labels?.['app.kubernetes.io/part-of'], 'neurallog');
    },
  );
});

describe('kubectl kustomize config/default', () => {
  const kubectl = which('kubectl', [binaries().kubectl]);
  test(
    'renders the CRDs, RBAC and the operator into neurallog-system',
    { skip: kubectl ? false : 'kubectl is not installed, so kustomize cannot run here' },
    () => {
      const out = execFileSync(kubectl!, ['kustomize', join(root, 'config/default')], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const manifests = parseDocs(out, 'kubectl kustomize config/default');
      const crd = find(manifests, 'CustomResourceDefinition', 'tenants.neurallog.io');
      const role = find(manifests, 'ClusterRole', 'neurallog-operator-manager-role');
      const deployment = find(manifests, 'Deployment', SERVICE_ACCOUNT);
      find(manifests, 'Namespace', NAMESPACE);
      find(manifests, 'ServiceAccount', SERVICE_ACCOUNT);
      assertManagerDeployment(deployment, 'config/default');
      assertRbacWiring(manifests, 'config/default');
      assert.deepEqual(role.rules, find(yamlFiles('config/rbac').flatMap(parseFile), 'ClusterRole').rules);
      for (const m of manifests) {
        assert.equal(m.metadata.labels?.['app.kubernetes.io/part-of'], 'neurallog', `${m.kind} part-of`);
        if (
          m.kind !== 'Namespace' &&
          m.kind !== 'CustomResourceDefinition' &&
          !m.kind.startsWith('Cluster')
        ) {
          assert.equal(m.metadata.namespace, NAMESPACE, `${m.kind} ${m.metadata.name} namespace`);
        }
      }
      // The CRD passes through kustomize unchanged apart from the part-of label it already has.
      const [generated] = parseFile(CRD_PATH);
      assert.deepEqual(crd.spec, generated?.spec);
      const memberCrd = find(manifests, 'CustomResourceDefinition', 'memberclusters.neurallog.io');
      assert.deepEqual(memberCrd.spec, parseFile(MEMBER_CLUSTER_CRD_PATH)[0]?.spec);
    },
  );
});

describe(`the Helm chart (${CHART})`, () => {
  const templates = (name: string) => read(`${CHART}/templates/${name}`);

  test('Chart.yaml: apiVersion v2, appVersion 0.1.0, a semantic version', () => {
    const [chart] = parseFile(`${CHART}/Chart.yaml`) as unknown as Array<Record<string, unknown>>;
    assert.equal(chart?.apiVersion, 'v2');
    assert.equal(chart?.name, 'tenant-operator');
    assert.equal(String(chart?.appVersion), '0.1.0');
    assert.match(String(chart?.version), /^\d+\.\d+\.\d+$/);
  });

  test('values.yaml holds the documented settings', () => {
    const [values] = parseFile(`${CHART}/values.yaml`) as unknown as Array<Record<string, unknown>>;
    assert.ok(values);
    for (const key of [
      'image',
      'replicas',
      'leaderElect',
      'authUrl',
      'authTokenSecret',
      'resources',
      'logLevel',
      'concurrency',
      'resyncPeriod',
      'metrics',
      'nodeSelector',
      'tolerations',
      'affinity',
      'podSecurityContext',
      'securityContext',
    ]) {
      assert.ok(key in values, `values.yaml has ${key}`);
    }
    assert.equal(values.replicas, 2);
    assert.equal(values.leaderElect, true);
    assert.equal((values.podSecurityContext as Node).runAsNonRoot, true);
  });

  test('every .Values path a template uses exists in values.yaml', () => {
    const [values] = parseFile(`${CHART}/values.yaml`) as unknown as Array<Record<string, unknown>>;
    for (const file of readdirSync(join(root, CHART, 'templates'))) {
      for (const match of templates(file).matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)) {
        let node: unknown = values;
        for (const key of match[1]!.slice(1).split('.')) {
          assert.ok(
            typeof node === 'object' && node !== null && key in node,
            `${file}: .Values${match[1]} is not in values.yaml`,
          );
          node = (node as Record<string, unknown>)[key];
        }
      }
    }
  });

  test('every named template a file includes is defined in _helpers.tpl', () => {
    const defined = new Set([...templates('_helpers.tpl').matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    for (const file of readdirSync(join(root, CHART, 'templates'))) {
      for (const match of templates(file).matchAll(/include "([^"]+)"/g)) {
        assert.ok(defined.has(match[1]), `${file}: include "${match[1]}" is not defined`);
      }
    }
  });

  test('the ClusterRole rules are the same as config/rbac/role.yaml', () => {
    const text = templates('clusterrole.yaml');
    const rulesText = text.slice(text.indexOf('\nrules:'), text.indexOf('\n---'));
    assert.ok(!rulesText.includes('{{'), 'the rules are plain YAML, not templated');
    const [chartRules] = parseDocs(rulesText, 'clusterrole.yaml rules') as unknown as Array<{
      rules: Rule[];
    }>;
    const [role] = parseFile('config/rbac/role.yaml');
    assert.deepEqual(chartRules?.rules, role?.rules);
  });

  test('the leader-election Role rules are the same as config/rbac', () => {
    const text = templates('leader-election-role.yaml');
    const rulesText = text.slice(text.indexOf('\nrules:'), text.indexOf('\n---'));
    const [chartRules] = parseDocs(rulesText, 'leader-election-role.yaml') as unknown as Array<{
      rules: Rule[];
    }>;
    const [role] = parseFile('config/rbac/leader_election_role.yaml');
    assert.deepEqual(chartRules?.rules, role?.rules);
  });

  test('every flag the Deployment template passes is a flag of `run`', () => {
    const flags = runFlags();
    for (const match of templates('deployment.yaml').matchAll(/^\s+- (--[a-z-]+)/gm)) {
      assert.ok(flags.has(match[1]!), `deployment.yaml passes unknown flag ${match[1]}`);
    }
  });

  const helm = which('helm', [...(process.env.HELM ? [process.env.HELM] : []), binaries().helm]);
  const skip = helm
    ? false
    : 'helm is not built yet (the first integration run builds it) nor on PATH; structure checked above';

  test('helm template renders what config/ ships', { skip }, () => {
    const render = (...set: string[]) =>
      parseDocs(
        execFileSync(
          helm!,
          [
            'template',
            'neurallog-operator',
            join(root, CHART),
            '--namespace',
            NAMESPACE,
            '--kube-version',
            '1.34.0',
            ...set.flatMap((s) => ['--set', s]),
          ],
          { encoding: 'utf8', timeout: 60_000 },
        ),
        'helm template',
      );
    const manifests = render();
    const deployment = find(manifests, 'Deployment', SERVICE_ACCOUNT);
    assertManagerDeployment(deployment, 'helm template');
    assertMetricsService(find(manifests, 'Service'), deployment, 'helm template');
    assertRbacWiring(manifests, 'helm template');
    const config = yamlFiles('config/rbac').flatMap(parseFile);
    assert.equal(find(manifests, 'ClusterRole').metadata.name, 'neurallog-operator-manager-role');
    assert.deepEqual(find(manifests, 'ClusterRole').rules, find(config, 'ClusterRole').rules);
    assert.deepEqual(find(manifests, 'Role').rules, find(config, 'Role').rules);

    const custom = render(
      'authUrl=http://auth.example:3000',
      'authTokenSecret.name=auth-token',
      'leaderElect=false',
      'metrics.enabled=false',
    );
    const manager = (find(custom, 'Deployment').spec as { template: { spec: PodSpec } }).template.spec
      .containers[0]!;
    const args = manager.args ?? [];
    assertArgsAccepted(args, 'helm template (custom values)');
    assert.ok(args.includes('--auth-url=http://auth.example:3000'));
    assert.ok(args.includes('--auth-token-file=/var/run/secrets/neurallog.io/auth/token'));
    assert.ok(args.includes('--metrics-bind-address=0'));
    assert.ok(!args.includes('--leader-elect'));
    assert.equal(
      custom.some(
        (m) => m.kind === 'Role' || (m.kind === 'Service' && m.metadata.name.endsWith('metrics-service')),
      ),
      false,
    );
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  test('multi-stage on Node 24; production dependencies only in the runtime stage', () => {
    const stages = instructions.filter((l) => l.startsWith('FROM '));
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.match(dockerfile, /ARG NODE_IMAGE=node:24[-.\w]*/);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /npm run build/);
  });

  test('runs dist/cli/main.js as a non-root numeric user', () => {
    const users = instructions.filter((l) => l.startsWith('USER '));
    const last = users.at(-1);
    assert.ok(last, 'a USER instruction');
    const uid = Number(last.slice(5).split(':')[0]);
    assert.ok(Number.isInteger(uid) && uid > 0, `USER ${last.slice(5)} is a numeric non-root uid`);
    assert.ok(instructions.includes('ENTRYPOINT ["node", "dist/cli/main.js"]'));
    assert.ok(instructions.includes('CMD ["run"]'));
  });

  test('.dockerignore keeps node_modules, dist and .git out of the build context', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], '*', 'an allow-list: everything is ignored first');
    for (const needed of [
      '!package.json',
      '!package-lock.json',
      '!tsconfig.json',
      '!tsconfig.build.json',
      '!src/',
    ]) {
      assert.ok(lines.includes(needed), `${needed} in .dockerignore`);
    }
  });
});
