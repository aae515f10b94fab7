/**
 * The tenant's Redis (SPEC §2 objects 8–11, §2.5): the auth Secret, the config ConfigMap, the
 * headless Service and the StatefulSet. Pure and deterministic.
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import {
  ANNOTATION_CONFIG_HASH,
  REDIS_PORT,
  type RenderedObject,
  names,
  objectMeta,
  selectorLabels,
  tenantLabels,
} from './meta.ts';
import {
  REDIS_UID,
  podPlacement,
  podTemplateAnnotations,
  podTemplateLabels,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.ts';
import {
  REDIS_AUTH_DIR,
  REDIS_AUTH_FILE,
  REDIS_CONFIG_DIR,
  REDIS_CONFIG_FILE,
  REDIS_CONFIG_PATH,
  REDIS_DATA_DIR,
  configHash,
  renderAuthConf,
  renderRedisConf,
} from './redis-conf.ts';

/** Keys of the `<id>-redis-auth` Secret. */
export const REDIS_SECRET_PASSWORD_KEY = 'password';
export const REDIS_SECRET_AUTH_CONF_KEY = REDIS_AUTH_FILE;
/** Name of the volume claim template (claims are `redis-data-<id>-redis-<n>`). */
export const REDIS_DATA_VOLUME = 'redis-data';
export const REDIS_CONTAINER = 'redis';
export const REDIS_PORT_NAME = 'redis';

/**
 * Kinds the controller creates once and never updates or repairs in place. Only the Redis auth
 * Secret: it holds the random password Redis and the server agree on, and rewriting it would lock
 * the server out of its data.
 */
export const CREATE_ONLY_KINDS: readonly string[] = ['Secret'];

/** Whether the controller must create `obj` only when absent and never rewrite it. */
export function isCreateOnly(obj: Pick<RenderedObject, 'apiVersion' | 'kind'>): boolean {
  return obj.apiVersion === 'v1' && CREATE_ONLY_KINDS.includes(obj.kind);
}

export interface RedisRenderOptions {
  /** Password written into a Secret being created now (never used to rewrite an existing one). */
  redisPassword: string;
}

/** DNS name of pod 0, the primary, through the headless Service. */
export function redisPrimaryHost(t: ResolvedTenant): string {
  return `${names.redis(t.id)}-0.${names.redis(t.id)}.${t.namespace}.svc`;
}

/** Secret `<id>-redis-auth`: the password and the `auth.conf` that `redis.conf` includes. Create-only. */
export function renderRedisSecret(t: ResolvedTenant, options: RedisRenderOptions): RenderedObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(t, 'redis', names.redisSecret(t.id)),
    type: 'Opaque',
    stringData: {
      [REDIS_SECRET_PASSWORD_KEY]: options.redisPassword,
      [REDIS_SECRET_AUTH_CONF_KEY]: renderAuthConf(options.redisPassword),
    },
  };
}

/** ConfigMap `<id>-redis-config` with key `redis.conf`. */
export function renderRedisConfigMap(t: ResolvedTenant): RenderedObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(t, 'redis', names.redisConfig(t.id)),
    data: { [REDIS_CONFIG_FILE]: renderRedisConf(t) },
  };
}

/**
 * Headless Service `<id>-redis`: the StatefulSet's governing Service (per-pod DNS names) and the
 * address the server uses. It selects only pod 0 (the primary): with `spec.redis.replicas` > 1 the
 * other pods are read-only replicas, and the server, which connects to `<id>-redis`, must never be
 * handed one of them. Not-ready addresses are published so replicas can find pod 0 early.
 */
export function renderRedisService(t: ResolvedTenant): RenderedObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(t, 'redis', names.redis(t.id)),
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: redisPrimarySelector(t),
      ports: [{ name: REDIS_PORT_NAME, port: REDIS_PORT, targetPort: REDIS_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

/** Label the StatefulSet controller puts on each of its pods. */
export const LABEL_STATEFULSET_POD_NAME = 'statefulset.kubernetes.io/pod-name';

/** Selector of the Redis primary: the Redis pods' selector labels narrowed to pod 0. */
export function redisPrimarySelector(t: ResolvedTenant): Record<string, string> {
  return { ...selectorLabels(t, 'redis'), [LABEL_STATEFULSET_POD_NAME]: `${names.redis(t.id)}-0` };
}

/**
 * Start script: pod 0 is the primary; every other pod replicates pod 0. The ordinal comes from
 * the pod's hostname (`<id>-redis-<n>`). No password appears on a command line: requirepass and
 * masterauth come from auth.conf, included by redis.conf.
 */
export function redisStartScript(t: ResolvedTenant): string {
  return [
    'set -eu',
    'ordinal="${HOSTNAME##*-}"',
    'if [ "$ordinal" = "0" ]; then',
    `  exec redis-server ${REDIS_CONFIG_PATH}`,
    'fi',
    `exec redis-server ${REDIS_CONFIG_PATH} --replicaof ${redisPrimaryHost(t)} ${REDIS_PORT}`,
    '',
  ].join('\n');
}

/** Readiness: Redis answers PONG to an authenticated ping (REDISCLI_AUTH), not merely any reply (e.g. LOADING). */
export const REDIS_READINESS_SCRIPT = `test "$(redis-cli -h 127.0.0.1 -p ${REDIS_PORT} ping)" = PONG`;

/** StatefulSet `<id>-redis`. Its pod template carries the hash of redis.conf, so config changes roll the pods. */
export function renderRedisStatefulSet(t: ResolvedTenant): RenderedObject {
  const r = t.redis;
  const secretName = names.redisSecret(t.id);
  const selector = selectorLabels(t, 'redis');
  const claimSpec: Record<string, unknown> = {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: r.storage } },
  };
  if (r.storageClassName !== undefined) claimSpec.storageClassName = r.storageClassName;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: objectMeta(t, 'redis', names.redis(t.id)),
    spec: {
      serviceName: names.redis(t.id),
      replicas: r.replicas,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: podTemplateLabels(t, 'redis', r),
          annotations: podTemplateAnnotations(r, {
            [ANNOTATION_CONFIG_HASH]: configHash(renderRedisConf(t)),
          }),
        },
        spec: {
          serviceAccountName: names.serviceAccount,
          automountServiceAccountToken: false,
          securityContext: restrictedPodSecurityContext(REDIS_UID),
          ...podPlacement(r),
          containers: [
            {
              name: REDIS_CONTAINER,
              image: r.image,
              command: ['sh', '-c', redisStartScript(t)],
              ports: [{ name: REDIS_PORT_NAME, containerPort: REDIS_PORT, protocol: 'TCP' }],
              env: [
                {
                  name: 'REDISCLI_AUTH',
                  valueFrom: { secretKeyRef: { name: secretName, key: REDIS_SECRET_PASSWORD_KEY } },
                },
              ],
              resources: structuredClone(r.resources),
              livenessProbe: {
                tcpSocket: { port: REDIS_PORT_NAME },
                initialDelaySeconds: 15,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 6,
              },
              readinessProbe: {
                exec: { command: ['sh', '-c', REDIS_READINESS_SCRIPT] },
                initialDelaySeconds: 5,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [
                { name: REDIS_DATA_VOLUME, mountPath: REDIS_DATA_DIR },
                { name: 'config', mountPath: REDIS_CONFIG_DIR, readOnly: true },
                { name: 'auth', mountPath: REDIS_AUTH_DIR, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            {
              name: 'config',
              configMap: {
                name: names.redisConfig(t.id),
                items: [{ key: REDIS_CONFIG_FILE, path: REDIS_CONFIG_FILE }],
                defaultMode: 0o444,
              },
            },
            {
              name: 'auth',
              secret: {
                secretName,
                items: [{ key: REDIS_SECRET_AUTH_CONF_KEY, path: REDIS_AUTH_FILE }],
                defaultMode: 0o440,
              },
            },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: REDIS_DATA_VOLUME, labels: tenantLabels(t, 'redis') },
          spec: claimSpec,
        },
      ],
    },
  };
}

/** Every Redis object, in apply order: Secret, ConfigMap, Service, StatefulSet. */
export function renderRedis(t: ResolvedTenant, options: RedisRenderOptions): RenderedObject[] {
  return [
    renderRedisSecret(t, options),
    renderRedisConfigMap(t),
    renderRedisService(t),
    renderRedisStatefulSet(t),
  ];
}
