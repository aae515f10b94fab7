/** `Tenant.status`: written only by the operator, through the status subresource. */
import { z } from 'zod';

export const TENANT_PHASES = [
  'Pending',
  'Provisioning',
  'Running',
  'Degraded',
  'Failed',
  'Terminating',
] as const;
export type TenantPhase = (typeof TENANT_PHASES)[number];

export const COMPONENT_PHASES = [
  'Pending',
  'Provisioning',
  'Running',
  'Degraded',
  'Failed',
  'Disabled',
] as const;

export const CONDITION_TYPES = [
  'Ready',
  'NamespaceReady',
  'RedisReady',
  'ServerReady',
  'NetworkPolicyReady',
  'AuthRegistered',
] as const;
/** Set only when MemberClusters exist: whether the tenant has been placed on one. */
export const SCHEDULED_CONDITION = 'Scheduled';
export type ConditionType = (typeof CONDITION_TYPES)[number] | typeof SCHEDULED_CONDITION;

const componentStatus = (name: string) =>
  z
    .strictObject({
      phase: z
        .enum(COMPONENT_PHASES)
        .optional()
        .meta({ description: `Phase of the ${name}.` }),
      message: z
        .string()
        .optional()
        .meta({ description: `Human-readable state of the ${name}.` }),
      readyReplicas: z.int().optional().meta({ description: 'Replicas ready.' }),
      totalReplicas: z.int().optional().meta({ description: 'Replicas desired.' }),
    })
    .meta({ description: `State of the ${name}.` });

export const condition = z
  .strictObject({
    type: z.string().max(316).meta({ description: 'Condition type, e.g. Ready.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
    reason: z.string().max(1024).meta({ description: 'Machine-readable reason in CamelCase.' }),
    message: z.string().max(32768).meta({ description: 'Human-readable details.' }),
    lastTransitionTime: z
      .string()
      .meta({ description: 'When the status last changed.', format: 'date-time' }),
    observedGeneration: z.int().optional().meta({ description: 'Generation the condition was set for.' }),
  })
  .meta({ description: 'A metav1.Condition.' });

export type Condition = z.infer<typeof condition>;

export const tenantStatus = z
  .strictObject({
    phase: z.enum(TENANT_PHASES).optional().meta({
      description:
        'Pending, Provisioning, Running, Degraded, Failed (needs a change by a person) or Terminating.',
    }),
    namespace: z.string().optional().meta({ description: 'Namespace holding the tenant deployment.' }),
    observedGeneration: z.int().optional().meta({ description: 'The generation this status describes.' }),
    serverStatus: componentStatus('server').optional(),
    redisStatus: componentStatus('Redis').optional(),
    endpoints: z
      .strictObject({
        server: z.string().optional().meta({ description: 'In-cluster URL of the log server.' }),
        redis: z.string().optional().meta({ description: 'In-cluster URL of Redis.' }),
      })
      .optional()
      .meta({ description: 'In-cluster endpoints of the tenant.' }),
    placement: z
      .strictObject({
        clusterName: z.string().max(63).meta({ description: 'The MemberCluster the tenant runs on.' }),
        reason: z.string().max(1024).meta({ description: 'Why it was chosen.' }),
        time: z.string().meta({ description: 'When the decision was made.', format: 'date-time' }),
      })
      .optional()
      .meta({
        description:
          'Where the tenant was placed, written before anything is created there and never changed afterwards.',
      }),
    conditions: z
      .array(condition)
      .optional()
      .meta({
        description:
          'Ready, NamespaceReady, RedisReady, ServerReady, NetworkPolicyReady, AuthRegistered, and Scheduled when MemberClusters exist.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
  })
  .meta({ description: 'Observed state of the tenant, written by the operator.' });

export type TenantStatus = z.infer<typeof tenantStatus>;
export type ComponentStatus = NonNullable<TenantStatus['serverStatus']>;
