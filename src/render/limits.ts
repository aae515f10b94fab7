/**
 * LimitRange `tenant-limits` (SPEC §2 row 3, §2.3): defaults for containers that set no resources,
 * and bounds on containers, pods and volume claims in the tenant namespace. The same for every plan.
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import { type ObjectMeta, type RenderedObject, names, objectMeta } from './meta.ts';

export interface LimitRangeItem {
  type: 'Container' | 'Pod' | 'PersistentVolumeClaim';
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  max?: Record<string, string>;
  min?: Record<string, string>;
}

export interface LimitRangeObject extends RenderedObject {
  apiVersion: 'v1';
  kind: 'LimitRange';
  metadata: ObjectMeta;
  spec: { limits: LimitRangeItem[] };
}

/** SPEC §2.3. A fresh copy on every call, so no caller can change what the next render returns. */
export function limitRangeItems(): LimitRangeItem[] {
  return [
    {
      type: 'Container',
      default: { cpu: '200m', memory: '256Mi' },
      defaultRequest: { cpu: '100m', memory: '128Mi' },
      max: { cpu: '4', memory: '8Gi' },
      min: { cpu: '50m', memory: '64Mi' },
    },
    { type: 'Pod', max: { cpu: '8', memory: '16Gi' } },
    { type: 'PersistentVolumeClaim', max: { storage: '50Gi' }, min: { storage: '1Gi' } },
  ];
}

export function renderLimitRange(t: ResolvedTenant): LimitRangeObject {
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: objectMeta(t, 'limits', names.limits),
    spec: { limits: limitRangeItems() },
  };
}
