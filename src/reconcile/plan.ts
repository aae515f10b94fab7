/**
 * Decides, from the desired objects and what exists, which writes one reconcile makes. Pure:
 * running it again on the state it produced yields no writes (level-triggered by construction).
 */
import type { RenderedObject } from '../render/meta.ts';
import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../render/meta.ts';
import type { KubeObject } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import { differences } from './compare.ts';

/** Why an object is written: first creation, a spec change, or repair of drift. */
export type WriteReason = 'created' | 'updated' | 'drift';

export type Action =
  | { type: 'apply'; object: RenderedObject; reason: WriteReason; changed: string[] }
  | { type: 'create'; object: RenderedObject; reason: WriteReason }
  | { type: 'delete'; object: KubeObject };

export interface ChildPlan {
  actions: Action[];
  /** Set when a Redis volume size change cannot be applied to existing claims. */
  storageChange?: { current: string; requested: string };
}

export interface PlanInput {
  desired: RenderedObject[];
  /** Every existing object labelled as this tenant's, keyed by `objectKey`. */
  live: ReadonlyMap<string, KubeObject>;
  /** The spec changed since the last status was written (so writes are updates, not drift). */
  specChanged: boolean;
  /** Objects the operator creates once and never rewrites (the Redis Secret). */
  isCreateOnly: (obj: RenderedObject) => boolean;
  tenantId: string;
}

type ClaimTemplate = {
  spec?: { resources?: { requests?: { storage?: string } }; storageClassName?: string };
};

/** Claim templates cannot change: keep the existing size and class, and say so. */
function keepClaimTemplates(desired: RenderedObject, live: KubeObject): ChildPlan['storageChange'] {
  const desiredTemplates =
    (desired.spec as { volumeClaimTemplates?: ClaimTemplate[] }).volumeClaimTemplates ?? [];
  const liveTemplates =
    (live.spec as { volumeClaimTemplates?: ClaimTemplate[] } | undefined)?.volumeClaimTemplates ?? [];
  let change: ChildPlan['storageChange'];
  desiredTemplates.forEach((template, i) => {
    const existing = liveTemplates[i];
    const requests = template.spec?.resources?.requests;
    const current = existing?.spec?.resources?.requests?.storage;
    if (!existing?.spec || !requests || current === undefined) return;
    if (differences({ requests }, { requests: { storage: current } }).length > 0) {
      change = { current, requested: String(requests.storage) };
      requests.storage = current;
    }
    if (existing.spec.storageClassName !== undefined)
      template.spec!.storageClassName = existing.spec.storageClassName;
    else if (template.spec) delete template.spec.storageClassName;
  });
  return change;
}

export function isOwnedChild(obj: KubeObject, tenantId: string): boolean {
  const labels = obj.metadata.labels ?? {};
  return labels[LABEL_MANAGED_BY] === MANAGED_BY && labels[LABEL_TENANT] === tenantId;
}

export function planChildren(input: PlanInput): ChildPlan {
  const actions: Action[] = [];
  const wanted = new Set<string>();
  let storageChange: ChildPlan['storageChange'];
  for (const original of input.desired) {
    const key = objectKey(original);
    wanted.add(key);
    const live = input.live.get(key);
    if (!live) {
      const reason: WriteReason = input.specChanged ? 'created' : 'drift';
      // A namespace is created, never applied: apply could adopt one made by someone else meanwhile.
      const createOnly = input.isCreateOnly(original) || original.kind === 'Namespace';
      actions.push(
        createOnly
          ? { type: 'create', object: original, reason }
          : { type: 'apply', object: original, reason, changed: [] },
      );
      continue;
    }
    if (input.isCreateOnly(original)) continue;
    let desired = original;
    if (original.kind === 'StatefulSet') {
      desired = structuredClone(original);
      storageChange = keepClaimTemplates(desired, live) ?? storageChange;
    }
    const changed = differences(desired, live);
    if (changed.length > 0) {
      actions.push({
        type: 'apply',
        object: desired,
        reason: input.specChanged ? 'updated' : 'drift',
        changed,
      });
    }
  }
  for (const [key, live] of input.live) {
    if (wanted.has(key) || live.kind === 'Namespace' || !isOwnedChild(live, input.tenantId)) continue;
    if (live.metadata.deletionTimestamp) continue;
    actions.push({ type: 'delete', object: live });
  }
  return storageChange ? { actions, storageChange } : { actions };
}
