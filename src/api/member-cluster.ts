/**
 * The `MemberCluster` object (neurallog.io/v1, cluster-scoped): a cluster the operator places
 * tenants on (SPEC §10.1). Its name is what `Tenant.spec.placement.clusterName` pins to and what
 * `Tenant.status.placement.clusterName` records, so it is kept to a DNS-1123 label (it is also a
 * metric label value).
 */
import { z } from 'zod';
import { CLUSTER_NAME_MAX_LENGTH, CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE_TEXT } from './cluster-name.ts';
import { API_VERSION } from './group.ts';
import { CEL, type CelRule, DNS_1123_LABEL } from './kube-shapes.ts';
import { objectMeta } from './object-meta.ts';
import { condition } from './status.ts';

export const MEMBER_CLUSTER_KIND = 'MemberCluster';
export const MEMBER_CLUSTER_PLURAL = 'memberclusters';

/** The Secret key Cluster API writes its `<cluster>-kubeconfig` Secrets under. */
export const DEFAULT_KUBECONFIG_KEY = 'value';

export const CLUSTER_NAME_RULE: CelRule = {
  rule: `size(self.metadata.name) <= ${CLUSTER_NAME_MAX_LENGTH} && self.metadata.name.matches('${CLUSTER_NAME_PATTERN}')`,
  message: `metadata.name of a MemberCluster must be ${CLUSTER_NAME_RULE_TEXT} (tenants name it in spec.placement.clusterName)`,
};

const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

const kubeconfigSecretRef = z
  .strictObject({
    name: z
      .string()
      .min(1, 'the Secret name is required')
      .max(253)
      .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
        'must be a Secret name (lower-case letters, digits, "-" and ".")',
      )
      .meta({
        description: 'Name of the Secret, e.g. prod-1-kubeconfig (Cluster API writes <cluster>-kubeconfig).',
      }),
    namespace: z
      .string()
      .max(63)
      .regex(new RegExp(DNS_1123_LABEL), 'must be a namespace name')
      .optional()
      .meta({ description: "Namespace of the Secret (default: the operator's own namespace)." }),
    key: z
      .string()
      .max(253)
      .regex(new RegExp(SECRET_KEY_PATTERN), 'must be a Secret data key (letters, digits, "-", "_" and ".")')
      .optional()
      .meta({
        description: `Key of the kubeconfig in the Secret's data (default ${DEFAULT_KUBECONFIG_KEY}, as Cluster API writes it).`,
      }),
  })
  .meta({
    description:
      'Secret holding a kubeconfig for the member. Omitted: the management cluster itself is this member.',
  });

/**
 * Whether a member is the management cluster itself (no Secret) or another cluster is fixed for
 * its life: switching would leave its tenants' objects behind on one cluster and recreate them,
 * empty, on the other.
 */
export const SECRET_REF_KEPT_RULE: CelRule = {
  rule: 'has(self.kubeconfigSecretRef) == has(oldSelf.kubeconfigSecretRef)',
  message:
    'spec.kubeconfigSecretRef cannot be added or removed: a member is the management cluster itself or another cluster for its whole life; create a new MemberCluster instead',
};

export const memberClusterSpec = z
  .strictObject({
    kubeconfigSecretRef: kubeconfigSecretRef.optional(),
    maxTenants: z
      .int()
      .min(0, 'maxTenants must be 0 or more')
      .max(100000)
      .optional()
      .meta({ description: 'Most tenants placed on this member; no limit when unset.' }),
    unschedulable: z.boolean().optional().meta({
      description:
        'Cordon (default false): no new tenant is placed here; the tenants already here stay and keep being reconciled.',
    }),
  })
  .meta({
    description: 'How to reach the member and how many tenants it takes.',
    [CEL]: [SECRET_REF_KEPT_RULE],
  });

export const MEMBER_CONDITION_TYPES = ['Ready'] as const;
export const MEMBER_NOT_READY_REASONS = [
  'Unreachable',
  'Unauthorized',
  'Forbidden',
  'CredentialsInvalid',
] as const;
export type MemberNotReadyReason = (typeof MEMBER_NOT_READY_REASONS)[number];

const pendingCleanup = z
  .strictObject({
    tenant: z.string().max(253).meta({ description: 'Name of the deleted Tenant.' }),
    uid: z.string().max(128).meta({ description: 'Its uid: only a namespace annotated with it is deleted.' }),
    namespace: z.string().max(63).meta({ description: 'The namespace to delete.' }),
    since: z.string().meta({ description: 'When the Tenant was let go.', format: 'date-time' }),
  })
  .meta({ description: 'A tenant namespace to delete when the member answers again.' });

export const memberClusterStatus = z
  .strictObject({
    observedGeneration: z.int().optional().meta({ description: 'The generation this status describes.' }),
    kubernetesVersion: z
      .string()
      .max(64)
      .optional()
      .meta({ description: "The member's server version (e.g. v1.36.3)." }),
    tenants: z.int().min(0).optional().meta({ description: 'Tenants placed on this member.' }),
    lastProbeTime: z
      .string()
      .optional()
      .meta({ description: 'When the member was last probed.', format: 'date-time' }),
    pendingCleanup: z
      .array(pendingCleanup)
      .optional()
      .meta({ description: 'Tenant namespaces left to delete when the member is reachable again.' }),
    conditions: z
      .array(condition)
      .optional()
      .meta({
        description: `Ready: True when the member answers, accepts the credential and grants the operator its permissions; False with reason ${MEMBER_NOT_READY_REASONS.join(', ')}. Terminating (reason TenantsRemain) while a deletion waits for the tenants placed here.`,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
  })
  .meta({ description: 'Observed state of the member, written by the operator.' });

export const memberCluster = z
  .strictObject({
    apiVersion: z.literal(API_VERSION, `apiVersion must be ${API_VERSION}`).meta({
      description: `APIVersion of this object: ${API_VERSION}.`,
    }),
    kind: z
      .literal(MEMBER_CLUSTER_KIND, `kind must be ${MEMBER_CLUSTER_KIND}`)
      .meta({ description: `Kind of this object: ${MEMBER_CLUSTER_KIND}.` }),
    metadata: objectMeta,
    spec: memberClusterSpec.optional(),
    status: memberClusterStatus.optional(),
  })
  .meta({
    description:
      'A cluster the operator places tenants on; labels are what Tenant spec.placement.clusterSelector selects.',
    [CEL]: [CLUSTER_NAME_RULE],
  });

export type MemberCluster = z.infer<typeof memberCluster>;
export type MemberClusterSpec = z.infer<typeof memberClusterSpec>;
export type MemberClusterStatus = z.infer<typeof memberClusterStatus>;

/** The Secret a member's kubeconfig is read from, with the defaults applied. */
export function kubeconfigSecretOf(
  mc: Pick<MemberCluster, 'spec'>,
  operatorNamespace: string,
): { name: string; namespace: string; key: string } | undefined {
  const ref = mc.spec?.kubeconfigSecretRef;
  if (!ref) return undefined;
  return {
    name: ref.name,
    namespace: ref.namespace ?? operatorNamespace,
    key: ref.key ?? DEFAULT_KUBECONFIG_KEY,
  };
}

/** The root CEL rule on metadata.name, for the offline validator (reported beside every other problem). */
export function checkClusterName(input: unknown): string | undefined {
  const name = (input as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  if (typeof name !== 'string') return undefined;
  const ok = name.length <= CLUSTER_NAME_MAX_LENGTH && new RegExp(CLUSTER_NAME_PATTERN).test(name);
  return ok ? undefined : CLUSTER_NAME_RULE.message;
}
