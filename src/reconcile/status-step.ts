/**
 * The status step: what this reconcile saw becomes the Tenant's status (only a difference is
 * written), and its outcome says when to look again — at once for a failed write or a pending
 * Auth registration (with backoff, as errors), later for a conflict or a component not ready yet.
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import type { TenantStatus } from '../api/status.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { names } from '../render/meta.ts';
import type { ChildrenResult } from './children.ts';
import type { ComponentLook } from './diagnose.ts';
import type { ChildPlan } from './plan.ts';
import type { ReconcileResult, TenantObject } from './ports.ts';
import { publishStatus } from './publish.ts';
import { quotaProblem } from './quota-fit.ts';
import { type AuthState, type NamespaceState, type Workload, deriveStatus } from './status.ts';

export class ChildWriteError extends Error {
  constructor(failures: string[], cause: unknown) {
    super(`could not write ${failures.length} object(s): ${failures.join('; ')}`, { cause });
    this.name = 'ChildWriteError';
  }
}

export class AuthPendingError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AuthPendingError';
  }
}

export const CONFLICT_RECHECK_MS = 60_000;
const NAMESPACE_RECHECK_MS = 5_000;

export interface StatusBase {
  tenant: ResolvedTenant;
  generation: number | undefined;
  previous: TenantStatus | undefined;
  auth: AuthState;
  now: Date;
}

interface Publisher {
  home: Pick<KubeWriter, 'patchTenantStatus'>;
  events: EventRecorder;
  t: TenantObject;
}

/** The tenant's namespace is someone else's, or still going away: say so and look again later. */
export async function blockedByNamespace(
  p: Publisher,
  base: StatusBase,
  state: 'conflict' | 'terminating',
  detail: string,
): Promise<ReconcileResult> {
  const status = deriveStatus({
    ...base,
    deleting: false,
    namespace: state,
    ...(state === 'terminating' ? { namespaceDetail: detail } : {}),
    redis: undefined,
    server: undefined,
  });
  await publishStatus(p.home, p.events, p.t, status);
  return { requeueAfterMs: state === 'conflict' ? CONFLICT_RECHECK_MS : NAMESPACE_RECHECK_MS };
}

export interface ObservedTenant {
  namespace: NamespaceState;
  plan: ChildPlan;
  written: ChildrenResult;
  redis: ComponentLook;
  server: ComponentLook;
}

function describeConflict(obj: KubeObject): string {
  const where = obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
  return `${obj.kind} ${where} exists and is not this Tenant's`;
}

/** The workloads as they are after this reconcile's writes. */
export function workloadsOf(r: ResolvedTenant, written: ChildrenResult) {
  return {
    statefulSet: written.after.get(`StatefulSet/${r.namespace}/${names.redis(r.id)}`),
    deployment: written.after.get(`Deployment/${r.namespace}/${names.server(r.id)}`),
  };
}

export async function statusStep(
  p: Publisher,
  base: StatusBase,
  seen: ObservedTenant,
): Promise<ReconcileResult> {
  const r = base.tenant;
  const { written, plan } = seen;
  const { statefulSet, deployment } = workloadsOf(r, written);
  const problem = quotaProblem(r);
  const causes = {
    ...(seen.redis.cause ? { redis: seen.redis.cause } : {}),
    ...(seen.server.cause ? { server: seen.server.cause } : {}),
  };
  const status = deriveStatus({
    ...base,
    deleting: false,
    namespace: seen.namespace,
    redis: statefulSet as Workload | undefined,
    server: deployment as Workload | undefined,
    ...(plan.storageChange ? { storageChange: plan.storageChange } : {}),
    ...(problem ? { quotaProblem: problem } : {}),
    conflicts: written.conflicts.map(describeConflict),
    writeFailures: written.failures,
    causes,
  });
  await publishStatus(p.home, p.events, p.t, status);

  if (written.failures.length > 0) throw new ChildWriteError(written.failures, written.firstError);
  if (base.auth.state === 'unavailable' || base.auth.state === 'rejected')
    throw new AuthPendingError(base.auth.message, undefined);
  if (written.conflicts.length > 0) return { requeueAfterMs: CONFLICT_RECHECK_MS };
  const looks = [seen.redis.againInMs, seen.server.againInMs].filter((ms): ms is number => ms !== undefined);
  return looks.length > 0 ? { requeueAfterMs: Math.min(...looks) } : {};
}
