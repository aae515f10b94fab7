import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvedTenant } from './fixtures.test-util.ts';
import type { RenderedObject } from './meta.ts';
import { restrictedProfileViolations } from './pod-security.ts';
import { REDIS_AUTH_PATH, configHash, renderRedisConf } from './redis-conf.ts';
import {
  CREATE_ONLY_KINDS,
  isCreateOnly,
  redisStartScript,
  renderRedis,
  renderRedisConfigMap,
  renderRedisSecret,
  renderRedisService,
  renderRedisStatefulSet,
} from './redis.ts';

const PASSWORD = 'S3cretPassw0rd_xyz';
const UID = '7d1e0c2a-0000-4000-8000-000000000001';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered objects are plain JSON; tests walk them freely */
const spec = (obj: RenderedObject): any => obj.spec;
const podSpec = (obj: RenderedObject): any => spec(obj).template.spec;
const container = (obj: RenderedObject): any => podSpec(obj).containers[0];

const TENANT_LABELS = {
  'app.kubernetes.io/managed-by': 'tenant-operator',
  'app.kubernetes.io/part-of': 'neurallog',
  'app.kubernetes.io/instance': 'acme',
  'app.kubernetes.io/component': 'redis',
  'neurallog.io/tenant': 'acme',
  'neurallog.io/tenant-id': 'acme',
};
const SELECTOR = {
  'app.kubernetes.io/instance': 'acme',
  'app.kubernetes.io/component': 'redis',
  'neurallog.io/tenant': 'acme',
};

describe('renderRedis', () => {
  it('renders Secret, ConfigMap, headless Service and StatefulSet in tenant-<id>', () => {
    const objects = renderRedis(resolvedTenant(), { redisPassword: PASSWORD });
    assert.deepEqual(
      objects.map((o) => [o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace]),
      [
        ['v1', 'Secret', 'acme-redis-auth', 'tenant-acme'],
        ['v1', 'ConfigMap', 'acme-redis-config', 'tenant-acme'],
        ['v1', 'Service', 'acme-redis', 'tenant-acme'],
        ['apps/v1', 'StatefulSet', 'acme-redis', 'tenant-acme'],
      ],
    );
    for (const o of objects) assert.deepEqual(o.metadata.labels, TENANT_LABELS);
  });

  it('is deterministic', () => {
    const t = resolvedTenant({ redis: { replicas: 3, config: { hz: '20' }, nodeSelector: { a: 'b' } } });
    assert.deepEqual(
      renderRedis(t, { redisPassword: PASSWORD }),
      renderRedis(t, { redisPassword: PASSWORD }),
    );
    assert.equal(
      JSON.stringify(renderRedis(t, { redisPassword: PASSWORD })),
      JSON.stringify(renderRedis(t, { redisPassword: PASSWORD })),
    );
  });

  it('carries a controller owner reference once the Tenant has a uid', () => {
    const objects = renderRedis(resolvedTenant({}, { uid: UID }), { redisPassword: PASSWORD });
    for (const o of objects) {
      assert.deepEqual(o.metadata.ownerReferences, [
        {
          apiVersion: 'neurallog.io/v1',
          kind: 'Tenant',
          name: 'acme',
          uid: UID,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });
});

describe('Redis Secret', () => {
  it('holds the password and auth.conf', () => {
    const secret = renderRedisSecret(resolvedTenant(), { redisPassword: PASSWORD });
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(secret.stringData, {
      password: PASSWORD,
      'auth.conf': `requirepass ${PASSWORD}\nmasterauth ${PASSWORD}\n`,
    });
  });

  it('is the only create-only object', () => {
    const objects = renderRedis(resolvedTenant(), { redisPassword: PASSWORD });
    assert.deepEqual(
      objects.filter(isCreateOnly).map((o) => o.metadata.name),
      ['acme-redis-auth'],
    );
    assert.deepEqual(CREATE_ONLY_KINDS, ['Secret']);
  });
});

describe('Redis ConfigMap', () => {
  it('holds redis.conf', () => {
    const t = resolvedTenant({ redis: { config: { hz: '20' } } });
    assert.deepEqual(renderRedisConfigMap(t).data, { 'redis.conf': renderRedisConf(t) });
  });
});

describe('Redis Service', () => {
  it('is headless on port 6379 named redis, publishing not-ready pod 0', () => {
    const svc = renderRedisService(resolvedTenant());
    assert.deepEqual(svc.spec, {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { ...SELECTOR, 'statefulset.kubernetes.io/pod-name': 'acme-redis-0' },
      ports: [{ name: 'redis', port: 6379, targetPort: 'redis', protocol: 'TCP' }],
    });
  });
});

describe('Redis StatefulSet', () => {
  it('wires service, replicas, selector and ordered start', () => {
    const sts = renderRedisStatefulSet(resolvedTenant({ redis: { replicas: 3 } }));
    const s = spec(sts);
    assert.equal(s.serviceName, 'acme-redis');
    assert.equal(s.replicas, 3);
    assert.equal(s.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(s.selector, { matchLabels: SELECTOR });
    for (const [k, v] of Object.entries(SELECTOR)) assert.equal(s.template.metadata.labels[k], v);
  });

  it('pod template: podLabels under ours, podAnnotations plus the config hash', () => {
    const t = resolvedTenant({
      redis: {
        podLabels: { team: 'data', 'neurallog.io/tenant': 'other' },
        podAnnotations: { 'example.com/a': '1', 'neurallog.io/config-hash': 'forged' },
      },
    });
    const meta = spec(renderRedisStatefulSet(t)).template.metadata;
    assert.deepEqual(meta.labels, { team: 'data', ...TENANT_LABELS });
    assert.deepEqual(meta.annotations, {
      'example.com/a': '1',
      'neurallog.io/config-hash': configHash(renderRedisConf(t)),
    });
  });

  it('config hash annotation follows redis.conf', () => {
    const hash = (s: Record<string, unknown>) =>
      spec(renderRedisStatefulSet(resolvedTenant(s))).template.metadata.annotations[
        'neurallog.io/config-hash'
      ];
    assert.equal(hash({}), hash({ redis: { replicas: 2 } }));
    assert.notEqual(hash({}), hash({ redis: { config: { 'maxmemory-policy': 'noeviction' } } }));
  });

  it('container: image, port, resources, REDISCLI_AUTH from the Secret', () => {
    const t = resolvedTenant({ redis: { image: 'redis:7.2', resources: { cpu: { limit: '1' } } } });
    const c = container(renderRedisStatefulSet(t));
    assert.equal(c.name, 'redis');
    assert.equal(c.image, 'redis:7.2');
    assert.deepEqual(c.ports, [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }]);
    assert.deepEqual(c.resources, {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '256Mi' },
    });
    assert.deepEqual(c.env, [
      { name: 'REDISCLI_AUTH', valueFrom: { secretKeyRef: { name: 'acme-redis-auth', key: 'password' } } },
    ]);
  });

  it('starts redis-server with the config; replicas add --replicaof pod 0; no password anywhere', () => {
    const t = resolvedTenant({ redis: { replicas: 3 } });
    const sts = renderRedisStatefulSet(t);
    const c = container(sts);
    assert.equal(c.command[0], 'sh');
    assert.equal(c.command[1], '-c');
    assert.equal(c.command[2], redisStartScript(t));
    assert.match(
      c.command[2],
      /redis-server \/etc\/redis\/redis\.conf --replicaof acme-redis-0\.acme-redis\.tenant-acme\.svc 6379/,
    );
    assert.equal(c.args, undefined);
    assert.ok(!JSON.stringify(sts).includes(PASSWORD));
    assert.ok(!JSON.stringify(renderRedis(t, { redisPassword: PASSWORD }).slice(1)).includes(PASSWORD));
  });

  it('the start script runs pod 0 as primary and pods 1..n as replicas of pod 0', (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-start-'));
    ctx.after(() => rmSync(dir, { recursive: true, force: true }));
    const fake = join(dir, 'redis-server');
    writeFileSync(fake, '#!/bin/sh\necho "$*"\n');
    chmodSync(fake, 0o755);
    const script = redisStartScript(resolvedTenant({ redis: { replicas: 3 } }));
    const run = (hostname: string) => {
      const r = spawnSync('sh', ['-c', script], {
        env: { PATH: `${dir}:/usr/bin:/bin`, HOSTNAME: hostname },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    assert.equal(run('acme-redis-0'), '/etc/redis/redis.conf');
    assert.equal(
      run('acme-redis-1'),
      '/etc/redis/redis.conf --replicaof acme-redis-0.acme-redis.tenant-acme.svc 6379',
    );
    assert.equal(
      run('acme-redis-10'),
      '/etc/redis/redis.conf --replicaof acme-redis-0.acme-redis.tenant-acme.svc 6379',
    );
  });

  it('probes: TCP liveness on redis, authenticated redis-cli ping readiness', () => {
    const c = container(renderRedisStatefulSet(resolvedTenant()));
    assert.deepEqual(c.livenessProbe.tcpSocket, { port: 'redis' });
    const ready = c.readinessProbe.exec.command;
    assert.equal(ready[0], 'sh');
    assert.match(ready[2], /redis-cli -h 127\.0\.0\.1 -p 6379 ping/);
    assert.match(ready[2], /= PONG/);
    for (const probe of [c.livenessProbe, c.readinessProbe]) {
      assert.ok(probe.periodSeconds > 0 && probe.timeoutSeconds > 0 && probe.failureThreshold > 0);
    }
  });

  it('mounts data, config, auth.conf (included by redis.conf) and /tmp', () => {
    const ps = podSpec(renderRedisStatefulSet(resolvedTenant()));
    assert.deepEqual(ps.containers[0].volumeMounts, [
      { name: 'redis-data', mountPath: '/data' },
      { name: 'config', mountPath: '/etc/redis', readOnly: true },
      { name: 'auth', mountPath: '/etc/redis/auth', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
    assert.deepEqual(ps.volumes, [
      {
        name: 'config',
        configMap: {
          name: 'acme-redis-config',
          items: [{ key: 'redis.conf', path: 'redis.conf' }],
          defaultMode: 0o444,
        },
      },
      {
        name: 'auth',
        secret: {
          secretName: 'acme-redis-auth',
          items: [{ key: 'auth.conf', path: 'auth.conf' }],
          defaultMode: 0o440,
        },
      },
      { name: 'tmp', emptyDir: {} },
    ]);
    assert.equal(REDIS_AUTH_PATH, '/etc/redis/auth/auth.conf');
  });

  it('meets the restricted profile with uid/gid/fsGroup 999 and no service-account token', () => {
    const ps = podSpec(renderRedisStatefulSet(resolvedTenant()));
    assert.deepEqual(restrictedProfileViolations(ps), []);
    assert.equal(ps.securityContext.runAsUser, 999);
    assert.equal(ps.securityContext.runAsGroup, 999);
    assert.equal(ps.securityContext.fsGroup, 999);
    assert.equal(ps.securityContext.runAsNonRoot, true);
    assert.deepEqual(ps.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(ps.containers[0].securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    assert.equal(ps.automountServiceAccountToken, false);
    assert.equal(ps.serviceAccountName, 'tenant-service-account');
  });

  it('copies placement when set, as copies, and omits it otherwise', () => {
    const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'redis', effect: 'NoSchedule' }];
    const affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: { a: 'b' } },
            },
          },
        ],
      },
    };
    const t = resolvedTenant({ redis: { nodeSelector: { disk: 'ssd' }, tolerations, affinity } });
    const ps = podSpec(renderRedisStatefulSet(t));
    assert.deepEqual(ps.nodeSelector, { disk: 'ssd' });
    assert.deepEqual(ps.tolerations, tolerations);
    assert.deepEqual(ps.affinity, affinity);
    ps.nodeSelector.disk = 'changed';
    assert.equal(t.redis.nodeSelector?.disk, 'ssd');
    const bare = podSpec(renderRedisStatefulSet(resolvedTenant()));
    for (const key of ['nodeSelector', 'tolerations', 'affinity']) assert.ok(!(key in bare), key);
  });

  it('claims redis-data ReadWriteOnce with the storage size and tenant labels', () => {
    const [claim] = spec(
      renderRedisStatefulSet(resolvedTenant({ redis: { storage: '5Gi' } })),
    ).volumeClaimTemplates;
    assert.deepEqual(claim, {
      metadata: { name: 'redis-data', labels: TENANT_LABELS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } },
    });
  });

  it('storageClassName: redis.storageClassName, else spec.resources.storage.storageClass, else none', () => {
    const cls = (s: Record<string, unknown>) =>
      spec(renderRedisStatefulSet(resolvedTenant(s))).volumeClaimTemplates[0].spec.storageClassName;
    assert.equal(cls({}), undefined);
    assert.equal(cls({ resources: { storage: { storageClass: 'standard' } } }), 'standard');
    assert.equal(
      cls({ resources: { storage: { storageClass: 'standard' } }, redis: { storageClassName: 'fast' } }),
      'fast',
    );
    assert.equal(cls({ redis: { storage: 2147483648 } }), undefined);
    assert.equal(
      spec(renderRedisStatefulSet(resolvedTenant({ redis: { storage: 2147483648 } }))).volumeClaimTemplates[0]
        .spec.resources.requests.storage,
      '2147483648',
    );
  });
});
