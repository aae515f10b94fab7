/** Names, labels and metadata every rendered object shares (SPEC §2). */
import { API_VERSION, KIND } from '../api/tenant.ts';
import type { ResolvedTenant } from '../api/resolve.ts';

export const MANAGED_BY = 'tenant-operator';
export const FIELD_MANAGER = 'tenant-operator';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_TENANT = 'neurallog.io/tenant';
export const LABEL_TENANT_ID = 'neurallog.io/tenant-id';
export const LABEL_PLAN = 'neurallog.io/plan';
export const ANNOTATION_BILLING_EMAIL = 'neurallog.io/billing-email';
export const ANNOTATION_CONFIG_HASH = 'neurallog.io/config-hash';
/** Hash of the object as rendered: a change of it (a field dropped from the spec, say) is applied. */
export const ANNOTATION_DESIRED_HASH = 'neurallog.io/desired-hash';
export const ANNOTATION_FORCE_RECONCILE = 'neurallog.io/force-reconcile';
export const FINALIZER = 'neurallog.io/finalizer';

export type Component = 'namespace' | 'quota' | 'limits' | 'rbac' | 'network-policy' | 'redis' | 'server';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** A Kubernetes object as the operator renders it: plain JSON, nothing else. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Label selector (as a string) matching every object this operator made for one tenant. */
export function tenantSelector(id: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_TENANT}=${id}`;
}

/** Selector labels of a component's pods; stable for the life of the workload. */
export function selectorLabels(t: ResolvedTenant, component: Component): Record<string, string> {
  return { [LABEL_INSTANCE]: t.id, [LABEL_COMPONENT]: component, [LABEL_TENANT]: t.id };
}

export function tenantLabels(t: ResolvedTenant, component: Component): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_PART_OF]: 'neurallog',
    [LABEL_INSTANCE]: t.id,
    [LABEL_COMPONENT]: component,
    [LABEL_TENANT]: t.id,
    [LABEL_TENANT_ID]: t.id,
  };
}

export function ownerReference(t: ResolvedTenant): OwnerReference[] | undefined {
  if (!t.uid) return undefined;
  return [
    {
      apiVersion: API_VERSION,
      kind: KIND,
      name: t.name,
      uid: t.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

/** Metadata for an object of `component`; namespaced unless `namespaced: false`. */
export function objectMeta(
  t: ResolvedTenant,
  component: Component,
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; namespaced?: boolean } = {},
): ObjectMeta {
  const meta = { name } as ObjectMeta;
  if (extra.namespaced !== false) meta.namespace = t.namespace;
  meta.labels = { ...extra.labels, ...tenantLabels(t, component) };
  if (extra.annotations && Object.keys(extra.annotations).length > 0) meta.annotations = extra.annotations;
  const owners = ownerReference(t);
  if (owners) meta.ownerReferences = owners;
  return meta;
}

export const names = {
  quota: 'tenant-quota',
  limits: 'tenant-limits',
  serviceAccount: 'tenant-service-account',
  role: 'tenant-role',
  roleBinding: 'tenant-role-binding',
  redisSecret: (id: string) => `${id}-redis-auth`,
  redisConfig: (id: string) => `${id}-redis-config`,
  redis: (id: string) => `${id}-redis`,
  server: (id: string) => `${id}-server`,
};

export const REDIS_PORT = 6379;
export const SERVER_PORT = 3030;
export const SERVER_PORT_NAME = 'http';
