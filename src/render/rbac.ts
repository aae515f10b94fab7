/**
 * The tenant's in-namespace identity (SPEC §2 rows 4-6): ServiceAccount `tenant-service-account`
 * (no automatically mounted token), Role `tenant-role` (read-only view of the tenant's own
 * workloads, never secrets) and RoleBinding `tenant-role-binding` joining the two.
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import { type ObjectMeta, type RenderedObject, names, objectMeta } from './meta.ts';

export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface ServiceAccountObject extends RenderedObject {
  apiVersion: 'v1';
  kind: 'ServiceAccount';
  metadata: ObjectMeta;
  automountServiceAccountToken: false;
}

export interface RoleObject extends RenderedObject {
  apiVersion: typeof RBAC_API_VERSION;
  kind: 'Role';
  metadata: ObjectMeta;
  rules: PolicyRule[];
}

export interface RoleBindingObject extends RenderedObject {
  apiVersion: typeof RBAC_API_VERSION;
  kind: 'RoleBinding';
  metadata: ObjectMeta;
  roleRef: { apiGroup: typeof RBAC_GROUP; kind: 'Role'; name: string };
  subjects: { kind: 'ServiceAccount'; name: string; namespace: string }[];
}

/** The Role's rules (SPEC §2 row 5); a fresh copy on every call. */
export function tenantRoleRules(): PolicyRule[] {
  return [
    {
      apiGroups: [''],
      resources: ['pods', 'services', 'configmaps', 'events'],
      verbs: ['get', 'list', 'watch'],
    },
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get', 'list'] },
  ];
}

export function renderServiceAccount(t: ResolvedTenant): ServiceAccountObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: objectMeta(t, 'rbac', names.serviceAccount),
    automountServiceAccountToken: false,
  };
}

export function renderRole(t: ResolvedTenant): RoleObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'Role',
    metadata: objectMeta(t, 'rbac', names.role),
    rules: tenantRoleRules(),
  };
}

export function renderRoleBinding(t: ResolvedTenant): RoleBindingObject {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'RoleBinding',
    metadata: objectMeta(t, 'rbac', names.roleBinding),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: names.role },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: t.namespace }],
  };
}

/** ServiceAccount, Role, RoleBinding — in that (apply) order. */
export function renderRbac(t: ResolvedTenant): [ServiceAccountObject, RoleObject, RoleBindingObject] {
  return [renderServiceAccount(t), renderRole(t), renderRoleBinding(t)];
}
