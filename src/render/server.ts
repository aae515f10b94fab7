/**
 * The NeuralLog log server (SPEC §2 objects 12–14, §2.6): Service, Deployment and, while the
 * server runs at least two replicas, a PodDisruptionBudget. Pure and deterministic.
 */
import type { EnvVar, ResolvedTenant } from '../api/resolve.ts';
import {
  REDIS_PORT,
  type RenderedObject,
  SERVER_PORT,
  SERVER_PORT_NAME,
  names,
  objectMeta,
  selectorLabels,
} from './meta.ts';
import {
  SERVER_UID,
  podPlacement,
  podTemplateAnnotations,
  podTemplateLabels,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.ts';
import { REDIS_SECRET_PASSWORD_KEY } from './redis.ts';

export const SERVER_CONTAINER = 'server';
/** The PodDisruptionBudget exists only from this many server replicas on. */
export const PDB_MIN_REPLICAS = 2;

export interface ServerRenderOptions {
  /** Base URL of the Auth service, given to the server as AUTH_URL while auth is enabled. */
  authUrl: string;
}

/** A Kubernetes EnvVar as rendered: a literal value or a Secret/ConfigMap key reference. */
export type RenderedEnvVar = EnvVar;

const bool = (value: boolean): string => (value ? 'true' : 'false');

/**
 * Merges env lists where a later item with an already-seen name replaces the earlier one.
 *
 * Choice: the replacement keeps the position of the FIRST occurrence and takes the LAST value,
 * so the operator's variables stay in their documented order (SPEC §2.6) whatever the user
 * overrides, and a user override (e.g. LOG_LEVEL=debug) changes a value without reshuffling the
 * list. A replacing item is taken whole: a user `REDIS_PASSWORD` with `value` drops our
 * `valueFrom`. The result never holds two items of one name (the API server's merge key).
 */
export function mergeEnv(items: readonly EnvVar[]): RenderedEnvVar[] {
  const out: RenderedEnvVar[] = [];
  const at = new Map<string, number>();
  for (const item of items) {
    const copy = copyEnvVar(item);
    const i = at.get(item.name);
    if (i === undefined) {
      at.set(item.name, out.length);
      out.push(copy);
    } else {
      out[i] = copy;
    }
  }
  return out;
}

/** A fresh EnvVar with only the Kubernetes fields, in a fixed key order. */
function copyEnvVar(item: EnvVar): RenderedEnvVar {
  const copy: RenderedEnvVar = { name: item.name };
  // The API server omits an empty value; rendering it would read back as drift.
  if (item.value !== undefined && item.value !== '') copy.value = item.value;
  if (item.valueFrom !== undefined) copy.valueFrom = structuredClone(item.valueFrom);
  return copy;
}

/**
 * The server's environment, in the documented order: NODE_ENV, PORT, TENANT_ID, STORAGE_TYPE,
 * REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD (from the Secret), LOG_LEVEL, AUTH_URL (only
 * while auth is enabled), the FEATURE_* switches, then spec.server.env — merged by `mergeEnv`.
 */
export function serverEnv(t: ResolvedTenant, options: ServerRenderOptions): RenderedEnvVar[] {
  const redisHost = names.redis(t.id);
  const ours: EnvVar[] = [
    { name: 'NODE_ENV', value: 'production' },
    { name: 'PORT', value: String(SERVER_PORT) },
    { name: 'TENANT_ID', value: t.id },
    { name: 'STORAGE_TYPE', value: 'redis' },
    { name: 'REDIS_URL', value: `redis://${redisHost}:${REDIS_PORT}` },
    { name: 'REDIS_HOST', value: redisHost },
    { name: 'REDIS_PORT', value: String(REDIS_PORT) },
    {
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: names.redisSecret(t.id), key: REDIS_SECRET_PASSWORD_KEY } },
    },
    { name: 'LOG_LEVEL', value: 'info' },
    ...(t.authEnabled ? [{ name: 'AUTH_URL', value: options.authUrl }] : []),
    { name: 'FEATURE_AI_ENABLED', value: bool(t.features.aiEnabled) },
    { name: 'FEATURE_CUSTOM_METRICS', value: bool(t.features.customMetrics) },
    { name: 'FEATURE_REAL_TIME_ANALYTICS', value: bool(t.features.realTimeAnalytics) },
  ];
  return mergeEnv([...ours, ...t.server.env]);
}

/** Service `<id>-server`: ClusterIP, port 3030 named `http`. */
export function renderServerService(t: ResolvedTenant): RenderedObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(t, 'server', names.server(t.id)),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(t, 'server'),
      ports: [{ name: SERVER_PORT_NAME, port: SERVER_PORT, targetPort: SERVER_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

/** Deployment `<id>-server`. */
export function renderServerDeployment(t: ResolvedTenant, options: ServerRenderOptions): RenderedObject {
  const s = t.server;
  const httpGet = { path: s.probePath, port: SERVER_PORT_NAME };
  const annotations = podTemplateAnnotations(s);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(t, 'server', names.server(t.id)),
    spec: {
      replicas: s.replicas,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: selectorLabels(t, 'server') },
      template: {
        metadata: {
          labels: podTemplateLabels(t, 'server', s),
          ...(annotations ? { annotations } : {}),
        },
        spec: {
          serviceAccountName: names.serviceAccount,
          automountServiceAccountToken: false,
          securityContext: restrictedPodSecurityContext(SERVER_UID),
          ...podPlacement(s),
          containers: [
            {
              name: SERVER_CONTAINER,
              image: s.image,
              imagePullPolicy: s.imagePullPolicy,
              ports: [{ name: SERVER_PORT_NAME, containerPort: SERVER_PORT, protocol: 'TCP' }],
              env: serverEnv(t, options),
              resources: structuredClone(s.resources),
              readinessProbe: {
                httpGet: { ...httpGet },
                initialDelaySeconds: 5,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { ...httpGet },
                initialDelaySeconds: 15,
                periodSeconds: 20,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

/** PodDisruptionBudget `<id>-server` (minAvailable 1), or undefined below PDB_MIN_REPLICAS replicas. */
export function renderServerPdb(t: ResolvedTenant): RenderedObject | undefined {
  if (t.server.replicas < PDB_MIN_REPLICAS) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(t, 'server', names.server(t.id)),
    spec: {
      minAvailable: 1,
      selector: { matchLabels: selectorLabels(t, 'server') },
    },
  };
}

/** Every server object, in apply order: Service, Deployment, then the PDB when desired. */
export function renderServer(t: ResolvedTenant, options: ServerRenderOptions): RenderedObject[] {
  const pdb = renderServerPdb(t);
  return [renderServerService(t), renderServerDeployment(t, options), ...(pdb ? [pdb] : [])];
}
