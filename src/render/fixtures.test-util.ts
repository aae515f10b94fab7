/**
 * Test helpers: ResolvedTenant values built the way the operator builds them, through
 * `parseTenant` (validation) and `resolveTenant` (defaults). Not part of the shipped code paths.
 */
import { type ResolvedTenant, resolveTenant } from '../api/resolve.ts';
import type { Tenant } from '../api/tenant.ts';
import { parseTenant } from '../api/validate.ts';

export interface FixtureOptions {
  /** metadata.name (default `acme`, which is also the tenant id unless spec.tenantId is set). */
  name?: string;
  /** metadata.uid; when set, rendered objects carry an owner reference. */
  uid?: string;
  annotations?: Record<string, string>;
}

/** A validated Tenant with the given spec. Throws (with every problem listed) when the spec is invalid. */
export function tenantObject(spec: Record<string, unknown> = {}, options: FixtureOptions = {}): Tenant {
  return parseTenant({
    apiVersion: 'neurallog.io/v1',
    kind: 'Tenant',
    metadata: {
      name: options.name ?? 'acme',
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
    },
    spec,
  });
}

/** The fully defaulted model rendering works from, for a Tenant with the given spec. */
export function resolvedTenant(
  spec: Record<string, unknown> = {},
  options: FixtureOptions = {},
): ResolvedTenant {
  return resolveTenant(tenantObject(spec, options));
}
