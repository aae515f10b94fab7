import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvVar } from '../api/resolve.ts';
import { resolvedTenant } from './fixtures.test-util.ts';
import type { RenderedObject } from './meta.ts';
import { restrictedProfileViolations } from './pod-security.ts';
import {
  mergeEnv,
  renderServer,
  renderServerDeployment,
  renderServerPdb,
  renderServerService,
  serverEnv,
} from './server.ts';

const AUTH_URL = 'http://auth.neurallog-system.svc:3000';
const opts = { authUrl: AUTH_URL };

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered objects are plain JSON; tests walk them freely */
const spec = (obj: RenderedObject): any => obj.spec;
const podSpec = (obj: RenderedObject): any => spec(obj).template.spec;
const container = (obj: RenderedObject): any => podSpec(obj).containers[0];
const deployment = (s: Record<string, unknown> = {}) => renderServerDeployment(resolvedTenant(s), opts);
const envOf = (s: Record<string, unknown> = {}) => serverEnv(resolvedTenant(s), opts);
const envValue = (s: Record<string, unknown>, name: string) => envOf(s).find((e) => e.name === name)?.value;

const SELECTOR = {
  'app.kubernetes.io/instance': 'acme',
  'app.kubernetes.io/component': 'server',
  'neurallog.io/tenant': 'acme',
};
const REDIS_PASSWORD_REF = { secretKeyRef: { name: 'acme-redis-auth', key: 'password' } };

const DEFAULT_ENV = [
  { name: 'NODE_ENV', value: 'production' },
  { name: 'PORT', value: '3030' },
  { name: 'TENANT_ID', value: 'acme' },
  { name: 'STORAGE_TYPE', value: 'redis' },
  { name: 'REDIS_URL', value: 'redis://acme-redis:6379' },
  { name: 'REDIS_HOST', value: 'acme-redis' },
  { name: 'REDIS_PORT', value: '6379' },
  { name: 'REDIS_PASSWORD', valueFrom: REDIS_PASSWORD_REF },
  { name: 'LOG_LEVEL', value: 'info' },
  { name: 'AUTH_URL', value: AUTH_URL },
  { name: 'FEATURE_AI_ENABLED', value: 'false' },
  { name: 'FEATURE_CUSTOM_METRICS', value: 'false' },
  { name: 'FEATURE_REAL_TIME_ANALYTICS', value: 'false' },
];

describe('renderServer', () => {
  it('renders Service and Deployment (no PDB at 1 replica)', () => {
    const objects = renderServer(resolvedTenant(), opts);
    assert.deepEqual(
      objects.map((o) => [o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace]),
      [
        ['v1', 'Service', 'acme-server', 'tenant-acme'],
        ['apps/v1', 'Deployment', 'acme-server', 'tenant-acme'],
      ],
    );
    for (const o of objects) assert.equal(o.metadata.labels['app.kubernetes.io/component'], 'server');
  });

  it('adds the PDB from 2 replicas on', () => {
    const kinds = (replicas: number) =>
      renderServer(resolvedTenant({ server: { replicas } }), opts).map((o) => o.kind);
    assert.deepEqual(kinds(0), ['Service', 'Deployment']);
    assert.deepEqual(kinds(1), ['Service', 'Deployment']);
    assert.deepEqual(kinds(2), ['Service', 'Deployment', 'PodDisruptionBudget']);
    assert.deepEqual(kinds(5), ['Service', 'Deployment', 'PodDisruptionBudget']);
  });

  it('is deterministic', () => {
    const t = resolvedTenant({ server: { replicas: 2, env: [{ name: 'A', value: '1' }] } });
    assert.equal(JSON.stringify(renderServer(t, opts)), JSON.stringify(renderServer(t, opts)));
  });
});

describe('server Service', () => {
  it('is ClusterIP on 3030 named http', () => {
    assert.deepEqual(renderServerService(resolvedTenant()).spec, {
      type: 'ClusterIP',
      selector: SELECTOR,
      ports: [{ name: 'http', port: 3030, targetPort: 'http', protocol: 'TCP' }],
    });
  });
});

describe('server PodDisruptionBudget', () => {
  it('minAvailable 1 over the server pods, only at >= 2 replicas', () => {
    assert.equal(renderServerPdb(resolvedTenant()), undefined);
    const pdb = renderServerPdb(resolvedTenant({ server: { replicas: 2 } }));
    assert.ok(pdb);
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.metadata.name, 'acme-server');
    assert.deepEqual(pdb.spec, { minAvailable: 1, selector: { matchLabels: SELECTOR } });
  });
});

describe('server Deployment', () => {
  it('replicas, rolling update 0/1, selector, container basics', () => {
    const d = deployment({
      server: { replicas: 3, image: 'neurallog/server:1.2.3', imagePullPolicy: 'Always' },
    });
    const s = spec(d);
    assert.equal(s.replicas, 3);
    assert.deepEqual(s.strategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    assert.deepEqual(s.selector, { matchLabels: SELECTOR });
    const c = container(d);
    assert.equal(c.name, 'server');
    assert.equal(c.image, 'neurallog/server:1.2.3');
    assert.equal(c.imagePullPolicy, 'Always');
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 3030, protocol: 'TCP' }]);
  });

  it('defaults: 1 replica, neurallog/server:latest, IfNotPresent, default resources', () => {
    const d = deployment();
    assert.equal(spec(d).replicas, 1);
    const c = container(d);
    assert.equal(c.image, 'neurallog/server:latest');
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.resources, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    });
  });

  it('pod template: podLabels under ours; podAnnotations only when given', () => {
    const d = deployment({
      server: {
        podLabels: { team: 'obs', 'app.kubernetes.io/instance': 'x' },
        podAnnotations: { 'a/b': 'c' },
      },
    });
    const meta = spec(d).template.metadata;
    assert.equal(meta.labels.team, 'obs');
    for (const [k, v] of Object.entries(SELECTOR)) assert.equal(meta.labels[k], v);
    assert.deepEqual(meta.annotations, { 'a/b': 'c' });
    assert.ok(!('annotations' in spec(deployment()).template.metadata));
  });

  it('renders nothing the API server would drop: empty env values, tolerations, nodeSelector, affinity', () => {
    const d = deployment({
      server: { env: [{ name: 'EMPTY', value: '' }], tolerations: [], nodeSelector: {}, affinity: {} },
    });
    assert.deepEqual(
      container(d).env.find((e: EnvVar) => e.name === 'EMPTY'),
      { name: 'EMPTY' },
    );
    for (const field of ['tolerations', 'nodeSelector', 'affinity']) assert.ok(!(field in podSpec(d)), field);
  });

  it('readiness and liveness GET probePath on http', () => {
    for (const [s, path] of [
      [{}, '/health'],
      [{ server: { probePath: '/api/healthz' } }, '/api/healthz'],
    ] as const) {
      const c = container(deployment(s));
      assert.deepEqual(c.readinessProbe.httpGet, { path, port: 'http' });
      assert.deepEqual(c.livenessProbe.httpGet, { path, port: 'http' });
      assert.ok(c.livenessProbe.initialDelaySeconds >= c.readinessProbe.initialDelaySeconds);
    }
  });

  it('meets the restricted profile as uid/gid/fsGroup 1000 with /tmp as emptyDir', () => {
    const ps = podSpec(deployment());
    assert.deepEqual(restrictedProfileViolations(ps), []);
    assert.equal(ps.securityContext.runAsUser, 1000);
    assert.equal(ps.securityContext.runAsGroup, 1000);
    assert.equal(ps.securityContext.fsGroup, 1000);
    assert.deepEqual(ps.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(ps.containers[0].securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(ps.containers[0].volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
    assert.deepEqual(ps.volumes, [{ name: 'tmp', emptyDir: {} }]);
    assert.equal(ps.automountServiceAccountToken, false);
    assert.equal(ps.serviceAccountName, 'tenant-service-account');
  });

  it('copies placement when set and omits it otherwise', () => {
    const tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }];
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
        },
      },
    };
    const ps = podSpec(deployment({ server: { nodeSelector: { zone: 'a' }, tolerations, affinity } }));
    assert.deepEqual(ps.nodeSelector, { zone: 'a' });
    assert.deepEqual(ps.tolerations, tolerations);
    assert.deepEqual(ps.affinity, affinity);
    const bare = podSpec(deployment());
    for (const key of ['nodeSelector', 'tolerations', 'affinity']) assert.ok(!(key in bare), key);
  });

  it('legacy services.logServer supplies replicas and cpu when server leaves them unset', () => {
    const legacy = { services: { logServer: { replicas: 3, resources: { requests: '200m', limits: '1' } } } };
    const d = deployment(legacy);
    assert.equal(spec(d).replicas, 3);
    assert.deepEqual(container(d).resources, {
      requests: { cpu: '200m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    assert.equal(renderServer(resolvedTenant(legacy), opts).at(-1)?.kind, 'PodDisruptionBudget');
    const both = deployment({ ...legacy, server: { replicas: 1, resources: { cpu: { request: '300m' } } } });
    assert.equal(spec(both).replicas, 1);
    assert.equal(container(both).resources.requests.cpu, '300m');
    assert.equal(container(both).resources.limits.cpu, '1');
  });

  it('legacy services.logServer.enabled false scales to 0 with no PDB', () => {
    const t = resolvedTenant({ services: { logServer: { enabled: false, replicas: 4 } } });
    const objects = renderServer(t, opts);
    assert.equal(spec(objects[1]!).replicas, 0);
    assert.deepEqual(
      objects.map((o) => o.kind),
      ['Service', 'Deployment'],
    );
  });
});

describe('server env', () => {
  it('default order and values', () => {
    assert.deepEqual(envOf(), DEFAULT_ENV);
    assert.deepEqual(container(deployment()).env, DEFAULT_ENV);
  });

  it('AUTH_URL only while the Auth service is enabled', () => {
    const names = envOf({ services: { authService: { enabled: false } } }).map((e) => e.name);
    assert.ok(!names.includes('AUTH_URL'));
    assert.deepEqual(
      names,
      DEFAULT_ENV.map((e) => e.name).filter((n) => n !== 'AUTH_URL'),
    );
    assert.equal(envValue({ services: { authService: { enabled: true } } }, 'AUTH_URL'), AUTH_URL);
  });

  it('FEATURE_* follow spec.features', () => {
    const s = { features: { aiEnabled: true, customMetrics: false, realTimeAnalytics: true } };
    assert.equal(envValue(s, 'FEATURE_AI_ENABLED'), 'true');
    assert.equal(envValue(s, 'FEATURE_CUSTOM_METRICS'), 'false');
    assert.equal(envValue(s, 'FEATURE_REAL_TIME_ANALYTICS'), 'true');
    assert.equal(envValue({ features: { customMetrics: true } }, 'FEATURE_CUSTOM_METRICS'), 'true');
  });

  it('spec.server.env replaces ours in place and appends the rest in order', () => {
    const env = envOf({
      server: {
        env: [
          { name: 'LOG_LEVEL', value: 'debug' },
          { name: 'EXTRA_B', value: 'b' },
          { name: 'REDIS_HOST', value: 'redis.elsewhere' },
          { name: 'EXTRA_A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: true } } },
        ],
      },
    });
    const expected: EnvVar[] = DEFAULT_ENV.map((e) =>
      e.name === 'LOG_LEVEL'
        ? { name: 'LOG_LEVEL', value: 'debug' }
        : e.name === 'REDIS_HOST'
          ? { name: 'REDIS_HOST', value: 'redis.elsewhere' }
          : e,
    );
    expected.push(
      { name: 'EXTRA_B', value: 'b' },
      { name: 'EXTRA_A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: true } } },
    );
    assert.deepEqual(env, expected);
  });

  it('a user item replaces ours whole (value replaces valueFrom) and never duplicates a name', () => {
    const env = envOf({
      server: {
        env: [
          { name: 'REDIS_PASSWORD', value: 'plain' },
          { name: 'X', value: '1' },
          { name: 'X', value: '2' },
        ],
      },
    });
    assert.deepEqual(
      env.find((e) => e.name === 'REDIS_PASSWORD'),
      { name: 'REDIS_PASSWORD', value: 'plain' },
    );
    assert.deepEqual(
      env.filter((e) => e.name === 'X'),
      [{ name: 'X', value: '2' }],
    );
    const names = env.map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names.indexOf('REDIS_PASSWORD'), 7);
  });

  it('mergeEnv keeps the first position and the last value, without sharing objects', () => {
    const ref = { secretKeyRef: { name: 's', key: 'k' } };
    const merged = mergeEnv([
      { name: 'A', value: '1' },
      { name: 'B', valueFrom: ref },
      { name: 'A', value: '3' },
    ]);
    assert.deepEqual(merged, [
      { name: 'A', value: '3' },
      { name: 'B', valueFrom: ref },
    ]);
    assert.notEqual(merged[1]?.valueFrom, ref);
  });
});
