/**
 * Server-side apply keeps list entries that another field manager added to a list the operator
 * owns (an env var added with `kubectl set env`, a port added by `kubectl edit`): apply alone
 * cannot remove them, and may even be refused because of them (two ports with one name). This
 * finds those entries and expresses their removal as a JSON patch in which every `remove` is
 * guarded by a `test` of the value that was seen, so nothing changed meanwhile is ever removed.
 *
 * A JSON patch that only removes gives the operator no field ownership, so it leaves no second
 * managedFields entry beside the operator's apply — later removals from the spec are still pruned
 * by apply.
 */
import { differences } from './compare.ts';

export type JsonPatchOp =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: unknown };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 6901 escaping of one path segment. */
function segment(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * The key a list entry is merged by, when it has one: `containerPort` (container ports), `port`
 * (Service ports), `mountPath` (volume mounts), else `name` (containers, env, volumes). A port
 * keeps its name when someone changes its number, so the number must win over the name.
 */
function identity(entry: unknown): string | undefined {
  if (!isPlainObject(entry)) return undefined;
  for (const key of ['containerPort', 'port', 'mountPath', 'name']) {
    const value = entry[key];
    if (typeof value === 'string' || typeof value === 'number') return `${key}=${value}`;
  }
  return undefined;
}

/**
 * Pairs each desired entry with a live one: first an entry that already holds everything desired,
 * else one with the same identity. Live entries left unpaired are foreign.
 */
function pairEntries(desired: unknown[], live: unknown[]): Map<number, number> {
  const pairs = new Map<number, number>(); // desired index → live index
  const taken = new Set<number>();
  desired.forEach((want, i) => {
    const j = live.findIndex((have, k) => !taken.has(k) && differences(want, have).length === 0);
    if (j >= 0) {
      pairs.set(i, j);
      taken.add(j);
    }
  });
  desired.forEach((want, i) => {
    if (pairs.has(i)) return;
    const id = identity(want);
    if (id === undefined) return;
    const j = live.findIndex((have, k) => !taken.has(k) && identity(have) === id);
    if (j >= 0) {
      pairs.set(i, j);
      taken.add(j);
    }
  });
  return pairs;
}

/** A list holding foreign entries: where it is on the live object, and both versions of it. */
export interface ListWithForeignEntries {
  path: string;
  live: unknown[];
  desired: unknown[];
}

function walk(
  desired: unknown,
  live: unknown,
  path: string,
  ops: JsonPatchOp[],
  lists: ListWithForeignEntries[],
): void {
  if (Array.isArray(desired) && Array.isArray(live)) {
    const pairs = pairEntries(desired, live);
    for (const [i, j] of pairs) walk(desired[i], live[j], `${path}/${j}`, ops, lists);
    const paired = new Set(pairs.values());
    if (paired.size < live.length) lists.push({ path, live, desired });
    // Highest index first, so the indices of the entries still to remove do not shift.
    for (let j = live.length - 1; j >= 0; j--) {
      if (paired.has(j)) continue;
      ops.push({ op: 'test', path: `${path}/${j}`, value: live[j] });
      ops.push({ op: 'remove', path: `${path}/${j}` });
    }
    return;
  }
  if (isPlainObject(desired) && isPlainObject(live)) {
    for (const [key, value] of Object.entries(desired)) {
      if (key in live) walk(value, live[key], `${path}/${segment(key)}`, ops, lists);
    }
  }
}

export interface ForeignEntries {
  /** Removes every foreign entry, each guarded by a test of the value seen. */
  removals: JsonPatchOp[];
  /** The lists that hold them (outermost last). */
  lists: ListWithForeignEntries[];
}

/**
 * Every entry of `live` that sits in a list `desired` names but that no desired entry accounts
 * for. `metadata` is never looked at.
 */
export function foreignEntries(
  desired: Record<string, unknown>,
  live: Record<string, unknown>,
): ForeignEntries {
  const removals: JsonPatchOp[] = [];
  const lists: ListWithForeignEntries[] = [];
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind' || !(key in live)) continue;
    walk(value, live[key], `/${segment(key)}`, removals, lists);
  }
  return { removals, lists };
}

/**
 * The same lists replaced whole by their desired form, each guarded by a test of the list seen:
 * for when removing the foreign entries alone would leave an invalid object (a ClusterIP Service
 * whose only port someone renumbered). Replacing sets fields, so it leaves an Update entry of the
 * operator's in managedFields; `ownUpdateEntryRemoval` takes it away again.
 */
export function listReplacements(found: ForeignEntries): JsonPatchOp[] {
  // Innermost lists come first in `lists`; a list inside one replaced whole needs no patch of its own.
  const outer = found.lists.filter(
    (l) => !found.lists.some((o) => o !== l && l.path.startsWith(`${o.path}/`)),
  );
  return outer.flatMap((l): JsonPatchOp[] => [
    { op: 'test', path: l.path, value: l.live },
    { op: 'replace', path: l.path, value: l.desired },
  ]);
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
}

/**
 * Removes the operator's `Update` entry from an object's managedFields (left by a replacement
 * above, or by an older operator that repaired drift with merge patches), so only its `Apply`
 * entry owns fields and anything dropped from the spec is pruned by the next apply. Undefined when
 * there is none.
 */
export function ownUpdateEntryRemoval(managedFields: unknown, manager: string): JsonPatchOp[] | undefined {
  if (!Array.isArray(managedFields)) return undefined;
  const index = (managedFields as ManagedFieldsEntry[]).findIndex(
    (e) => e.manager === manager && e.operation === 'Update' && !e.subresource,
  );
  if (index < 0) return undefined;
  const at = `/metadata/managedFields/${index}`;
  return [
    { op: 'test', path: `${at}/manager`, value: manager },
    { op: 'test', path: `${at}/operation`, value: 'Update' },
    { op: 'remove', path: at },
  ];
}
