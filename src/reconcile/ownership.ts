/**
 * Whether an object is this Tenant's (SPEC §2, §10.3). Labels alone never make an object ours:
 * it must sit in the tenant namespace, carry the tenant's labels, AND point at the Tenant by uid —
 * through a controller owner reference on the Tenant's own cluster, or through the
 * `neurallog.io/tenant-uid` annotation on a member cluster, where owner references cannot reach
 * the Tenant.
 */
import type { KubeObject } from '../kube/objects.ts';
import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../render/meta.ts';

export const ANNOTATION_TENANT_UID = 'neurallog.io/tenant-uid';

/** How a cluster's objects point at their Tenant. */
export type OwnershipMode = 'ownerReference' | 'annotation';

export interface TenantIdentity {
  /** metadata.uid of the Tenant. */
  uid: string | undefined;
  /** The tenant id (label value). */
  id: string;
  /** `tenant-<id>`. */
  namespace: string;
}

/** The object points at the Tenant with this uid (owner reference or annotation, by mode). */
export function pointsAt(obj: KubeObject, uid: string | undefined, mode: OwnershipMode): boolean {
  if (uid === undefined || uid === '') return false;
  if (mode === 'annotation') return obj.metadata.annotations?.[ANNOTATION_TENANT_UID] === uid;
  return (obj.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.uid === uid);
}

/** The tenant's labels, as every object the operator makes carries them. */
export function carriesTenantLabels(obj: KubeObject, id: string): boolean {
  const labels = obj.metadata.labels ?? {};
  return labels[LABEL_MANAGED_BY] === MANAGED_BY && labels[LABEL_TENANT] === id;
}

/** The tenant's namespace, made by this Tenant. */
export function isOwnedNamespace(ns: KubeObject, tenant: TenantIdentity, mode: OwnershipMode): boolean {
  return ns.metadata.name === tenant.namespace && pointsAt(ns, tenant.uid, mode);
}

/** A child object in the tenant namespace that this Tenant made (and may change or delete). */
export function isOwnedChild(obj: KubeObject, tenant: TenantIdentity, mode: OwnershipMode): boolean {
  if (obj.kind === 'Namespace') return isOwnedNamespace(obj, tenant, mode);
  return (
    obj.metadata.namespace === tenant.namespace &&
    carriesTenantLabels(obj, tenant.id) &&
    pointsAt(obj, tenant.uid, mode)
  );
}

/**
 * A rendered object as it is written to a cluster of `mode`: unchanged where owner references
 * reach the Tenant; on a member, the owner reference replaced by the tenant-uid annotation.
 */
export function forOwnership<T extends KubeObject>(obj: T, mode: OwnershipMode, uid: string | undefined): T {
  if (mode === 'ownerReference' || uid === undefined) return obj;
  const { ownerReferences: _dropped, ...metadata } = obj.metadata;
  return {
    ...obj,
    metadata: { ...metadata, annotations: { ...metadata.annotations, [ANNOTATION_TENANT_UID]: uid } },
  };
}
