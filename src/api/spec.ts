/**
 * `Tenant.spec` as one zod schema: the source of the TypeScript types, the offline validator and
 * the CRD's OpenAPI schema. Defaults are NOT part of the wire schema (the API server stores what
 * the user wrote); `resolve.ts` applies them, and the descriptions document them.
 */
import { z } from 'zod';
import {
  CEL,
  type CelRule,
  DNS_1035_LABEL,
  containerResources,
  envVar,
  networkPort,
  podPlacement,
  quantity,
  labelMap,
  labelSelectorOf,
  storageClassName,
} from './kube-shapes.ts';
import { clusterName } from './cluster-name.ts';
import {
  ALLOWED_REDIS_DIRECTIVES,
  ALLOWED_REDIS_DIRECTIVE_NAMES,
  NOT_ALLOWED_TEXT,
  REDIS_CONFIG_REFERENCE,
  REDIS_CONFIG_VALUE_MAX_LENGTH,
  REDIS_CONFIG_VALUE_PATTERN,
  REDIS_CONFIG_VALUE_RULE_TEXT,
  REDIS_DIRECTIVE_CATEGORIES,
  isAllowedRedisDirective,
  notAllowedMessage,
} from './redis-config.ts';

export const TENANT_ID_MAX_LENGTH = 40;
export const TENANT_ID_PATTERN = DNS_1035_LABEL;
export const TENANT_ID_RULE_TEXT =
  '1-40 characters of a-z, 0-9 and "-", starting with a letter and ending with a letter or digit';

/**
 * An e-mail address, as one pattern that JavaScript and the API server (Go RE2) read alike. The
 * CRD's `format: email` would be checked by Go's net/mail, which takes display names, quoted local
 * parts, IP literals and non-ASCII domains that the offline validator would refuse.
 */
export const EMAIL_PATTERN =
  "^[A-Za-z0-9_'+-]+(\\.[A-Za-z0-9_'+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}$";

export const PLAN_IDS = ['starter', 'professional', 'enterprise'] as const;

const celList = (names: readonly string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;
const ALLOWED_CEL_LIST = celList(ALLOWED_REDIS_DIRECTIVE_NAMES);

const REDIS_CONFIG_RULES: CelRule[] = [
  {
    rule: `self.all(k, k in ${ALLOWED_CEL_LIST})`,
    messageExpression: `'spec.redis.config.' + self.filter(k, !(k in ${ALLOWED_CEL_LIST}))[0] + ' is ${NOT_ALLOWED_TEXT}'`,
    message: `spec.redis.config may set only the tuning directives listed in kubectl explain tenant.spec.redis.config (${REDIS_CONFIG_REFERENCE})`,
  },
];

function redisConfigDescription(): string {
  const byCategory = REDIS_DIRECTIVE_CATEGORIES.map((category) => {
    const names = [...ALLOWED_REDIS_DIRECTIVES].filter(([, d]) => d.category === category).map(([n]) => n);
    return `${category}: ${names.join(', ')}`;
  });
  return [
    'redis.conf directives (e.g. maxmemory-policy: allkeys-lru); each replaces a default of the same name.',
    `Allowed keys (tuning only) - ${byCategory.join('; ')}.`,
    'Authentication, ACLs, modules, debugging, files and paths, networking and replication topology are owned by the operator and refused.',
    `Values: ${REDIS_CONFIG_VALUE_RULE_TEXT}.`,
  ].join(' ');
}

const tenantId = z
  .string()
  .min(1, `must be ${TENANT_ID_RULE_TEXT}`)
  .max(TENANT_ID_MAX_LENGTH, `must be at most ${TENANT_ID_MAX_LENGTH} characters (${TENANT_ID_RULE_TEXT})`)
  .regex(new RegExp(TENANT_ID_PATTERN), `must be ${TENANT_ID_RULE_TEXT}`)
  .meta({
    description: `Tenant id; defaults to metadata.name. ${TENANT_ID_RULE_TEXT}. It prefixes every object name and can never change after creation.`,
  });

const quotaPair = (what: string) =>
  z
    .strictObject({
      requests: quantity(`Overrides the plan's requests.${what} quota.`).optional(),
      limits: quantity(`Overrides the plan's limits.${what} quota.`).optional(),
    })
    .meta({ description: `${what} quota overrides.` });

const quotaOverrides = z
  .strictObject({
    cpu: quotaPair('cpu').optional(),
    memory: quotaPair('memory').optional(),
    storage: z
      .strictObject({
        requests: quantity("Overrides the plan's requests.storage quota.").optional(),
        storageClass: storageClassName(
          'Storage class for Redis volumes when spec.redis.storageClassName is unset.',
        ).optional(),
      })
      .optional()
      .meta({ description: 'Storage quota override and default storage class.' }),
    pods: z.int().nonnegative().optional().meta({ description: "Overrides the plan's pod count quota." }),
    services: z
      .int()
      .nonnegative()
      .optional()
      .meta({ description: "Overrides the plan's service count quota." }),
  })
  .meta({ description: 'ResourceQuota overrides applied on top of the plan.' });

const features = z
  .strictObject({
    aiEnabled: z
      .boolean()
      .optional()
      .meta({ description: 'Sets FEATURE_AI_ENABLED on the server (default false).' }),
    customMetrics: z
      .boolean()
      .optional()
      .meta({ description: 'Sets FEATURE_CUSTOM_METRICS on the server (default false).' }),
    realTimeAnalytics: z
      .boolean()
      .optional()
      .meta({ description: 'Sets FEATURE_REAL_TIME_ANALYTICS on the server (default false).' }),
  })
  .meta({ description: 'Feature switches passed to the server as FEATURE_* environment variables.' });

const server = z
  .strictObject({
    replicas: z
      .int()
      .min(0, 'replicas must be 0 or more')
      .max(100)
      .optional()
      .meta({ description: 'Server replicas (default 1; 0 stops the server).' }),
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .meta({ description: 'Server image (default neurallog/server:latest).' }),
    imagePullPolicy: z
      .enum(['Always', 'IfNotPresent', 'Never'])
      .optional()
      .meta({ description: 'Image pull policy (default IfNotPresent).' }),
    resources: containerResources({ cpu: '100m / 500m', memory: '128Mi / 512Mi' }).optional(),
    env: z.array(envVar).max(100).optional().meta({
      description:
        'Extra environment variables; a name here replaces the operator-set variable of that name.',
    }),
    probePath: z
      .string()
      .max(1024)
      .regex(/^\/\S*$/, 'probePath must be an absolute HTTP path starting with "/"')
      .optional()
      .meta({ description: 'HTTP path of the readiness and liveness probes (default /health).' }),
    ...podPlacement('server'),
  })
  .meta({ description: 'The NeuralLog log server (Deployment <id>-server).' });

const redis = z
  .strictObject({
    replicas: z
      .int()
      .min(1, 'redis replicas must be 1 or more')
      .max(10)
      .optional()
      .meta({ description: 'Redis pods (default 1); pod 0 is the primary, the others replicate it.' }),
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .meta({ description: 'Redis image (default redis:7-alpine).' }),
    resources: containerResources({ cpu: '100m / 300m', memory: '128Mi / 256Mi' }).optional(),
    storage: quantity(
      'Size of each Redis data volume (default 1Gi). Claims are not resized after creation.',
    ).optional(),
    storageClassName: storageClassName(
      'Storage class of the data volumes (default spec.resources.storage.storageClass, else the cluster default).',
    ).optional(),
    config: z
      .record(
        z.string(),
        z
          .string()
          .max(REDIS_CONFIG_VALUE_MAX_LENGTH)
          .regex(new RegExp(REDIS_CONFIG_VALUE_PATTERN), REDIS_CONFIG_VALUE_RULE_TEXT),
      )
      .superRefine((config, ctx) => {
        for (const key of Object.keys(config)) {
          if (!isAllowedRedisDirective(key)) {
            ctx.addIssue({ code: 'custom', path: [key], message: notAllowedMessage(key) });
          }
        }
      })
      .optional()
      .meta({
        description: redisConfigDescription(),
        // Bounds the CEL cost; the allow-list alone already admits no more keys than this.
        maxProperties: ALLOWED_REDIS_DIRECTIVE_NAMES.length,
        [CEL]: REDIS_CONFIG_RULES,
      }),
    ...podPlacement('Redis'),
  })
  .meta({ description: "The tenant's Redis (StatefulSet <id>-redis)." });

const rulePorts = z
  .array(networkPort)
  .max(20)
  .optional()
  .meta({ description: 'Ports allowed; empty means all ports.' });
const ruleDescription = z.string().max(1024).optional().meta({ description: 'What the rule is for.' });

const ingressRule = z
  .strictObject({
    description: ruleDescription,
    from: labelMap(
      'Pod labels (in the tenant namespace) the traffic is allowed from; empty means every pod there.',
    ).optional(),
    ports: rulePorts,
  })
  .meta({ description: 'A custom ingress rule.' });

const egressRule = z
  .strictObject({
    description: ruleDescription,
    to: labelMap(
      'Pod labels (in the tenant namespace) the traffic is allowed to; empty means every pod there.',
    ).optional(),
    ports: rulePorts,
  })
  .meta({ description: 'A custom egress rule.' });

const networkPolicy = z
  .strictObject({
    enabled: z.boolean().optional().meta({
      description: 'Network isolation on (default true); false removes every policy the operator made.',
    }),
    allowedNamespaces: z
      .array(
        z
          .string()
          .max(63)
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
          .meta({ description: 'A namespace name.' }),
      )
      .max(50)
      .optional()
      .meta({ description: 'Namespaces whose pods may reach the server port.' }),
    allowWebEgress: z.boolean().optional().meta({
      description: 'Tenant pods may open HTTP(S) connections (TCP 80/443) anywhere (default true).',
    }),
    ingressRules: z
      .array(ingressRule)
      .max(50)
      .optional()
      .meta({ description: 'Extra ingress rules, one NetworkPolicy custom-ingress-<i> each.' }),
    egressRules: z
      .array(egressRule)
      .max(50)
      .optional()
      .meta({ description: 'Extra egress rules, one NetworkPolicy custom-egress-<i> each.' }),
  })
  .meta({ description: 'Network isolation of the tenant namespace.' });

const logServer = z
  .strictObject({
    enabled: z.boolean().optional().meta({ description: 'false scales the server to 0.' }),
    replicas: z
      .int()
      .min(0, 'replicas must be 0 or more')
      .max(100)
      .optional()
      .meta({ description: 'Server replicas when spec.server.replicas is unset.' }),
    resources: z
      .strictObject({
        requests: quantity('Server CPU request when spec.server.resources.cpu.request is unset.').optional(),
        limits: quantity('Server CPU limit when spec.server.resources.cpu.limit is unset.').optional(),
      })
      .optional()
      .meta({ description: 'Server CPU request and limit.' }),
  })
  .meta({ description: 'Older spelling of spec.server; spec.server wins where both are set.' });

const authService = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .meta({ description: 'Register the tenant with the NeuralLog Auth service (default true).' }),
    replicas: z.int().min(0).optional().meta({
      description: 'Accepted for compatibility and ignored: the Auth service is shared, not per tenant.',
    }),
    resources: z
      .strictObject({
        requests: quantity('Accepted for compatibility and ignored.').optional(),
        limits: quantity('Accepted for compatibility and ignored.').optional(),
      })
      .optional()
      .meta({
        description: 'Accepted for compatibility and ignored: the Auth service is shared, not per tenant.',
      }),
  })
  .meta({ description: 'Registration with the shared NeuralLog Auth service.' });

const placement = z
  .strictObject({
    clusterName: clusterName(
      'Pin the tenant to the MemberCluster of this name (it must also match clusterSelector when both are set).',
    ).optional(),
    clusterSelector: labelSelectorOf('a member cluster')
      .optional()
      .meta({ description: 'Labels of the MemberClusters the tenant may be placed on; empty matches all.' }),
  })
  .meta({
    description:
      'Where the tenant runs when MemberClusters exist. Read once, when the tenant is placed (status.placement); a later change is reported, not applied: a tenant is never moved with its data.',
  });

export const tenantSpec = z
  .strictObject({
    displayName: z.string().max(253).optional().meta({ description: 'Human-readable tenant name.' }),
    description: z.string().max(1024).optional().meta({ description: 'Free-text description.' }),
    tenantId: tenantId.optional(),
    planId: z.enum(PLAN_IDS).optional().meta({
      description: 'Plan that sets the ResourceQuota: starter (default), professional or enterprise.',
      // The API server fills it in, so `kubectl get tenants -o wide` shows the plan in use.
      default: 'starter',
    }),
    billingEmail: z
      .string()
      .max(254, 'must be an e-mail address of at most 254 characters')
      .regex(new RegExp(EMAIL_PATTERN), 'must be an e-mail address such as billing@example.com')
      .optional()
      .meta({
        description: 'Billing contact, recorded as annotation neurallog.io/billing-email on the namespace.',
      }),
    resources: quotaOverrides.optional(),
    features: features.optional(),
    server: server.optional(),
    redis: redis.optional(),
    networkPolicy: networkPolicy.optional(),
    services: z
      .strictObject({ logServer: logServer.optional(), authService: authService.optional() })
      .optional()
      .meta({ description: 'Older per-service settings (see spec.server).' }),
    placement: placement.optional(),
  })
  .meta({
    description: 'Desired state of the tenant. Every field is optional; defaults are documented per field.',
  });

export type TenantSpec = z.infer<typeof tenantSpec>;
export type PlanId = (typeof PLAN_IDS)[number];
