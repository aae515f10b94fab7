/**
 * The placement decisions known to this process: every Tenant's `status.placement` in the cache,
 * and the decisions written but not yet seen there. Counting both is what keeps two Tenants
 * placed at once (by two workers, or before the watch brings the first write back) from
 * overfilling a member, or from both taking one tenant id onto two members. A decision and its
 * count are taken in one synchronous step, so no other worker can decide in between.
 */
import { cachedTenantId } from '../api/tenant.ts';
import { isMemberReady } from '../members/member-status.ts';
import type { MemberClusterObject } from '../members/member-controller.ts';
import { FINALIZER } from '../render/meta.ts';
import { type MemberView, type PlacementDecision, type PlacementRequest, place } from './placement.ts';

interface PlacedTenant {
  metadata: { name: string; finalizers?: string[]; creationTimestamp?: string };
  spec?: unknown;
  status?: { placement?: { clusterName?: string } };
}

/** Where a tenant id is taken: by which Tenant, on which member (undefined: the management cluster). */
export interface IdHolder {
  tenant: string;
  clusterName: string | undefined;
}

export type Decision = PlacementDecision | { placed: false; idTakenBy: IdHolder; message: string };

interface Survey {
  counts: Map<string, number>;
  holder: IdHolder | undefined;
}

/** Sorts Tenants oldest first (RFC 3339 times compare as text), then by name; no time sorts last. */
const age = (created: string | undefined, name: string) => `${created || '~'}\n${name}`;

export class Placements {
  readonly #tenants: () => readonly PlacedTenant[];
  /** Tenant name → member and tenant id, written but maybe not yet in the cache. */
  readonly #pending = new Map<string, { clusterName: string; id: string }>();

  constructor(tenants: () => readonly PlacedTenant[]) {
    this.#tenants = tenants;
  }

  /**
   * Tenants placed on each member (decisions not yet cached included) and, when `id` is given,
   * another Tenant holding it: placed, about to be, or living on the management cluster (our
   * finalizer and no placement: made there before any MemberCluster).
   */
  #survey(id?: string, self?: string): Survey {
    const counts = new Map<string, number>();
    let holder: IdHolder | undefined;
    let selfCreated: string | undefined;
    const atHome: Array<{ name: string; created: string }> = [];
    const seen = new Set<string>();
    const take = (name: string, clusterName: string | undefined, tenantId: string) => {
      if (id !== undefined && !holder && name !== self && tenantId === id)
        holder = { tenant: name, clusterName };
    };
    for (const t of this.#tenants()) {
      const name = t.metadata.name;
      seen.add(name);
      if (name === self) selfCreated = t.metadata.creationTimestamp;
      const cluster = t.status?.placement?.clusterName;
      if (cluster) {
        this.#pending.delete(name);
        counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
        if (id !== undefined) take(name, cluster, cachedTenantId(t));
        continue;
      }
      const pending = this.#pending.get(name);
      if (pending) {
        counts.set(pending.clusterName, (counts.get(pending.clusterName) ?? 0) + 1);
        take(name, pending.clusterName, pending.id);
      } else if (
        id !== undefined &&
        name !== self &&
        (t.metadata.finalizers ?? []).includes(FINALIZER) &&
        cachedTenantId(t) === id
      ) {
        atHome.push({ name, created: t.metadata.creationTimestamp ?? '' });
      }
    }
    // A decision for a Tenant the cache does not hold yet (or any more) counts until it is seen.
    for (const [name, pending] of this.#pending) {
      if (seen.has(name)) continue;
      counts.set(pending.clusterName, (counts.get(pending.clusterName) ?? 0) + 1);
      take(name, pending.clusterName, pending.id);
    }
    // Living here unplaced, it holds the id against younger Tenants only: two such Tenants of one
    // id (neither owning its namespace here, or they would stay home) must not block each other.
    if (!holder && self !== undefined) {
      const mine = age(selfCreated, self);
      const older = atHome.find((h) => age(h.created, h.name) < mine);
      if (older) holder = { tenant: older.name, clusterName: undefined };
    }
    return { counts, holder };
  }

  /** The Tenant other than `tenant` that holds tenant id `id`, if any (as `decide` would find it). */
  holderOf(tenant: string, id: string): IdHolder | undefined {
    return this.#survey(id, tenant).holder;
  }

  /** Tenants placed on each member, the decisions not yet cached included. */
  counts(): Map<string, number> {
    return this.#survey().counts;
  }

  /**
   * Decides where `tenant` (with tenant id `id`) goes and holds that decision as taken until the
   * cache shows it. An id another Tenant holds is refused: its namespace, and its registration
   * with the Auth service, are that Tenant's, as on one cluster.
   */
  decide(
    tenant: string,
    id: string,
    request: PlacementRequest,
    members: readonly MemberClusterObject[],
  ): Decision {
    const { counts, holder } = this.#survey(id, tenant);
    if (holder) {
      const where = holder.clusterName ? `placed on ${holder.clusterName}` : 'on the management cluster';
      return {
        placed: false,
        idTakenBy: holder,
        message: `tenant id ${id} is already used by Tenant ${holder.tenant} (${where}); delete ${holder.tenant}, or delete this Tenant and create it again with another spec.tenantId`,
      };
    }
    const decision = place(
      request,
      members.map((m) => memberView(m, counts.get(m.metadata.name) ?? 0)),
    );
    if (decision.placed) this.#pending.set(tenant, { clusterName: decision.clusterName, id });
    return decision;
  }

  /**
   * Records a tenant already living on `clusterName` (made on the management cluster before the
   * MemberCluster that stands for it existed): it counts there from now on, whatever the capacity.
   */
  adopt(tenant: string, id: string, clusterName: string): void {
    this.#pending.set(tenant, { clusterName, id });
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
