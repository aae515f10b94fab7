/**
 * ResourceQuota `tenant-quota` (SPEC §2 row 2, §2.2): the plan's `hard` values with the
 * `spec.resources` overrides already applied by `resolveTenant`.
 */
import type { QuotaKey } from '../api/plans.ts';
import type { ResolvedTenant } from '../api/resolve.ts';
import { type ObjectMeta, type RenderedObject, names, objectMeta } from './meta.ts';

/** Keys of `spec.hard` in the order of SPEC §2.2's table (the rendered order). */
export const QUOTA_KEYS: readonly QuotaKey[] = [
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'requests.storage',
  'pods',
  'services',
  'persistentvolumeclaims',
  'secrets',
  'configmaps',
];

export interface ResourceQuotaObject extends RenderedObject {
  apiVersion: 'v1';
  kind: 'ResourceQuota';
  metadata: ObjectMeta;
  spec: { hard: Record<QuotaKey, string> };
}

export function renderResourceQuota(t: ResolvedTenant): ResourceQuotaObject {
  const hard = {} as Record<QuotaKey, string>;
  for (const key of QUOTA_KEYS) hard[key] = String(t.quota[key]);
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: objectMeta(t, 'quota', names.quota),
    spec: { hard },
  };
}
