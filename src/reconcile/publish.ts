/**
 * Writes a Tenant's status (only when it changed) and tells what happened through events: `Running`
 * when the tenant comes up, and one Warning per failure reason when the reason first appears — not
 * on every retry, and not again while any condition still carries it.
 */
import { isDeepStrictEqual } from 'node:util';
import { CONDITION_TYPES, type TenantStatus } from '../api/status.ts';
import type { EventRecorder, EventType } from '../kube/events.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { isNotFound } from '../kube/rest.ts';
import type { TenantObject } from './ports.ts';

/** Condition reasons that need a person's attention: each is announced with a Warning event. */
export const WARNING_REASONS: ReadonlySet<string> = new Set([
  'NamespaceConflict',
  'ObjectConflict',
  'InvalidSpec',
  'QuotaTooSmall',
  'StorageChangeNotApplied',
  'ApplyFailed',
  'AuthServiceUnavailable',
  'AuthServiceRejected',
  'PodUnschedulable',
  'ImagePullFailed',
  'CrashLoopBackOff',
  'FailedCreate',
  'ProgressDeadlineExceeded',
  'NoClusterAvailable',
  'TenantIdConflict',
  'PlacementChangeNotApplied',
  'MemberClusterMissing',
  'ClusterUnreachable',
]);

export function tenantEvent(
  events: EventRecorder,
  t: TenantObject,
  type: EventType,
  reason: string,
  message: string,
): Promise<void> {
  return events.record(
    { name: t.metadata.name, ...(t.metadata.uid ? { uid: t.metadata.uid } : {}) },
    type,
    reason,
    message,
  );
}

/** Warnings for reasons that `next` carries and `previous` did not, one per reason. */
export function newWarnings(
  previous: TenantStatus | undefined,
  next: TenantStatus,
): Array<{ reason: string; message: string }> {
  const known = new Set((previous?.conditions ?? []).map((c) => c.reason));
  const out: Array<{ reason: string; message: string }> = [];
  for (const c of next.conditions ?? []) {
    if (!WARNING_REASONS.has(c.reason) || known.has(c.reason)) continue;
    known.add(c.reason);
    out.push({ reason: c.reason, message: c.message });
  }
  return out;
}

const DERIVED_CONDITIONS: ReadonlySet<string> = new Set(CONDITION_TYPES);

/**
 * What a status derived from the cluster cannot know and must not drop: where the tenant was
 * placed (decided once, never changed: SPEC §10.2) and the conditions it does not derive (e.g.
 * `Scheduled`), both carried over from the previous status.
 */
export function carryForward(previous: TenantStatus | undefined, status: TenantStatus): TenantStatus {
  const kept = (previous?.conditions ?? []).filter(
    (c) => !DERIVED_CONDITIONS.has(c.type) && !status.conditions?.some((n) => n.type === c.type),
  );
  if (!previous?.placement && kept.length === 0) return status;
  return {
    ...status,
    ...(previous?.placement && !status.placement ? { placement: previous.placement } : {}),
    ...(kept.length > 0 ? { conditions: [...(status.conditions ?? []), ...kept] } : {}),
  };
}

/**
 * Writes `status` when it differs from the Tenant's, then records the events its transitions call
 * for. Resolves with the Tenant as written (its resourceVersion moved), or undefined when nothing
 * was written (unchanged, or the Tenant is gone).
 */
export async function publishStatus(
  writer: Pick<KubeWriter, 'patchTenantStatus'>,
  events: EventRecorder,
  t: TenantObject,
  status: TenantStatus,
  /** Write only if the Tenant is still at this version (409 otherwise). */
  options: { guarded?: boolean } = {},
): Promise<KubeObject | undefined> {
  const previous = t.status;
  status = carryForward(previous, status);
  if (isDeepStrictEqual(previous ?? {}, status)) return undefined;
  const patch: Record<string, unknown> = { ...status };
  for (const key of Object.keys(previous ?? {})) if (!(key in status)) patch[key] = null;
  let written: KubeObject;
  try {
    written = await writer.patchTenantStatus(
      t.metadata.name,
      patch,
      options.guarded ? t.metadata.resourceVersion : undefined,
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  if (status.phase === 'Running' && previous?.phase !== 'Running') {
    await tenantEvent(events, t, 'Normal', 'Running', 'Tenant is running');
  }
  for (const warning of newWarnings(previous, status)) {
    await tenantEvent(events, t, 'Warning', warning.reason, warning.message);
  }
  return written;
}
