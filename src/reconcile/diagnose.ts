/**
 * Why a component is not ready, when Kubernetes knows: the workload's own conditions (a Deployment
 * past its progress deadline, a ReplicaSet refused by the quota), then a label-selected look at
 * the component's pods (unschedulable, image pull failures, crash loops), then — for a StatefulSet
 * short of pods — its FailedCreate events. Read only while the component is not ready and has had
 * time to become ready, so a healthy tenant costs no reads.
 */
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import type { ComponentCause } from './status.ts';

/** A component not ready this long after its workload was made is looked into. */
export const DIAGNOSE_AFTER_MS = 30_000;
/** How often a component that stays not ready is looked at again, at most. */
const DIAGNOSE_EVERY_MAX_MS = 5 * 60_000;

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface ContainerStatus {
  name?: string;
  image?: string;
  state?: { waiting?: { reason?: string; message?: string } };
}

interface PodLike extends KubeObject {
  status?: {
    conditions?: Condition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

interface EventLike extends KubeObject {
  reason?: string;
  message?: string;
  lastTimestamp?: string;
  eventTime?: string;
}

const IMAGE_PULL_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
]);

function oneLine(text: string | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

function workloadAgeMs(workload: KubeObject, now: Date): number {
  const created = Date.parse(String(workload.metadata.creationTimestamp ?? ''));
  return Number.isFinite(created) ? now.getTime() - created : Number.POSITIVE_INFINITY;
}

/** Whether a not-ready component is due a look now, and when to look again. */
export function diagnosisSchedule(workload: KubeObject, now: Date): { due: boolean; againInMs: number } {
  const age = workloadAgeMs(workload, now);
  if (age < DIAGNOSE_AFTER_MS) return { due: false, againInMs: DIAGNOSE_AFTER_MS - Math.max(0, age) };
  return { due: true, againInMs: Math.min(DIAGNOSE_EVERY_MAX_MS, Math.max(DIAGNOSE_AFTER_MS, age)) };
}

function fromWorkloadConditions(workload: KubeObject): ComponentCause | undefined {
  const conditions = ((workload.status as { conditions?: Condition[] } | undefined)?.conditions ??
    []) as Condition[];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failure)
    return { reason: 'FailedCreate', message: `pods cannot be created: ${oneLine(failure.message)}` };
  const stalled = conditions.find(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stalled) return { reason: 'ProgressDeadlineExceeded', message: oneLine(stalled.message) };
  return undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function fromPods(pods: PodLike[]): ComponentCause | undefined {
  const unschedulable = pods.filter((p) =>
    (p.status?.conditions ?? []).some(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    ),
  );
  if (unschedulable.length > 0) {
    const message = unschedulable[0]!.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message;
    return {
      reason: 'PodUnschedulable',
      message: `${plural(unschedulable.length, 'pod')} cannot be scheduled: ${oneLine(message)}`,
    };
  }
  const waiting = pods.flatMap((p) =>
    [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].filter(
      (c) => c.state?.waiting?.reason !== undefined,
    ),
  );
  const pull = waiting.find((c) => IMAGE_PULL_REASONS.has(c.state!.waiting!.reason!));
  if (pull) {
    const detail = oneLine(pull.state?.waiting?.message) || pull.state!.waiting!.reason!;
    return {
      reason: 'ImagePullFailed',
      message: `image ${pull.image ?? ''} of container ${pull.name ?? ''} cannot be pulled: ${detail}`,
    };
  }
  const crash = waiting.find((c) => c.state!.waiting!.reason === 'CrashLoopBackOff');
  if (crash) {
    return {
      reason: 'CrashLoopBackOff',
      message: `container ${crash.name ?? ''} keeps crashing: ${oneLine(crash.state?.waiting?.message) || 'CrashLoopBackOff'}`,
    };
  }
  return undefined;
}

function latest(events: EventLike[]): EventLike | undefined {
  const at = (e: EventLike) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') || 0;
  return [...events].sort((a, b) => at(b) - at(a))[0];
}

export interface DiagnoseInput {
  workload: KubeObject;
  desiredReplicas: number;
  /** Labels selecting the component's pods. */
  podSelector: Record<string, string>;
  reader: Pick<KubeWriter, 'list'>;
}

export async function diagnose(input: DiagnoseInput): Promise<ComponentCause | undefined> {
  const { workload, reader } = input;
  const namespace = workload.metadata.namespace ?? '';
  const own = fromWorkloadConditions(workload);
  if (own) return own;
  const labelSelector = Object.entries(input.podSelector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await reader.list<PodLike>('Pod', namespace, { labelSelector, limit: 100 });
  const fromPod = fromPods(pods);
  if (fromPod) return fromPod;
  if (workload.kind === 'StatefulSet' && pods.length < input.desiredReplicas) {
    const events = await reader.list<EventLike>('Event', namespace, {
      fieldSelector: `involvedObject.kind=StatefulSet,involvedObject.name=${workload.metadata.name},reason=FailedCreate`,
      limit: 20,
    });
    const event = latest(events);
    if (event)
      return { reason: 'FailedCreate', message: `pods cannot be created: ${oneLine(event.message)}` };
  }
  return undefined;
}

export interface ComponentLook {
  cause?: ComponentCause;
  /** Look again after this long (the component is not ready). */
  againInMs?: number;
}

/** Why a component that is not ready is not, once it has had time to be; nothing is read for a ready one. */
export async function lookIntoComponent(
  input: Omit<DiagnoseInput, 'workload'> & { workload: KubeObject | undefined; now: Date },
): Promise<ComponentLook> {
  const { workload, desiredReplicas } = input;
  const ready = (workload?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
  if (!workload || desiredReplicas === 0 || ready >= desiredReplicas) return {};
  const schedule = diagnosisSchedule(workload, input.now);
  if (!schedule.due) return { againInMs: schedule.againInMs };
  const cause = await diagnose({
    workload,
    desiredReplicas,
    podSelector: input.podSelector,
    reader: input.reader,
  });
  return { ...(cause ? { cause } : {}), againInMs: schedule.againInMs };
}
