/** ResourceQuota `hard` values of each plan (SPEC §2.2). */
import type { PlanId } from './spec.ts';

export type QuotaKey =
  | 'requests.cpu'
  | 'requests.memory'
  | 'limits.cpu'
  | 'limits.memory'
  | 'requests.storage'
  | 'pods'
  | 'services'
  | 'persistentvolumeclaims'
  | 'secrets'
  | 'configmaps';

export const PLAN_QUOTAS: Readonly<Record<PlanId, Readonly<Record<QuotaKey, string>>>> = {
  starter: {
    'requests.cpu': '2',
    'requests.memory': '4Gi',
    'limits.cpu': '4',
    'limits.memory': '8Gi',
    'requests.storage': '10Gi',
    pods: '10',
    services: '5',
    persistentvolumeclaims: '3',
    secrets: '10',
    configmaps: '10',
  },
  professional: {
    'requests.cpu': '8',
    'requests.memory': '16Gi',
    'limits.cpu': '16',
    'limits.memory': '32Gi',
    'requests.storage': '100Gi',
    pods: '50',
    services: '15',
    persistentvolumeclaims: '10',
    secrets: '50',
    configmaps: '50',
  },
  enterprise: {
    'requests.cpu': '32',
    'requests.memory': '64Gi',
    'limits.cpu': '64',
    'limits.memory': '128Gi',
    'requests.storage': '1Ti',
    pods: '100',
    services: '20',
    persistentvolumeclaims: '25',
    secrets: '100',
    configmaps: '100',
  },
};
