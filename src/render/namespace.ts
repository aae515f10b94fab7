/**
 * The tenant's Namespace `tenant-<id>` (SPEC §2 row 1, §2.1).
 *
 * Cluster-scoped, so it carries no namespace of its own; it is owned (controller reference) by the
 * Tenant once the Tenant's uid is known, which is also how the controller tells its own namespace
 * from one a person made (§2.1: never adopted).
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import {
  ANNOTATION_BILLING_EMAIL,
  LABEL_PLAN,
  type ObjectMeta,
  type RenderedObject,
  objectMeta,
} from './meta.ts';

/** Pod Security Admission: every pod in the tenant namespace must meet the "restricted" profile. */
export const LABEL_POD_SECURITY_ENFORCE = 'pod-security.kubernetes.io/enforce';
export const POD_SECURITY_LEVEL = 'restricted';

export interface NamespaceObject extends RenderedObject {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
}

export function renderNamespace(t: ResolvedTenant): NamespaceObject {
  const annotations: Record<string, string> = {};
  if (t.billingEmail !== undefined && t.billingEmail !== '')
    annotations[ANNOTATION_BILLING_EMAIL] = t.billingEmail;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: objectMeta(t, 'namespace', t.namespace, {
      namespaced: false,
      labels: { [LABEL_PLAN]: t.plan, [LABEL_POD_SECURITY_ENFORCE]: POD_SECURITY_LEVEL },
      annotations,
    }),
  };
}
