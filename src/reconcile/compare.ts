/**
 * Does the live object already hold every field the operator wants? The desired object must be
 * a subset of the live one (the API server adds defaults, other managers add their own fields);
 * lists must match entry by entry and in length (a foreign entry in a list we own is drift);
 * quantities compare by value ("1000m" equals "1").
 *
 * What the API server does not store is not drift: built-in types declare most fields
 * `omitempty`, so a desired `[]`, `{}` or `""` reads back as absent (`tolerations: []`, an env var
 * with `value: ""`). Values inside string maps (labels, annotations, data) are the exception: a
 * label with an empty value is stored and must be there.
 */
import { isQuantity, parseQuantity } from '../api/quantity.ts';

/** Maps whose values are stored even when empty, so `""` under them must be present. */
const STRING_MAP_PARENTS = new Set([
  'labels',
  'annotations',
  'data',
  'stringData',
  'matchLabels',
  'nodeSelector',
]);

const QUANTITY_PARENTS = new Set(['requests', 'limits', 'hard', 'max', 'min', 'default', 'defaultRequest']);

function sameScalar(desired: unknown, live: unknown, parentKey: string | undefined): boolean {
  if (desired === live) return true;
  if (parentKey !== undefined && QUANTITY_PARENTS.has(parentKey) && isQuantity(desired) && isQuantity(live)) {
    return Math.abs(parseQuantity(desired) - parseQuantity(live)) < 1e-9;
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOmittedWhenEmpty(desired: unknown, parentKey: string | undefined): boolean {
  if (Array.isArray(desired)) return desired.length === 0;
  if (desired === '') return parentKey === undefined || !STRING_MAP_PARENTS.has(parentKey);
  return false;
}

/** `ownKey` is the key `desired` sits under; `parentKey` the key of the object holding it. */
function walk(
  desired: unknown,
  live: unknown,
  path: string,
  keys: { own?: string; parent?: string },
  out: string[],
): void {
  if (desired === undefined) return;
  if (live === undefined && isOmittedWhenEmpty(desired, keys.parent)) return;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) {
      out.push(path);
      return;
    }
    desired.forEach((item, i) => walk(item, live[i], `${path}[${i}]`, keys, out));
    return;
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) {
      if (Object.keys(desired).length > 0 || live !== undefined) out.push(path);
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      walk(value, live[key], path ? `${path}.${key}` : key, { own: key, parent: keys.own }, out);
    }
    return;
  }
  if (!sameScalar(desired, live, keys.parent)) out.push(path);
}

/** Paths (like `spec.template.spec.containers[0].env`) where `live` lacks what `desired` says. */
export function differences(desired: unknown, live: unknown): string[] {
  const out: string[] = [];
  walk(desired, live, '', {}, out);
  return out;
}
