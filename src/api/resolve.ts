/**
 * Applies every documented default to a validated Tenant, giving the fully specified model that
 * rendering works from. Pure; the stored Tenant is never modified.
 */
import { PLAN_QUOTAS, type QuotaKey } from './plans.ts';
import type { Quantity } from './quantity.ts';
import type { PlanId, TenantSpec } from './spec.ts';
import { type Tenant, effectiveTenantId } from './tenant.ts';

type Spec = NonNullable<TenantSpec>;
type ServerSpec = NonNullable<Spec['server']>;
type RedisSpec = NonNullable<Spec['redis']>;
type NetworkPolicySpec = NonNullable<Spec['networkPolicy']>;

export type EnvVar = NonNullable<ServerSpec['env']>[number];
export type Toleration = NonNullable<ServerSpec['tolerations']>[number];
export type Affinity = NonNullable<ServerSpec['affinity']>;
export type IngressRule = NonNullable<NetworkPolicySpec['ingressRules']>[number];
export type EgressRule = NonNullable<NetworkPolicySpec['egressRules']>[number];

export interface ResolvedResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface ResolvedPlacement {
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  podAnnotations?: Record<string, string>;
  podLabels?: Record<string, string>;
}

export interface ResolvedServer extends ResolvedPlacement {
  replicas: number;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  resources: ResolvedResources;
  env: EnvVar[];
  probePath: string;
}

export interface ResolvedRedis extends ResolvedPlacement {
  replicas: number;
  image: string;
  resources: ResolvedResources;
  storage: string;
  storageClassName?: string;
  config: Record<string, string>;
}

export interface ResolvedNetworkPolicy {
  enabled: boolean;
  allowedNamespaces: string[];
  allowWebEgress: boolean;
  ingressRules: IngressRule[];
  egressRules: EgressRule[];
}

export interface ResolvedTenant {
  /** metadata.name of the Tenant object. */
  name: string;
  /** metadata.uid, present once the Tenant exists in a cluster. */
  uid?: string;
  id: string;
  namespace: string;
  displayName?: string;
  description?: string;
  plan: PlanId;
  billingEmail?: string;
  quota: Record<QuotaKey, string>;
  features: { aiEnabled: boolean; customMetrics: boolean; realTimeAnalytics: boolean };
  server: ResolvedServer;
  redis: ResolvedRedis;
  networkPolicy: ResolvedNetworkPolicy;
  authEnabled: boolean;
}

export const DEFAULTS = {
  plan: 'starter' as PlanId,
  server: {
    replicas: 1,
    image: 'neurallog/server:latest',
    imagePullPolicy: 'IfNotPresent' as const,
    probePath: '/health',
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
  },
  redis: {
    replicas: 1,
    image: 'redis:7-alpine',
    storage: '1Gi',
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '300m', memory: '256Mi' } },
  },
};

export function tenantNamespace(id: string): string {
  return `tenant-${id}`;
}

const str = (q: Quantity | undefined): string | undefined => (q === undefined ? undefined : String(q));

function resolveResources(
  given: ServerSpec['resources'],
  defaults: ResolvedResources,
  cpuFallback: { request?: string; limit?: string } = {},
): ResolvedResources {
  return {
    requests: {
      cpu: str(given?.cpu?.request) ?? cpuFallback.request ?? defaults.requests.cpu,
      memory: str(given?.memory?.request) ?? defaults.requests.memory,
    },
    limits: {
      cpu: str(given?.cpu?.limit) ?? cpuFallback.limit ?? defaults.limits.cpu,
      memory: str(given?.memory?.limit) ?? defaults.limits.memory,
    },
  };
}

function placement(spec: ResolvedPlacement): ResolvedPlacement {
  const out: ResolvedPlacement = {};
  if (spec.nodeSelector) out.nodeSelector = spec.nodeSelector;
  if (spec.tolerations) out.tolerations = spec.tolerations;
  if (spec.affinity) out.affinity = spec.affinity;
  if (spec.podAnnotations) out.podAnnotations = spec.podAnnotations;
  if (spec.podLabels) out.podLabels = spec.podLabels;
  return out;
}

function resolveServer(spec: Spec): ResolvedServer {
  const server = spec.server ?? {};
  const legacy = spec.services?.logServer;
  const legacyReplicas = legacy?.enabled === false ? 0 : legacy?.replicas;
  return {
    replicas: server.replicas ?? legacyReplicas ?? DEFAULTS.server.replicas,
    image: server.image ?? DEFAULTS.server.image,
    imagePullPolicy: server.imagePullPolicy ?? DEFAULTS.server.imagePullPolicy,
    resources: resolveResources(server.resources, DEFAULTS.server.resources, {
      request: str(legacy?.resources?.requests),
      limit: str(legacy?.resources?.limits),
    }),
    env: server.env ?? [],
    probePath: server.probePath ?? DEFAULTS.server.probePath,
    ...placement(server),
  };
}

function resolveRedis(spec: Spec): ResolvedRedis {
  const redis: RedisSpec = spec.redis ?? {};
  const storageClassName = redis.storageClassName ?? spec.resources?.storage?.storageClass;
  return {
    replicas: redis.replicas ?? DEFAULTS.redis.replicas,
    image: redis.image ?? DEFAULTS.redis.image,
    resources: resolveResources(redis.resources, DEFAULTS.redis.resources),
    storage: str(redis.storage) ?? DEFAULTS.redis.storage,
    ...(storageClassName !== undefined ? { storageClassName } : {}),
    config: redis.config ?? {},
    ...placement(redis),
  };
}

function resolveQuota(spec: Spec, plan: PlanId): Record<QuotaKey, string> {
  const quota: Record<QuotaKey, string> = { ...PLAN_QUOTAS[plan] };
  const r = spec.resources;
  const set = (key: QuotaKey, value: Quantity | undefined) => {
    if (value !== undefined) quota[key] = String(value);
  };
  set('requests.cpu', r?.cpu?.requests);
  set('limits.cpu', r?.cpu?.limits);
  set('requests.memory', r?.memory?.requests);
  set('limits.memory', r?.memory?.limits);
  set('requests.storage', r?.storage?.requests);
  set('pods', r?.pods);
  set('services', r?.services);
  return quota;
}

export function resolveTenant(t: Tenant): ResolvedTenant {
  const spec: Spec = t.spec ?? {};
  const id = effectiveTenantId(t);
  const plan = spec.planId ?? DEFAULTS.plan;
  const np = spec.networkPolicy ?? {};
  return {
    name: t.metadata.name,
    ...(t.metadata.uid ? { uid: t.metadata.uid } : {}),
    id,
    namespace: tenantNamespace(id),
    ...(spec.displayName !== undefined ? { displayName: spec.displayName } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    plan,
    ...(spec.billingEmail !== undefined ? { billingEmail: spec.billingEmail } : {}),
    quota: resolveQuota(spec, plan),
    features: {
      aiEnabled: spec.features?.aiEnabled ?? false,
      customMetrics: spec.features?.customMetrics ?? false,
      realTimeAnalytics: spec.features?.realTimeAnalytics ?? false,
    },
    server: resolveServer(spec),
    redis: resolveRedis(spec),
    networkPolicy: {
      enabled: np.enabled ?? true,
      allowedNamespaces: np.allowedNamespaces ?? [],
      allowWebEgress: np.allowWebEgress ?? true,
      ingressRules: np.ingressRules ?? [],
      egressRules: np.egressRules ?? [],
    },
    authEnabled: spec.services?.authService?.enabled ?? true,
  };
}
