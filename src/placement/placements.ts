/**
 * The placement decisions known to this process: every Tenant's `status.placement` in the cache,
 * and the decisions written but not yet seen there. Counting both is what keeps two Tenants
 * placed at once (by two workers, or before the watch brings the first write back) from
 * overfilling a member. A decision and its count are taken in one synchronous step, so no other
 * worker can decide in between.
 */
import { isMemberReady } from '../members/member-status.ts';
import type { MemberClusterObject } from '../members/member-controller.ts';
import { type MemberView, type PlacementDecision, type PlacementRequest, place } from './placement.ts';

interface PlacedTenant {
  metadata: { name: string };
  status?: { placement?: { clusterName?: string } };
}

export class Placements {
  readonly #tenants: () => readonly PlacedTenant[];
  /** Tenant name → member, written but maybe not yet in the cache. */
  readonly #pending = new Map<string, string>();

  constructor(tenants: () => readonly PlacedTenant[]) {
    this.#tenants = tenants;
  }

  /** Tenants placed on each member, the decisions not yet cached included. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    for (const t of this.#tenants()) {
      const cluster = t.status?.placement?.clusterName;
      const name = t.metadata.name;
      seen.add(name);
      if (cluster) {
        this.#pending.delete(name);
        counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
      } else {
        const pending = this.#pending.get(name);
        if (pending) counts.set(pending, (counts.get(pending) ?? 0) + 1);
      }
    }
    // A decision for a Tenant the cache does not hold yet (or any more) counts until it is seen.
    for (const [name, cluster] of this.#pending)
      if (!seen.has(name)) counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
    return counts;
  }

  /** Decides where `tenant` goes and holds that decision as taken until the cache shows it. */
  decide(
    tenant: string,
    request: PlacementRequest,
    members: readonly MemberClusterObject[],
  ): PlacementDecision {
    const counts = this.counts();
    const decision = place(
      request,
      members.map((m) => memberView(m, counts.get(m.metadata.name) ?? 0)),
    );
    if (decision.placed) this.#pending.set(tenant, decision.clusterName);
    return decision;
  }

  /** The write of a decision failed (or the Tenant went away): it no longer counts. */
  forget(tenant: string): void {
    this.#pending.delete(tenant);
  }
}

export function memberView(m: MemberClusterObject, placed: number): MemberView {
  const ready = m.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: m.metadata.name,
    labels: m.metadata.labels ?? {},
    ready: isMemberReady(m.status),
    ...(ready && ready.status !== 'True'
      ? { notReadyReason: ready.reason }
      : ready
        ? {}
        : { notReadyReason: 'NotProbedYet' }),
    unschedulable: m.spec?.unschedulable === true,
    deleting: m.metadata.deletionTimestamp !== undefined,
    ...(m.spec?.maxTenants !== undefined ? { maxTenants: m.spec.maxTenants } : {}),
    placed,
  };
}
