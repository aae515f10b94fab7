/** ObjectMeta of the project's own custom objects (Tenant, MemberCluster). */
import { z } from 'zod';

/** What the API server accepts as the name of a cluster-scoped custom object: a DNS-1123 subdomain. */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const OBJECT_NAME_RULE_TEXT =
  'at most 253 characters of a-z, 0-9, "-" and ".", starting and ending with a letter or digit';

/**
 * ObjectMeta as the API server decodes it: every field it knows (an unknown one is refused under
 * strict field validation, kubectl's default), and the name rule it applies to every object.
 */
export const objectMeta = z
  .strictObject({
    name: z
      .string()
      .min(1, 'metadata.name is required')
      .max(253, `metadata.name must be ${OBJECT_NAME_RULE_TEXT}`)
      .regex(new RegExp(OBJECT_NAME_PATTERN), `metadata.name must be ${OBJECT_NAME_RULE_TEXT}`),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    selfLink: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.int().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    deletionGracePeriodSeconds: z.int().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
    finalizers: z.array(z.string()).optional(),
    managedFields: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .meta({ description: 'Standard object metadata.' });
