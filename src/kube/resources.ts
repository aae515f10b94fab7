/** Where each kind the operator manages lives in the API (no discovery round-trips needed). */

export interface ResourceType {
  kind: string;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

const core = (kind: string, plural: string, namespaced = true): ResourceType => ({
  kind,
  apiVersion: 'v1',
  plural,
  namespaced,
});

/** Every kind of child object, in the order they are applied. */
export const CHILD_TYPES: readonly ResourceType[] = [
  core('Namespace', 'namespaces', false),
  core('ResourceQuota', 'resourcequotas'),
  core('LimitRange', 'limitranges'),
  core('ServiceAccount', 'serviceaccounts'),
  { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  {
    kind: 'RoleBinding',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    plural: 'rolebindings',
    namespaced: true,
  },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
  core('Secret', 'secrets'),
  core('ConfigMap', 'configmaps'),
  core('Service', 'services'),
  { kind: 'StatefulSet', apiVersion: 'apps/v1', plural: 'statefulsets', namespaced: true },
  { kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  { kind: 'PodDisruptionBudget', apiVersion: 'policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
];

export const TENANT_TYPE: ResourceType = {
  kind: 'Tenant',
  apiVersion: 'neurallog.io/v1',
  plural: 'tenants',
  namespaced: false,
};

export const MEMBER_CLUSTER_TYPE: ResourceType = {
  kind: 'MemberCluster',
  apiVersion: 'neurallog.io/v1',
  plural: 'memberclusters',
  namespaced: false,
};

/** Written only by `cluster join` / `cluster leave` (config/member/ on a member). */
export const CLUSTER_ROLE_TYPE: ResourceType = {
  kind: 'ClusterRole',
  apiVersion: 'rbac.authorization.k8s.io/v1',
  plural: 'clusterroles',
  namespaced: false,
};
export const CLUSTER_ROLE_BINDING_TYPE: ResourceType = {
  kind: 'ClusterRoleBinding',
  apiVersion: 'rbac.authorization.k8s.io/v1',
  plural: 'clusterrolebindings',
  namespaced: false,
};

export const EVENT_TYPE: ResourceType = core('Event', 'events');
/** Read only, to tell why a tenant's pods do not become ready. */
export const POD_TYPE: ResourceType = core('Pod', 'pods');
export const LEASE_TYPE: ResourceType = {
  kind: 'Lease',
  apiVersion: 'coordination.k8s.io/v1',
  plural: 'leases',
  namespaced: true,
};

const BY_KIND = new Map(
  [
    ...CHILD_TYPES,
    TENANT_TYPE,
    MEMBER_CLUSTER_TYPE,
    CLUSTER_ROLE_TYPE,
    CLUSTER_ROLE_BINDING_TYPE,
    EVENT_TYPE,
    POD_TYPE,
    LEASE_TYPE,
  ].map((t) => [t.kind, t]),
);

export class UnknownKindError extends Error {
  constructor(kind: string) {
    super(`the operator does not manage kind ${kind}; add it to CHILD_TYPES in src/kube/resources.ts`);
    this.name = 'UnknownKindError';
  }
}

export function resourceType(kind: string): ResourceType {
  const type = BY_KIND.get(kind);
  if (!type) throw new UnknownKindError(kind);
  return type;
}

function groupPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Collection path; for namespaced kinds without a namespace, the all-namespaces list. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupPath(type.apiVersion)}${ns}/${type.plural}`;
}

export function objectPath(type: ResourceType, name: string, namespace?: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}

/** Identity of an object: `Kind/namespace/name` (namespace empty for cluster-scoped kinds). */
export function objectKey(obj: { kind?: string; metadata?: { name?: string; namespace?: string } }): string {
  return `${obj.kind ?? ''}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
