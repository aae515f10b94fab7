/**
 * Kubernetes label selectors (metav1.LabelSelector): `matchLabels` and `matchExpressions` with
 * `In`, `NotIn`, `Exists` and `DoesNotExist`, all of them ANDed; an empty selector matches
 * everything, as in Kubernetes.
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

function meets(labels: Readonly<Record<string, string>>, r: LabelSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(labels[r.key]!);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(labels[r.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      throw new Error(`unknown selector operator ${String((r as { operator: unknown }).operator)}`);
  }
}

export function matchesSelector(labels: Readonly<Record<string, string>>, selector: LabelSelector): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every((r) => meets(labels, r));
}
