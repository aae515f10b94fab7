/**
 * The writes of the children step: carries out the plan on the tenant's cluster, in order, and reports
 * what each write really did — what was created, updated, restored or pruned, what failed (in
 * words stable for the same cause), and which desired names are taken by objects not ours.
 */
import type { Logger } from 'pino';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { isAlreadyExists } from '../kube/rest.ts';
import { objectKey } from '../kube/resources.ts';
import type { RenderedObject } from '../render/meta.ts';
import type { WriteOutcome } from './announce.ts';
import { applyChild } from './apply-child.ts';
import { describeObject } from './describe.ts';
import { type OwnershipMode, type TenantIdentity, isOwnedChild } from './ownership.ts';
import type { Action, ChildPlan } from './plan.ts';
import { describeWriteError } from './write-errors.ts';

export interface ChildrenResult extends WriteOutcome {
  /** The tenant's children as they are after the writes, by `objectKey`. */
  after: Map<string, KubeObject>;
  failures: string[];
  firstError: unknown;
  conflicts: KubeObject[];
  /** This reconcile created the namespace. */
  namespaceCreated: boolean;
  /** Someone else made the namespace between our read and our create: look again at once. */
  namespaceRace: boolean;
}

export interface ChildrenInput {
  plan: ChildPlan;
  live: ReadonlyMap<string, KubeObject>;
  writer: KubeWriter;
  tenant: TenantIdentity;
  ownership: OwnershipMode;
  /** When this reconcile started: an object created before it existed already. */
  startedAt: Date;
  log: Logger;
}

/** Objects are stamped with whole seconds; anything older than this before the reconcile existed. */
const CREATION_SLACK_MS = 2_000;

function existedBefore(obj: KubeObject, startedAt: Date): boolean {
  const created = Date.parse(String(obj.metadata.creationTimestamp ?? ''));
  return Number.isFinite(created) && created < startedAt.getTime() - CREATION_SLACK_MS;
}

function driftDetail(action: Action): string {
  return action.type === 'apply' && action.changed.length > 0
    ? `changed ${action.changed.slice(0, 3).join(', ')}`
    : 'it was missing';
}

export async function writeChildren(input: ChildrenInput): Promise<ChildrenResult> {
  const { writer, log } = input;
  const result: ChildrenResult = {
    after: new Map(input.live),
    created: [],
    added: [],
    updated: [],
    restored: [],
    pruned: [],
    failures: [],
    firstError: undefined,
    conflicts: [...input.plan.conflicts],
    namespaceCreated: false,
    namespaceRace: false,
  };

  const record = (action: Action, written: KubeObject): void => {
    const absent = !input.live.has(objectKey(action.object));
    if (absent && existedBefore(written, input.startedAt)) return; // it was there; not ours to announce
    if (action.type === 'delete') return;
    if (action.reason === 'drift')
      result.restored.push({ object: action.object, detail: driftDetail(action) });
    else if (!absent) result.updated.push(action.object);
    // New with the tenant, or new because the spec now asks for it (a PDB after scaling up).
    else if (result.namespaceCreated) result.created.push(action.object);
    else result.added.push(action.object);
  };

  /** A create refused because the object exists: ours (the cache was behind) or someone else's. */
  const settleExisting = async (object: RenderedObject): Promise<void> => {
    const existing = await writer.get(
      { kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace },
      { metadataOnly: true },
    );
    if (!existing) throw new Error(`${describeObject(object)} was reported as existing and then not found`);
    const typed = { ...existing, kind: object.kind, apiVersion: object.apiVersion };
    if (isOwnedChild(typed, input.tenant, input.ownership)) result.after.set(objectKey(object), typed);
    else result.conflicts.push(typed);
  };

  for (const action of input.plan.actions) {
    const key = objectKey(action.object);
    try {
      if (action.type === 'delete') {
        const { kind, metadata } = action.object;
        const left = await writer.delete(
          { kind, name: metadata.name, namespace: metadata.namespace },
          {
            ...(metadata.uid ? { uid: metadata.uid } : {}),
            ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
          },
        );
        if (left) result.after.set(key, left);
        else result.after.delete(key);
        result.pruned.push(action.object);
        continue;
      }
      if (action.type === 'create') {
        let written: KubeObject;
        try {
          written = await writer.create(action.object as KubeObject);
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
          if (action.object.kind === 'Namespace') {
            result.namespaceRace = true;
            return result;
          }
          await settleExisting(action.object);
          continue;
        }
        result.after.set(key, written);
        if (action.object.kind === 'Namespace') result.namespaceCreated = true;
        record(action, written);
        continue;
      }
      const written = await applyChild(writer, action.object, action.live ?? result.after.get(key));
      result.after.set(key, written);
      // The apply that completes a namespace just created is part of creating it.
      if (action.object.kind === 'Namespace' && result.namespaceCreated) continue;
      record(action, written);
    } catch (error) {
      result.firstError ??= error;
      result.failures.push(`${describeObject(action.object)}: ${describeWriteError(error)}`);
      log.warn({ err: error, object: key }, 'write failed');
      if (action.object.kind === 'Namespace') break;
    }
  }
  if (input.plan.actions.length > 0)
    log.info({ writes: input.plan.actions.length, failed: result.failures.length }, 'applied changes');
  return result;
}
