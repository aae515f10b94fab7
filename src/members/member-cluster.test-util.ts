/** MemberCluster objects for tests, shaped as the API server returns them. */
import type { MemberClusterObject } from './member-controller.ts';

export interface MemberFixture {
  labels?: Record<string, string>;
  maxTenants?: number;
  /** Ready=True (the default), or Ready=False with reason Unreachable. */
  ready?: boolean;
  /** No kubeconfigSecretRef: the management cluster itself. */
  self?: boolean;
}

export function memberCluster(name: string, given: MemberFixture = {}): MemberClusterObject {
  const ready = given.ready ?? true;
  return {
    apiVersion: 'neurallog.io/v1',
    kind: 'MemberCluster',
    metadata: { name, ...(given.labels ? { labels: given.labels } : {}) },
    spec: {
      ...(given.maxTenants !== undefined ? { maxTenants: given.maxTenants } : {}),
      ...(given.self
        ? {}
        : { kubeconfigSecretRef: { name: `${name}-kubeconfig`, namespace: 'ops', key: 'value' } }),
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'Ready' : 'Unreachable',
          message: '',
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
      ],
    },
  };
}
