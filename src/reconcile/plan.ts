/**
 * Decides, from the desired objects and what exists, which writes one reconcile makes. Pure:
 * running it again on the state it produced yields no writes (level-triggered by construction).
 */
import { ANNOTATION_DESIRED_HASH, type RenderedObject } from '../render/meta.ts';
import type { KubeObject } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import { differences } from './compare.ts';
import { type OwnershipMode, type TenantIdentity, isOwnedChild } from './ownership.ts';

/** Why an object is written: first creation, a spec change, or repair of drift. */
export type WriteReason = 'created' | 'updated' | 'drift';

export type Action =
  | {
      type: 'apply';
      object: RenderedObject;
      reason: WriteReason;
      changed: string[];
      /** The object as last seen, when it exists (to repair what apply alone cannot). */
      live?: KubeObject;
    }
  | { type: 'create'; object: RenderedObject; reason: WriteReason }
  | { type: 'delete'; object: KubeObject };

export interface ChildPlan {
  actions: Action[];
  /** Set when a Redis volume size change cannot be applied to existing claims. */
  storageChange?: { current: string; requested: string };
  /** Desired objects whose name is taken by an object that is not this Tenant's (left alone). */
  conflicts: KubeObject[];
}

export interface PlanInput {
  desired: RenderedObject[];
  /** Existing objects that may be this tenant's (carrying its labels), keyed by `objectKey`. */
  live: ReadonlyMap<string, KubeObject>;
  /** The spec changed since the last status was written (so writes are updates, not drift). */
  specChanged: boolean;
  /** Objects the operator creates once and never rewrites (the Redis Secret). */
  isCreateOnly: (obj: RenderedObject) => boolean;
  tenant: TenantIdentity;
  ownership: OwnershipMode;
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

/**
 * A namespace is created with POST, never applied (apply could adopt one a person made meanwhile),
 * and with only what identifies it as ours: what the create sends stays co-owned by that create
 * forever, so an annotation sent then could never be removed by a later apply.
 */
function namespaceCreateBody(ns: RenderedObject): RenderedObject {
  const { annotations, ...metadata } = ns.metadata;
  // The hash is always there (so never removed) and carries every later change of the namespace.
  const hash = annotations?.[ANNOTATION_DESIRED_HASH];
  return {
    ...ns,
    metadata: { ...metadata, ...(hash ? { annotations: { [ANNOTATION_DESIRED_HASH]: hash } } : {}) },
  };
}

/** Annotations besides the desired hash, which only an apply may set. */
const appliedAnnotations = (ns: RenderedObject) =>
  Object.keys(ns.metadata.annotations ?? {}).filter((k) => k !== ANNOTATION_DESIRED_HASH);

const HASH_PATH = `metadata.annotations.${ANNOTATION_DESIRED_HASH}`;

const hashOf = (obj: { metadata: { annotations?: Record<string, string> } }) =>
  obj.metadata.annotations?.[ANNOTATION_DESIRED_HASH];

export function planChildren(input: PlanInput): ChildPlan {
  const actions: Action[] = [];
  const conflicts: KubeObject[] = [];
  const wanted = new Set<string>();
  const ours = (obj: KubeObject) => isOwnedChild(obj, input.tenant, input.ownership);
  let storageChange: ChildPlan['storageChange'];
  for (const original of input.desired) {
    const key = objectKey(original);
    wanted.add(key);
    const live = input.live.get(key);
    if (!live) {
      const reason: WriteReason = input.specChanged ? 'created' : 'drift';
      if (original.kind === 'Namespace') {
        actions.push({ type: 'create', object: namespaceCreateBody(original), reason });
        if (appliedAnnotations(original).length > 0)
          actions.push({ type: 'apply', object: original, reason, changed: ['metadata.annotations'] });
      } else if (input.isCreateOnly(original)) {
        actions.push({ type: 'create', object: original, reason });
      } else {
        actions.push({ type: 'apply', object: original, reason, changed: [] });
      }
      continue;
    }
    if (!ours(live)) {
      conflicts.push(live);
      continue;
    }
    if (input.isCreateOnly(original)) continue;
    let desired = original;
    if (original.kind === 'StatefulSet') {
      desired = structuredClone(original);
      storageChange = keepClaimTemplates(desired, live) ?? storageChange;
    }
    const changed = differences(desired, live).filter((path) => path !== HASH_PATH);
    // Another hash: what is desired changed (the spec, or how this version renders it), perhaps
    // only by dropping a field, which the comparison above cannot see.
    const rerendered = hashOf(original) !== hashOf(live);
    if (changed.length > 0 || rerendered) {
      actions.push({
        type: 'apply',
        object: desired,
        reason: input.specChanged || rerendered ? 'updated' : 'drift',
        changed,
        live,
      });
    }
  }
  for (const [key, live] of input.live) {
    if (wanted.has(key) || live.kind === 'Namespace' || !ours(live)) continue;
    if (live.metadata.deletionTimestamp) continue;
    actions.push({ type: 'delete', object: live });
  }
  return storageChange ? { actions, storageChange, conflicts } : { actions, conflicts };
}
