/**
 * Brings one existing-or-absent child to its desired state with server-side apply, and only
 * server-side apply owns its fields: what apply alone cannot fix — entries another field manager
 * added to a list the operator owns — is removed with a guarded JSON patch (see
 * foreign-entries.ts), which takes no field ownership. The object therefore keeps exactly one
 * managedFields entry of the operator's, so anything later dropped from the spec is pruned.
 */
import type { KubeObject, KubeWriter, ObjectRef } from '../kube/objects.ts';
import { isInvalid } from '../kube/rest.ts';
import { FIELD_MANAGER, type RenderedObject } from '../render/meta.ts';
import { differences } from './compare.ts';
import {
  type ForeignEntries,
  foreignEntries,
  listReplacements,
  ownUpdateEntryRemoval,
} from './foreign-entries.ts';

/** Made with POST: their create is an Update entry that owns what identifies them, by design. */
const CREATED_KINDS = new Set(['Namespace', 'Secret']);

function refOf(obj: RenderedObject | KubeObject): ObjectRef {
  const { kind, metadata } = obj;
  return { kind, name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) };
}

/** Remove the foreign entries; where that alone would leave an invalid object, replace their lists. */
async function removeForeign(
  writer: KubeWriter,
  desired: RenderedObject,
  found: ForeignEntries,
): Promise<KubeObject> {
  try {
    return await writer.jsonPatch(refOf(desired), found.removals);
  } catch (error) {
    if (!isInvalid(error)) throw error;
    return writer.jsonPatch(refOf(desired), listReplacements(found));
  }
}

/** Drop an Update entry of the operator's, so that its apply alone owns the object's fields. */
async function soleOwnership(
  writer: KubeWriter,
  desired: RenderedObject,
  obj: KubeObject,
): Promise<KubeObject> {
  if (CREATED_KINDS.has(desired.kind)) return obj;
  const ops = ownUpdateEntryRemoval(obj.metadata.managedFields, FIELD_MANAGER);
  return ops ? writer.jsonPatch(refOf(desired), ops) : obj;
}

/**
 * Apply `desired`; `live` is the object as last seen (when it exists), used when the API server
 * refuses the apply because of foreign list entries (two ports of one name, say).
 */
export async function applyChild(
  writer: KubeWriter,
  desired: RenderedObject,
  live: KubeObject | undefined,
): Promise<KubeObject> {
  let result: KubeObject;
  try {
    result = await writer.apply(desired as KubeObject);
    if (differences(desired, result).length > 0) {
      const found = foreignEntries(desired, result);
      if (found.removals.length > 0) result = await removeForeign(writer, desired, found);
    }
  } catch (error) {
    if (!isInvalid(error) || !live) throw error;
    const found = foreignEntries(desired, live);
    if (found.removals.length === 0) throw error;
    await removeForeign(writer, desired, found);
    result = await writer.apply(desired as KubeObject);
  }
  return soleOwnership(writer, desired, result);
}
