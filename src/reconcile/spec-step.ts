/**
 * The spec step: a Tenant's spec is validated and resolved before anything else. One that fails
 * (a rule the CRD schema cannot express, or a CRD older than the operator) gets phase Failed and
 * Ready=False/InvalidSpec naming the fields; what was observed before is kept and nothing is touched.
 */
import { resolvedProblems } from '../api/resolved-checks.ts';
import { type ResolvedTenant, resolveTenant } from '../api/resolve.ts';
import type { TenantStatus } from '../api/status.ts';
import type { Tenant } from '../api/tenant.ts';
import { formatIssue, validateTenant } from '../api/validate.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeWriter } from '../kube/objects.ts';
import { PermanentError } from '../runtime/controller.ts';
import type { TenantObject } from './ports.ts';
import { publishStatus } from './publish.ts';
import { nextCondition } from './status.ts';

export type SpecCheck =
  | { ok: true; tenant: Tenant; resolved: ResolvedTenant }
  /** `resolved` is there when the schema held but a rule across fields did not (deletion still needs the id). */
  | { ok: false; resolved: ResolvedTenant | undefined; problems: string[] };

export function checkSpec(t: TenantObject): SpecCheck {
  const validation = validateTenant(t);
  if (!validation.ok) return { ok: false, resolved: undefined, problems: validation.issues.map(formatIssue) };
  const resolved = resolveTenant(validation.tenant);
  const problems = resolvedProblems(resolved);
  return problems.length > 0
    ? { ok: false, resolved, problems }
    : { ok: true, tenant: validation.tenant, resolved };
}

export function invalidSpecStatus(
  status: TenantStatus | undefined,
  generation: number | undefined,
  message: string,
  at: Date,
): TenantStatus {
  const others = (status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  const before = status?.conditions?.find((c) => c.type === 'Ready');
  const ready = nextCondition(
    before,
    'Ready',
    { status: 'False', reason: 'InvalidSpec', message },
    at,
    generation,
  );
  return {
    ...(status ?? {}),
    phase: 'Failed',
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [ready, ...others],
  };
}

/** Says in the Tenant's status why its spec is refused, and stops: retrying cannot help until it changes. */
export async function rejectInvalidSpec(
  home: Pick<KubeWriter, 'patchTenantStatus' | 'get'>,
  events: EventRecorder,
  t: TenantObject,
  problems: readonly string[],
  at: Date,
): Promise<never> {
  const message = `spec is invalid: ${problems.join('; ')}`;
  await publishStatus(home, events, t, invalidSpecStatus(t.status, t.metadata.generation, message, at));
  throw new PermanentError(message);
}
