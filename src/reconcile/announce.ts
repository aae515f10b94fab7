/**
 * The Normal events one reconcile's writes call for (SPEC §4): a `Created` event for each of the
 * six objects the user guide shows, one `Created` event summing up the isolation objects, one
 * `Updated` event for a spec change and one `DriftCorrected` event for repairs — each listing what
 * it touched, never one event per object.
 */
import type { KubeObject } from '../kube/objects.ts';
import type { RenderedObject } from '../render/meta.ts';
import { LABEL_COMPONENT } from '../render/meta.ts';
import { describeObject } from './describe.ts';

type Described = Pick<RenderedObject | KubeObject, 'kind' | 'metadata'>;

export interface WriteOutcome {
  /** Made with the tenant. */
  created: Described[];
  /** Made later because the spec now asks for them (a PodDisruptionBudget after scaling up). */
  added: Described[];
  updated: Described[];
  /** Restored objects, each with what was wrong ("it was missing", "changed spec.replicas"). */
  restored: Array<{ object: Described; detail: string }>;
  /** Objects deleted because the spec no longer wants them. */
  pruned: Described[];
}

export interface PlannedEvent {
  reason: 'Created' | 'Updated' | 'DriftCorrected';
  message: string;
}

/** Whether `obj` is one of the six objects announced on their own. */
function isHeadline(obj: Described): boolean {
  const component = obj.metadata.labels?.[LABEL_COMPONENT];
  if (obj.kind === 'Namespace') return true;
  if (component === 'redis') return ['ConfigMap', 'Service', 'StatefulSet'].includes(obj.kind);
  if (component === 'server') return ['Service', 'Deployment'].includes(obj.kind);
  return false;
}

const PLURAL: Record<string, string> = { NetworkPolicy: 'NetworkPolicies' };

/** "ResourceQuota, LimitRange, 7 NetworkPolicies, Redis Secret": kinds in order, counted. */
function summarize(objects: Described[]): string {
  const groups = new Map<string, number>();
  for (const obj of objects) {
    const label = obj.kind === 'NetworkPolicy' ? obj.kind : describeObject(obj);
    groups.set(label, (groups.get(label) ?? 0) + 1);
  }
  return [...groups]
    .map(([label, count]) => (count === 1 ? label : `${count} ${PLURAL[label] ?? `${label}s`}`))
    .join(', ');
}

export function plannedEvents(outcome: WriteOutcome): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  const headline = outcome.created.filter(isHeadline);
  const isolation = outcome.created.filter((o) => !isHeadline(o));
  for (const obj of headline) events.push({ reason: 'Created', message: `Created ${describeObject(obj)}` });
  if (isolation.length > 0)
    events.push({ reason: 'Created', message: `Created isolation objects: ${summarize(isolation)}` });
  const changes = [
    ...outcome.updated.map((o) => describeObject(o)),
    ...outcome.added.map((o) => `${describeObject(o)} (created)`),
    ...outcome.pruned.map((o) => `${describeObject(o)} (deleted: no longer desired)`),
  ];
  if (changes.length > 0) events.push({ reason: 'Updated', message: `Updated ${changes.join(', ')}` });
  if (outcome.restored.length > 0) {
    const restored = outcome.restored.map((r) => `${describeObject(r.object)} (${r.detail})`);
    events.push({ reason: 'DriftCorrected', message: `Restored ${restored.join(', ')}` });
  }
  return events;
}
