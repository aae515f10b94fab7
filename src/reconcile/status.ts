/** Derives a Tenant's status from what was observed. Pure: same inputs, same status. */
import type { ResolvedTenant } from '../api/resolve.ts';
import type { ComponentStatus, Condition, ConditionType, TenantPhase, TenantStatus } from '../api/status.ts';

export type NamespaceState = 'absent' | 'ready' | 'conflict' | 'terminating';

export type AuthState =
  | { state: 'registered' }
  | { state: 'deregistered' }
  | { state: 'disabled' }
  | { state: 'pending' }
  | { state: 'unavailable'; message: string }
  | { state: 'rejected'; message: string };

interface WorkloadStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
}

export interface Workload {
  metadata: { generation?: number };
  status?: WorkloadStatus;
}

/** Why a component is not ready, when Kubernetes says (an unschedulable pod, a refused create, ...). */
export interface ComponentCause {
  reason: string;
  message: string;
}

export interface StatusInput {
  tenant: ResolvedTenant;
  generation: number | undefined;
  previous: TenantStatus | undefined;
  deleting: boolean;
  namespace: NamespaceState;
  /** What the namespace's own conditions say while it is terminating. */
  namespaceDetail?: string;
  redis: Workload | undefined;
  server: Workload | undefined;
  storageChange?: { current: string; requested: string };
  quotaProblem?: string;
  /** Desired objects whose name is taken by an object that is not this Tenant's. */
  conflicts?: string[];
  /** Writes that failed in this reconcile, each "<object>: <cause>". */
  writeFailures?: string[];
  causes?: { redis?: ComponentCause; server?: ComponentCause };
  auth: AuthState;
  now: Date;
}

type Health = 'running' | 'rolling' | 'short' | 'absent';

function workloadHealth(workload: Workload | undefined, desired: number): { health: Health; ready: number } {
  if (!workload) return { health: 'absent', ready: 0 };
  const s = workload.status ?? {};
  const ready = s.readyReplicas ?? 0;
  const observedCurrent = (s.observedGeneration ?? 0) >= (workload.metadata.generation ?? 0);
  const revisionsSettled = s.updateRevision === undefined || s.currentRevision === s.updateRevision;
  if (ready < desired) return { health: 'short', ready };
  const settled =
    observedCurrent &&
    (s.updatedReplicas ?? 0) >= desired &&
    (s.replicas ?? 0) === desired &&
    revisionsSettled;
  return { health: settled ? 'running' : 'rolling', ready };
}

function componentStatus(
  name: 'Redis' | 'Server',
  workload: Workload | undefined,
  desired: number,
  previous: ComponentStatus | undefined,
  cause: ComponentCause | undefined,
): ComponentStatus {
  const status = componentState(name, workload, desired, previous);
  if (!cause || status.phase === 'Running' || status.phase === 'Disabled') return status;
  return { ...status, message: `${status.message}: ${cause.message}` };
}

function componentState(
  name: 'Redis' | 'Server',
  workload: Workload | undefined,
  desired: number,
  previous: ComponentStatus | undefined,
): ComponentStatus {
  if (desired === 0) {
    return {
      phase: 'Disabled',
      message: `${name} is disabled (0 replicas)`,
      readyReplicas: 0,
      totalReplicas: 0,
    };
  }
  const { health, ready } = workloadHealth(workload, desired);
  const counts = { readyReplicas: ready, totalReplicas: desired };
  if (health === 'running') return { phase: 'Running', message: `${name} is running`, ...counts };
  const wasRunning = previous?.phase === 'Running' || previous?.phase === 'Degraded';
  if (health === 'short' && wasRunning) {
    return {
      phase: 'Degraded',
      message: `${name} is degraded: ${ready}/${desired} replicas ready`,
      ...counts,
    };
  }
  if (health === 'rolling') {
    return {
      phase: 'Provisioning',
      message: `${name} is rolling out an update: ${ready}/${desired} replicas ready`,
      ...counts,
    };
  }
  return {
    phase: 'Provisioning',
    message:
      ready === 0
        ? `${name} is being provisioned`
        : `${name} is being provisioned: ${ready}/${desired} replicas ready`,
    ...counts,
  };
}

const isUp = (c: ComponentStatus) => c.phase === 'Running' || c.phase === 'Disabled';

export interface ConditionSpec {
  status: Condition['status'];
  reason: string;
  message: string;
}

function namespaceCondition(state: NamespaceState, ns: string): ConditionSpec {
  switch (state) {
    case 'ready':
      return { status: 'True', reason: 'NamespaceReady', message: `Namespace ${ns} is ready` };
    case 'conflict':
      return {
        status: 'False',
        reason: 'NamespaceConflict',
        message: `Namespace ${ns} already exists and is not owned by this Tenant; the operator will not adopt, change or delete it. Remove or rename it, or give the Tenant another spec.tenantId`,
      };
    case 'terminating':
      return {
        status: 'False',
        reason: 'NamespaceTerminating',
        message: `Namespace ${ns} is still being deleted (left by an earlier Tenant of this id); the tenant is made once it is gone`,
      };
    case 'absent':
      return { status: 'False', reason: 'Pending', message: `Namespace ${ns} has not been created yet` };
  }
}

function authCondition(auth: AuthState): ConditionSpec {
  switch (auth.state) {
    case 'registered':
      return { status: 'True', reason: 'Registered', message: 'Tenant is registered with the Auth service' };
    case 'deregistered':
      return { status: 'False', reason: 'Deregistered', message: 'Tenant was removed from the Auth service' };
    case 'disabled':
      return {
        status: 'False',
        reason: 'Disabled',
        message: 'Registration is disabled by spec.services.authService.enabled=false',
      };
    case 'pending':
      return {
        status: 'Unknown',
        reason: 'Pending',
        message: 'Registration with the Auth service has not run yet',
      };
    case 'unavailable':
      return { status: 'False', reason: 'AuthServiceUnavailable', message: auth.message };
    case 'rejected':
      return { status: 'False', reason: 'AuthServiceRejected', message: auth.message };
  }
}

/**
 * A condition as it should be written now: `lastTransitionTime` moves only when the status
 * changes from `before`; `observedGeneration` is set when the generation is known.
 */
export function nextCondition(
  before: Condition | undefined,
  type: Condition['type'],
  spec: ConditionSpec,
  at: Date,
  generation: number | undefined,
): Condition {
  const lastTransitionTime =
    before && before.status === spec.status
      ? before.lastTransitionTime
      : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    type,
    status: spec.status,
    reason: spec.reason,
    message: spec.message,
    lastTransitionTime,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

function condition(type: ConditionType, spec: ConditionSpec, input: StatusInput): Condition {
  const before = input.previous?.conditions?.find((c) => c.type === type);
  return nextCondition(before, type, spec, input.now, input.generation);
}

function componentCondition(c: ComponentStatus, name: string, cause?: ComponentCause): ConditionSpec {
  if (c.phase === 'Disabled') return { status: 'True', reason: 'Disabled', message: c.message ?? '' };
  if (c.phase === 'Running') return { status: 'True', reason: `${name}Running`, message: c.message ?? '' };
  return { status: 'False', reason: cause?.reason ?? `${name}NotReady`, message: c.message ?? '' };
}

function withDetail(spec: ConditionSpec, detail: string | undefined): ConditionSpec {
  return detail ? { ...spec, message: `${spec.message}: ${detail}` } : spec;
}

export function deriveStatus(input: StatusInput): TenantStatus {
  const t = input.tenant;
  const previous = input.previous;
  const causes = input.causes ?? {};
  const redis = componentStatus('Redis', input.redis, t.redis.replicas, previous?.redisStatus, causes.redis);
  const server = componentStatus(
    'Server',
    input.server,
    t.server.replicas,
    previous?.serverStatus,
    causes.server,
  );
  const componentsUp = isUp(redis) && isUp(server);
  const conflicts = input.conflicts ?? [];
  const writeFailures = input.writeFailures ?? [];

  let phase: TenantPhase;
  if (input.deleting) phase = 'Terminating';
  else if (input.namespace === 'conflict' || input.quotaProblem || conflicts.length > 0) phase = 'Failed';
  else if (input.namespace === 'terminating') phase = 'Pending';
  else if (input.namespace === 'absent' && !input.redis && !input.server) phase = 'Pending';
  else if (componentsUp) phase = 'Running';
  else if (redis.phase === 'Degraded' || server.phase === 'Degraded') phase = 'Degraded';
  else phase = 'Provisioning';

  const authOk = input.auth.state === 'registered' || input.auth.state === 'disabled';
  const namespace = withDetail(namespaceCondition(input.namespace, t.namespace), input.namespaceDetail);
  let ready: ConditionSpec;
  if (input.deleting) ready = { status: 'False', reason: 'Terminating', message: 'Tenant is being deleted' };
  else if (input.namespace === 'conflict' || input.namespace === 'terminating') ready = namespace;
  else if (input.quotaProblem)
    ready = { status: 'False', reason: 'QuotaTooSmall', message: input.quotaProblem };
  else if (conflicts.length > 0)
    ready = {
      status: 'False',
      reason: 'ObjectConflict',
      message: `${conflicts.join('; ')}. The operator does not change or delete objects that are not this Tenant's: delete or rename them`,
    };
  else if (writeFailures.length > 0)
    ready = {
      status: 'False',
      reason: 'ApplyFailed',
      message: `Could not write ${writeFailures.join('; ')}`,
    };
  else if (phase !== 'Running') {
    const waiting = [redis, server].filter((c) => !isUp(c)).map((c) => c.message);
    ready = {
      status: 'False',
      reason: phase,
      message: waiting.join('; ') || `Tenant is ${phase.toLowerCase()}`,
    };
  } else if (!authOk) ready = authCondition(input.auth);
  else ready = { status: 'True', reason: 'Running', message: 'Tenant is running' };

  const redisCondition = input.storageChange
    ? {
        ...componentCondition(redis, 'Redis'),
        reason: 'StorageChangeNotApplied',
        message: `spec.redis.storage asks for ${input.storageChange.requested} but existing volume claims keep ${input.storageChange.current}: claim templates cannot be resized; the operator never deletes data. Resize the PersistentVolumeClaims yourself if the storage class allows expansion`,
      }
    : componentCondition(redis, 'Redis', causes.redis);

  const networkPolicy: ConditionSpec = t.networkPolicy.enabled
    ? { status: 'True', reason: 'PoliciesApplied', message: 'Network isolation is in place' }
    : {
        status: 'True',
        reason: 'Disabled',
        message: 'Network isolation is disabled by spec.networkPolicy.enabled=false',
      };

  const conditions = [
    condition('Ready', ready, input),
    condition('NamespaceReady', namespace, input),
    condition('RedisReady', redisCondition, input),
    condition('ServerReady', componentCondition(server, 'Server', causes.server), input),
    condition('NetworkPolicyReady', networkPolicy, input),
    condition('AuthRegistered', authCondition(input.auth), input),
  ];

  return {
    phase,
    namespace: t.namespace,
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    serverStatus: server,
    redisStatus: redis,
    endpoints: {
      server: `http://${t.id}-server.${t.namespace}.svc:3030`,
      redis: `redis://${t.id}-redis.${t.namespace}.svc:6379`,
    },
    conditions,
  };
}

/** The previous auth outcome as recorded in status, so a steady tenant makes no Auth calls. */
export function authStateFromStatus(previous: TenantStatus | undefined): AuthState | undefined {
  const c = previous?.conditions?.find((x) => x.type === 'AuthRegistered');
  if (c?.reason === 'Registered') return { state: 'registered' };
  if (c?.reason === 'Deregistered') return { state: 'deregistered' };
  return undefined;
}
