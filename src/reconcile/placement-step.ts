/**
 * The placement step (SPEC §10.2): with MemberClusters present, a Tenant is placed before anything
 * is made for it, and the decision (`status.placement`, condition `Scheduled`) is written first, so
 * a crash can never place it twice. The decision is sticky: a later change of `spec.placement` is
 * reported (`PlacementChangeNotApplied`, a Warning) and not applied. With no MemberCluster at all,
 * the step does nothing and the tenant lives on the operator's own cluster, as it always has.
 */
import type { Condition, TenantStatus } from '../api/status.ts';
import type { MemberClusterObject } from '../members/member-controller.ts';
import type { Placements } from '../placement/placements.ts';
import type { PlacementRequest } from '../placement/placement.ts';
import { matchesSelector } from '../placement/selector.ts';
import type { TenantObject } from './ports.ts';
import { nextCondition } from './status.ts';

export interface PlacementPort {
  /** The MemberClusters as cached, or undefined while that cache is still loading. */
  members(): readonly MemberClusterObject[] | undefined;
  placements: Placements;
}

export type PlacementOutcome =
  /** No MemberCluster: the operator's own cluster, no placement recorded. */
  | { kind: 'home'; status?: undefined }
  /** Placed (now or before) on this member. */
  | { kind: 'placed'; clusterName: string; member: MemberClusterObject | undefined; status?: TenantStatus }
  /** Not placed: `status` says why (written by the caller); try again after `requeueAfterMs`. */
  | { kind: 'unplaced'; status?: TenantStatus; requeueAfterMs: number };

export const PLACEMENT_RETRY_MS = 30_000;
const MEMBERS_LOADING_RETRY_MS = 500;

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function withConditions(
  previous: TenantStatus | undefined,
  generation: number | undefined,
  at: Date,
  set: Array<Pick<Condition, 'type' | 'status' | 'reason' | 'message'>>,
): Condition[] {
  const types = new Set(set.map((c) => c.type));
  const others = (previous?.conditions ?? []).filter((c) => !types.has(c.type));
  const written = set.map((c) =>
    nextCondition(
      previous?.conditions?.find((p) => p.type === c.type),
      c.type as Condition['type'],
      { status: c.status, reason: c.reason, message: c.message },
      at,
      generation,
    ),
  );
  return [...written, ...others];
}

/** Why a decision already made no longer matches `spec.placement`, if it does not. */
function placementDrift(
  request: PlacementRequest,
  clusterName: string,
  member: MemberClusterObject | undefined,
): string | undefined {
  if (request.clusterName !== undefined && request.clusterName !== clusterName)
    return `spec.placement.clusterName asks for ${request.clusterName}`;
  if (
    request.clusterSelector &&
    member &&
    !matchesSelector(member.metadata.labels ?? {}, request.clusterSelector)
  )
    return `spec.placement.clusterSelector no longer matches ${clusterName}`;
  return undefined;
}

export interface PlacementInput {
  t: TenantObject;
  request: PlacementRequest;
  port: PlacementPort;
  /** The tenant id its children are named by. */
  tenantId: string;
  /** The tenant namespace exists on the operator's own cluster and is this Tenant's (made before any MemberCluster). */
  provisionedAtHome: boolean;
  now: Date;
}

/** The MemberCluster that stands for the operator's own cluster (no kubeconfig Secret), the first by name. */
export function memberForHome(members: readonly MemberClusterObject[]): MemberClusterObject | undefined {
  return members
    .filter((m) => !m.spec?.kubeconfigSecretRef && !m.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))[0];
}

export function placementStep(input: PlacementInput): PlacementOutcome {
  const { t, request, port, now } = input;
  const generation = t.metadata.generation;
  const decided = t.status?.placement;
  const members = port.members();
  if (decided) {
    const member = members?.find((m) => m.metadata.name === decided.clusterName);
    const drift = placementDrift(request, decided.clusterName, member);
    const scheduled = drift
      ? {
          type: 'Scheduled',
          status: 'True' as const,
          reason: 'PlacementChangeNotApplied',
          message: `${drift}; the tenant stays on ${decided.clusterName}: a tenant is never moved with its data`,
        }
      : {
          type: 'Scheduled',
          status: 'True' as const,
          reason: 'Placed',
          message: `placed on ${decided.clusterName}: ${decided.reason}`,
        };
    const before = t.status?.conditions?.find((c) => c.type === 'Scheduled');
    const same =
      before &&
      before.status === scheduled.status &&
      before.reason === scheduled.reason &&
      before.message === scheduled.message;
    return {
      kind: 'placed',
      clusterName: decided.clusterName,
      member,
      ...(same
        ? {}
        : { status: { ...t.status, conditions: withConditions(t.status, generation, now, [scheduled]) } }),
    };
  }
  if (members === undefined) return { kind: 'unplaced', requeueAfterMs: MEMBERS_LOADING_RETRY_MS };
  if (members.length === 0) return { kind: 'home' };
  if (input.provisionedAtHome) {
    // Made here before any MemberCluster: it stays. A MemberCluster without a kubeconfig Secret
    // is this very cluster, so the tenant is recorded there, counted against its maxTenants.
    const self = memberForHome(members);
    if (!self) return { kind: 'home' };
    port.placements.adopt(t.metadata.name, input.tenantId, self.metadata.name);
    return placedOn(t, self, 'made on the management cluster before it was a MemberCluster', now);
  }

  const decision = port.placements.decide(t.metadata.name, input.tenantId, request, members);
  if (decision.placed) {
    const member = members.find((m) => m.metadata.name === decision.clusterName);
    return placedOn(t, member ?? decision.clusterName, decision.reason, now);
  }
  if ('idTakenBy' in decision)
    return refused(t, 'Failed', 'TenantIdConflict', `not placed: ${decision.message}`, now);
  return refused(
    t,
    'Pending',
    'NoClusterAvailable',
    `no member cluster can take the tenant: ${decision.message}`,
    now,
  );
}

/**
 * A tenant that cannot be placed now: `Ready` and `Scheduled` say why, looked at again later. The
 * status carries no observedGeneration: nothing was made for this generation yet, so the first
 * provisioning, once placed, is a spec change (Created events), not drift.
 */
function refused(
  t: TenantObject,
  phase: 'Pending' | 'Failed',
  reason: string,
  message: string,
  now: Date,
): PlacementOutcome {
  return {
    kind: 'unplaced',
    requeueAfterMs: PLACEMENT_RETRY_MS,
    status: {
      ...t.status,
      phase,
      conditions: withConditions(t.status, t.metadata.generation, now, [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Scheduled', status: 'False', reason, message },
      ]),
    },
  };
}

/** The outcome of a new decision: `status.placement` and `Scheduled`, to be written before anything else. */
function placedOn(
  t: TenantObject,
  member: MemberClusterObject | string,
  reason: string,
  now: Date,
): PlacementOutcome {
  const clusterName = typeof member === 'string' ? member : member.metadata.name;
  const status: TenantStatus = {
    ...t.status,
    placement: { clusterName, reason, time: iso(now) },
    conditions: withConditions(t.status, t.metadata.generation, now, [
      { type: 'Scheduled', status: 'True', reason: 'Placed', message: `placed on ${clusterName}: ${reason}` },
    ]),
  };
  return { kind: 'placed', clusterName, member: typeof member === 'string' ? undefined : member, status };
}

/** Status of a tenant placed on a member that is no MemberCluster any more: nothing can be done there. */
export function missingMemberStatus(t: TenantObject, clusterName: string, now: Date): TenantStatus {
  const message = `placed on ${clusterName}, which is no MemberCluster any more: recreate the MemberCluster ${clusterName} (with its kubeconfig Secret), or delete the tenant`;
  return {
    ...t.status,
    phase: 'Pending',
    ...(t.metadata.generation !== undefined ? { observedGeneration: t.metadata.generation } : {}),
    conditions: withConditions(t.status, t.metadata.generation, now, [
      { type: 'Ready', status: 'False', reason: 'MemberClusterMissing', message },
    ]),
  };
}

/**
 * Status of a tenant whose member does not answer (SPEC §10.4): its last known state stays,
 * `Ready=Unknown` says why, a Running tenant shows as Degraded, and nothing is sent to the member
 * until it is Ready again.
 */
export function unreachableStatus(
  t: TenantObject,
  clusterName: string,
  why: string,
  now: Date,
): TenantStatus {
  const phase = t.status?.phase === 'Running' ? 'Degraded' : (t.status?.phase ?? 'Pending');
  return {
    ...t.status,
    phase,
    conditions: withConditions(t.status, t.metadata.generation, now, [
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'ClusterUnreachable',
        message: `member cluster ${clusterName} cannot be reached (${why}); the tenant keeps its last known state and recovers by itself when the member answers again`,
      },
    ]),
  };
}
