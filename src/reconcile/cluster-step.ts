/**
 * Which cluster a tenant lives on, and whether it can be written there now: the operator's own
 * cluster while there is no MemberCluster, else the member it is placed on (SPEC §10). A new
 * decision is taken from the API server's copy of the Tenant and written, guarded by its
 * resourceVersion, before anything else, so a tenant is placed once; a member that is missing or
 * does not answer gets no request, and the tenant's status says so.
 */
import type { Logger } from 'pino';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeWriter } from '../kube/objects.ts';
import { isConflict } from '../kube/rest.ts';
import type { MemberClusterObject } from '../members/member-controller.ts';
import type { PendingCleanup } from './member-deletion.ts';
import { isOwnedNamespace } from './ownership.ts';
import {
  PLACEMENT_RETRY_MS,
  type PlacementPort,
  memberForHome,
  missingMemberStatus,
  placementStep,
  unreachableStatus,
} from './placement-step.ts';
import type { PlacementRequest } from '../placement/placement.ts';
import type { ClusterChoice, ReconcileResult, TenantCluster, TenantObject } from './ports.ts';
import { publishStatus } from './publish.ts';

/** Placement over MemberClusters, as the reconciler is handed it. */
export interface MemberPlacement extends PlacementPort {
  /** Where the tenants of a member can be written now. */
  clusterFor(clusterName: string, member: MemberClusterObject | undefined): ClusterChoice;
  /** Deletion of a tenant whose member does not answer gives up waiting after this long. */
  memberCleanupTimeoutMs: number;
  /** Records a namespace to delete on a member when it answers again (its status.pendingCleanup). */
  deferCleanup(clusterName: string, entry: PendingCleanup): Promise<void>;
}

export const RECHECK_AT_ONCE_MS = 1;
export const MEMBER_UNKNOWN_RETRY_MS = 1_000;
const MEMBER_MISSING_RECHECK_MS = 60_000;
const MEMBER_UNREACHABLE_RETRY_MS = 10_000;

/** Where a tenant placed before lives now; undefined when it is not placed (the home cluster). */
export function clusterOfPlaced(
  t: TenantObject,
  placement: MemberPlacement | undefined,
): { clusterName: string; choice: ClusterChoice } | undefined {
  const clusterName = t.status?.placement?.clusterName;
  if (!clusterName || !placement) return undefined;
  const members = placement.members();
  // MemberClusters not loaded yet: a placed tenant's member is not "missing", just not known.
  if (members === undefined) return { clusterName, choice: { kind: 'unknown' } };
  const member = members.find((m) => m.metadata.name === clusterName);
  return { clusterName, choice: placement.clusterFor(clusterName, member) };
}

export interface ClusterStepInput {
  t: TenantObject;
  namespace: string;
  id: string;
  request: PlacementRequest;
  placement: MemberPlacement | undefined;
  homeCluster: TenantCluster;
  home: Pick<KubeWriter, 'patchTenantStatus' | 'get'>;
  events: EventRecorder;
  now: () => Date;
  log: Logger;
}

export type ClusterStepOutcome =
  | { kind: 'cluster'; t: TenantObject; cluster: TenantCluster }
  /** Nothing more to do now: come back as `result` says. */
  | { kind: 'stop'; result: ReconcileResult };

export async function clusterStep(input: ClusterStepInput): Promise<ClusterStepOutcome> {
  const { placement, homeCluster, home, events, now, log } = input;
  let t = input.t;
  if (!placement) return { kind: 'cluster', t, cluster: homeCluster };
  const stop = (result: ReconcileResult): ClusterStepOutcome => ({ kind: 'stop', result });

  const ns = homeCluster.observed.namespace(input.namespace);
  const provisionedAtHome =
    ns !== undefined &&
    isOwnedNamespace(
      ns,
      { uid: t.metadata.uid, id: input.id, namespace: input.namespace },
      homeCluster.ownership,
    );
  const members = placement.members() ?? [];
  const staysHome = provisionedAtHome && !memberForHome(members);
  if (!t.status?.placement && members.length > 0 && !staysHome) {
    // Still refused for its id, held by the same Tenant: nothing to read or to write again.
    const scheduled = t.status?.conditions?.find((c) => c.type === 'Scheduled');
    const holder =
      scheduled?.reason === 'TenantIdConflict'
        ? placement.placements.holderOf(t.metadata.name, input.id)
        : undefined;
    if (holder && scheduled?.message.includes(`Tenant ${holder.tenant} (`))
      return stop({ requeueAfterMs: PLACEMENT_RETRY_MS });
    // A decision is taken from the API server's copy, never from a cache that may be behind an
    // earlier one, and written only if that copy is still current: a tenant is placed once.
    const live = (await home.get({ kind: 'Tenant', name: t.metadata.name })) as TenantObject | undefined;
    if (!live || live.metadata.uid !== t.metadata.uid) return stop({});
    t = live;
  }
  const outcome = placementStep({
    t,
    request: input.request,
    port: placement,
    tenantId: input.id,
    provisionedAtHome,
    now: now(),
  });
  const newDecision = outcome.kind === 'placed' && !t.status?.placement;
  if (outcome.status) {
    try {
      const written = await publishStatus(home, events, t, outcome.status, { guarded: newDecision });
      if (written) t = { ...t, ...(written as TenantObject) };
    } catch (error) {
      if (newDecision) placement.placements.forget(t.metadata.name);
      // The Tenant changed since it was read: decide again from its new copy.
      if (newDecision && isConflict(error)) return stop({ requeueAfterMs: RECHECK_AT_ONCE_MS });
      throw error;
    }
    if (newDecision && !t.status?.placement) {
      // Not written (the Tenant is gone): the decision must not keep counting.
      placement.placements.forget(t.metadata.name);
      return stop({});
    }
    if (newDecision) {
      log.info({ cluster: outcome.clusterName }, 'placed the tenant');
      // Free the worker: in a burst every tenant is placed first, quickly, then provisioned.
      return stop({ requeueAfterMs: RECHECK_AT_ONCE_MS });
    }
  }
  if (outcome.kind === 'unplaced') return stop({ requeueAfterMs: outcome.requeueAfterMs });
  if (outcome.kind === 'home') return { kind: 'cluster', t, cluster: homeCluster };

  const choice = placement.clusterFor(outcome.clusterName, outcome.member);
  switch (choice.kind) {
    case 'ready':
      return { kind: 'cluster', t, cluster: choice.cluster };
    case 'unknown':
      return stop({ requeueAfterMs: MEMBER_UNKNOWN_RETRY_MS });
    case 'missing':
      await publishStatus(home, events, t, missingMemberStatus(t, outcome.clusterName, now()));
      return stop({ requeueAfterMs: MEMBER_MISSING_RECHECK_MS });
    case 'unreachable':
      await publishStatus(home, events, t, unreachableStatus(t, outcome.clusterName, choice.message, now()));
      return stop({ requeueAfterMs: MEMBER_UNREACHABLE_RETRY_MS });
  }
}
