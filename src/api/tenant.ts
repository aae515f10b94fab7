/** The `Tenant` object (neurallog.io/v1) and the root-level rules the API server enforces with CEL. */
import { z } from 'zod';
import { API_VERSION } from './group.ts';
import { CEL, type CelRule } from './kube-shapes.ts';
import { objectMeta as metadata } from './object-meta.ts';
import { TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN, TENANT_ID_RULE_TEXT, tenantSpec } from './spec.ts';
import { tenantStatus } from './status.ts';

export { API_VERSION, GROUP, VERSION } from './group.ts';
export const KIND = 'Tenant';
export const PLURAL = 'tenants';

const EFFECTIVE_ID = (obj: string) =>
  `(has(${obj}.spec) && has(${obj}.spec.tenantId) ? ${obj}.spec.tenantId : ${obj}.metadata.name)`;

export const NAME_IS_TENANT_ID_RULE: CelRule = {
  rule: `(has(self.spec) && has(self.spec.tenantId)) || (size(self.metadata.name) <= ${TENANT_ID_MAX_LENGTH} && self.metadata.name.matches('${TENANT_ID_PATTERN}'))`,
  message: `metadata.name is the tenant id when spec.tenantId is unset, so it must be ${TENANT_ID_RULE_TEXT}`,
};

export const TENANT_ID_IMMUTABLE_RULE: CelRule = {
  rule: `${EFFECTIVE_ID('self')} == ${EFFECTIVE_ID('oldSelf')}`,
  message:
    'spec.tenantId is immutable: the effective tenant id (spec.tenantId, else metadata.name) cannot change after creation',
};

export const tenant = z
  .strictObject({
    apiVersion: z.literal(API_VERSION, `apiVersion must be ${API_VERSION}`).meta({
      description: `APIVersion of this object: ${API_VERSION}.`,
    }),
    kind: z.literal(KIND, `kind must be ${KIND}`).meta({ description: `Kind of this object: ${KIND}.` }),
    metadata,
    spec: tenantSpec.optional(),
    status: tenantStatus.optional(),
  })
  .meta({
    description: 'A NeuralLog tenant: one isolated NeuralLog deployment (namespace tenant-<id>).',
    [CEL]: [NAME_IS_TENANT_ID_RULE, TENANT_ID_IMMUTABLE_RULE],
  });

export type Tenant = z.infer<typeof tenant>;

/**
 * The root-level CEL rule on metadata.name, checked on the raw input so that it is reported
 * together with any other problem (zod skips refinements of objects that already failed).
 */
export function checkNameIsTenantId(input: unknown): string | undefined {
  const obj = input as { metadata?: { name?: unknown }; spec?: { tenantId?: unknown } } | null;
  if (typeof obj !== 'object' || obj === null) return undefined;
  if (obj.spec?.tenantId !== undefined) return undefined;
  const name = obj.metadata?.name;
  if (typeof name !== 'string') return undefined;
  const ok = name.length <= TENANT_ID_MAX_LENGTH && new RegExp(TENANT_ID_PATTERN).test(name);
  return ok ? undefined : NAME_IS_TENANT_ID_RULE.message;
}

/** The tenant id: spec.tenantId when set, else metadata.name. */
export function effectiveTenantId(t: Pick<Tenant, 'metadata' | 'spec'>): string {
  return t.spec?.tenantId ?? t.metadata.name;
}

/** The same, read from a Tenant as a cache holds it (not validated here; the CRD schema was). */
export function cachedTenantId(t: { metadata: { name: string }; spec?: unknown }): string {
  const id = (t.spec as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof id === 'string' ? id : t.metadata.name;
}

/** The CEL transition rule, checked in TypeScript for callers that know the previous object. */
export function checkTenantIdUnchanged(oldTenant: Tenant, newTenant: Tenant): string | undefined {
  return effectiveTenantId(oldTenant) === effectiveTenantId(newTenant)
    ? undefined
    : TENANT_ID_IMMUTABLE_RULE.message;
}
