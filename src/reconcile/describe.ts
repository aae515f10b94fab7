/** Human wording for objects in events ("Created Redis StatefulSet"), as the user guide shows them. */
import { LABEL_COMPONENT } from '../render/meta.ts';

const COMPONENT_NAMES: Record<string, string> = { redis: 'Redis', server: 'Server' };

export function describeObject(obj: {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}): string {
  if (obj.kind === 'Namespace') return `namespace ${obj.metadata.name}`;
  const component = COMPONENT_NAMES[obj.metadata.labels?.[LABEL_COMPONENT] ?? ''];
  if (component) return `${component} ${obj.kind}`;
  return `${obj.kind} ${obj.metadata.name}`;
}
