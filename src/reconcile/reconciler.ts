/**
 * Reconciles one Tenant as a short list of named steps — spec, deletion, finalizer, namespace,
 * Auth, children, diagnosis, status — each in a module of its own. Everything is read from the
 * caches it is handed (with the operator's own recent writes); only differences are written.
 */
import type { Logger } from 'pino';
import { resolvedProblems } from '../api/resolved-checks.ts';
import { type ResolvedTenant, resolveTenant } from '../api/resolve.ts';
import type { TenantStatus } from '../api/status.ts';
import { formatIssue, validateTenant } from '../api/validate.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import { isConflict } from '../kube/rest.ts';
import { render } from '../render/index.ts';
import { FINALIZER, type RenderedObject, names, selectorLabels } from '../render/meta.ts';
import { generateRedisPassword } from '../render/redis-conf.ts';
import { isCreateOnly, renderRedisSecret } from '../render/redis.ts';
import { PermanentError } from '../runtime/controller.ts';
import { plannedEvents } from './announce.ts';
import { registerWithAuth, registrationDue } from './auth-step.ts';
import { writeChildren } from './children.ts';
import { finalizeTenant } from './deletion.ts';
import { diagnose, diagnosisSchedule } from './diagnose.ts';
import { namespaceState, terminationDetail } from './namespace-state.ts';
import { type TenantIdentity, forOwnership, isOwnedNamespace } from './ownership.ts';
import {
  type PlacementPort,
  missingMemberStatus,
  placementStep,
  unreachableStatus,
} from './placement-step.ts';
import type { MemberClusterObject } from '../members/member-controller.ts';
import { planChildren } from './plan.ts';
import type {
  AuthPort,
  ObservedCluster,
  ReconcileServices,
  ClusterChoice,
  ReconcilerMetrics,
  TenantCluster,
  TenantObject,
} from './ports.ts';
import { type PendingCleanup, finalizeOnUnreachableMember } from './member-deletion.ts';
import { publishStatus, tenantEvent } from './publish.ts';
import { quotaProblem } from './quota-fit.ts';
import {
  type AuthState,
  type ComponentCause,
  type Workload,
  authStateFromStatus,
  deriveStatus,
  nextCondition,
} from './status.ts';

export type { AuthPort, ObservedCluster, ReconcilerMetrics, TenantCluster, TenantObject } from './ports.ts';

export interface ReconcilerOptions {
  /** Where Tenants are read (the operator's own cluster's cache). */
  tenants: Pick<ObservedCluster, 'tenant'>;
  /** Where Tenant status and finalizers are written. */
  home: Pick<KubeWriter, 'patchTenantStatus' | 'setTenantFinalizers' | 'get'>;
  /** The operator's own cluster: where a tenant lives when there is no MemberCluster. */
  cluster: TenantCluster;
  /** Placement over MemberClusters (SPEC §10); without it every tenant lives on `cluster`. */
  placement?: PlacementPort & {
    /** Where the tenants of a member can be written now. */
    clusterFor(clusterName: string, member: MemberClusterObject | undefined): ClusterChoice;
    /** Deletion of a tenant whose member does not answer gives up waiting after this long. */
    memberCleanupTimeoutMs: number;
    /** Records a namespace to delete on a member when it answers again (its status.pendingCleanup). */
    deferCleanup(clusterName: string, entry: PendingCleanup): Promise<void>;
  };
  events: EventRecorder;
  metrics: ReconcilerMetrics;
  auth: AuthPort;
  authUrl: string;
  authDeregisterTimeoutMs: number;
  logger: Logger;
  now?: () => Date;
  generatePassword?: () => string;
}

export class ChildWriteError extends Error {
  constructor(failures: string[], cause: unknown) {
    super(`could not write ${failures.length} object(s): ${failures.join('; ')}`, { cause });
    this.name = 'ChildWriteError';
  }
}

export class AuthPendingError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AuthPendingError';
  }
}

const RECHECK_AT_ONCE_MS = 1;
const NAMESPACE_RECHECK_MS = 5_000;
const CONFLICT_RECHECK_MS = 60_000;
const MEMBER_UNKNOWN_RETRY_MS = 1_000;
const MEMBER_UNREACHABLE_RETRY_MS = 10_000;

/**
 * Status of a Tenant whose spec fails validation (a rule the CRD schema cannot express, or a CRD
 * older than the operator): Failed, Ready=False/InvalidSpec naming the fields. What was observed
 * before (components, endpoints, other conditions) is kept as it was: nothing is touched.
 */
function invalidSpecStatus(
  status: TenantStatus | undefined,
  generation: number | undefined,
  message: string,
  at: Date,
): TenantStatus {
  const others = (status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  const before = status?.conditions?.find((c) => c.type === 'Ready');
  const ready = nextCondition(
    before,
    'Ready',
    { status: 'False', reason: 'InvalidSpec', message },
    at,
    generation,
  );
  return {
    ...(status ?? {}),
    phase: 'Failed',
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [ready, ...others],
  };
}

function describeConflict(obj: KubeObject): string {
  const where = obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
  return `${obj.kind} ${where} exists and is not this Tenant's`;
}

interface ComponentLook {
  cause?: ComponentCause;
  /** Look again after this long (the component is not ready). */
  againInMs?: number;
}

export function createReconciler(options: ReconcilerOptions) {
  const { tenants, home, cluster: homeCluster, events, metrics, logger } = options;
  const services: ReconcileServices = {
    events,
    metrics,
    auth: options.auth,
    authUrl: options.authUrl,
    authDeregisterTimeoutMs: options.authDeregisterTimeoutMs,
    now: options.now ?? (() => new Date()),
    generatePassword: options.generatePassword ?? generateRedisPassword,
  };
  const now = services.now;

  async function lookupNamespace(cluster: TenantCluster, name: string): Promise<KubeObject | undefined> {
    return cluster.observed.namespace(name) ?? (await cluster.writer.get({ kind: 'Namespace', name }));
  }

  /** The Tenant with our finalizer, and whether that was just confirmed by the API server. */
  async function ensureFinalizer(t: TenantObject): Promise<{ t: TenantObject; confirmed: boolean }> {
    if ((t.metadata.finalizers ?? []).includes(FINALIZER)) return { t, confirmed: false };
    const updated = await home.setTenantFinalizers(
      t.metadata.name,
      [...(t.metadata.finalizers ?? []), FINALIZER],
      t.metadata.resourceVersion ?? '',
    );
    return { t: { ...t, metadata: { ...t.metadata, ...updated.metadata } }, confirmed: true };
  }

  /**
   * Registering is safe only while the API server holds this very Tenant (same uid), not being
   * deleted, with our finalizer: then its deletion cannot finish without deregistering. The cache
   * can be behind a deletion (a Tenant created and deleted at once, seen by a process that just
   * started), and registering from it would leave the id registered with nobody to remove it.
   */
  async function stillOursToRegister(t: TenantObject): Promise<boolean> {
    const live = await home.get({ kind: 'Tenant', name: t.metadata.name });
    return (
      live !== undefined &&
      live.metadata.uid === t.metadata.uid &&
      !live.metadata.deletionTimestamp &&
      (live.metadata.finalizers ?? []).includes(FINALIZER)
    );
  }

  /** Why a component that is not ready is not, once it has had time to be. */
  async function lookInto(
    cluster: TenantCluster,
    r: ResolvedTenant,
    workload: KubeObject | undefined,
    desired: number,
    component: 'redis' | 'server',
  ): Promise<ComponentLook> {
    const ready = (workload?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
    if (!workload || desired === 0 || ready >= desired) return {};
    const schedule = diagnosisSchedule(workload, now());
    if (!schedule.due) return { againInMs: schedule.againInMs };
    const cause = await diagnose({
      workload,
      desiredReplicas: desired,
      podSelector: selectorLabels(r, component),
      reader: cluster.writer,
    });
    return { ...(cause ? { cause } : {}), againInMs: schedule.againInMs };
  }

  /** Where a tenant placed before lives now; undefined when it is not placed (the home cluster). */
  function clusterOfPlaced(t: TenantObject): { clusterName: string; choice: ClusterChoice } | undefined {
    const clusterName = t.status?.placement?.clusterName;
    if (!clusterName || !options.placement) return undefined;
    const members = options.placement.members();
    // MemberClusters not loaded yet: a placed tenant's member is not "missing", just not known.
    if (members === undefined) return { clusterName, choice: { kind: 'unknown' } };
    const member = members.find((m) => m.metadata.name === clusterName);
    return { clusterName, choice: options.placement.clusterFor(clusterName, member) };
  }

  return async function reconcile(
    name: string,
    ctx: { logger?: Logger } = {},
  ): Promise<{ requeueAfterMs?: number }> {
    const log = ctx.logger ?? logger.child({ tenant: name });
    const startedAt = now();
    let t = tenants.tenant(name);
    if (!t) return {};

    // spec
    const validation = validateTenant(t);
    const resolved = validation.ok ? resolveTenant(validation.tenant) : undefined;
    // deletion
    if (t.metadata.deletionTimestamp) {
      const placed = clusterOfPlaced(t);
      if (placed?.choice.kind === 'unknown') return { requeueAfterMs: MEMBER_UNKNOWN_RETRY_MS };
      if (placed && options.placement && placed.choice.kind === 'unreachable') {
        return finalizeOnUnreachableMember({
          t,
          resolved,
          clusterName: placed.clusterName,
          why: placed.choice.message,
          ...(placed.choice.since ? { unreachableSince: placed.choice.since } : {}),
          home,
          services,
          log,
          cleanupTimeoutMs: options.placement.memberCleanupTimeoutMs,
          deferCleanup: (entry) => options.placement!.deferCleanup(placed.clusterName, entry),
        });
      }
      // A member that is gone has nothing left to reach: what it held is out of the operator's hands.
      const cluster = placed?.choice.kind === 'ready' ? placed.choice.cluster : homeCluster;
      return finalizeTenant({ t, resolved, cluster, home, services, log });
    }
    const problems = resolved
      ? resolvedProblems(resolved)
      : validation.ok
        ? []
        : validation.issues.map(formatIssue);
    if (!validation.ok || !resolved || problems.length > 0) {
      const message = `spec is invalid: ${problems.join('; ')}`;
      await publishStatus(
        home,
        events,
        t,
        invalidSpecStatus(t.status, t.metadata.generation, message, now()),
      );
      throw new PermanentError(message);
    }

    // placement
    let cluster = homeCluster;
    if (options.placement) {
      const placement = options.placement;
      if (!t.status?.placement && (placement.members()?.length ?? 0) > 0) {
        // A decision is taken from the API server's copy, never from a cache that may be behind an
        // earlier one, and written only if that copy is still current: a tenant is placed once.
        const live = (await home.get({ kind: 'Tenant', name: t.metadata.name })) as TenantObject | undefined;
        if (!live || live.metadata.uid !== t.metadata.uid) return {};
        t = live;
      }
      const ns = homeCluster.observed.namespace(resolved.namespace);
      const outcome = placementStep({
        t,
        request: validation.tenant.spec?.placement ?? {},
        port: placement,
        provisionedAtHome:
          ns !== undefined &&
          isOwnedNamespace(
            ns,
            { uid: t.metadata.uid, id: resolved.id, namespace: resolved.namespace },
            homeCluster.ownership,
          ),
        now: now(),
      });
      const newDecision = outcome.kind === 'placed' && !t.status?.placement;
      if (outcome.status) {
        try {
          const written = await publishStatus(home, events, t, outcome.status, { guarded: newDecision });
          if (written) t = { ...t, ...(written as TenantObject) };
        } catch (error) {
          if (newDecision) placement.placements.forget(t.metadata.name);
          // The Tenant changed since it was read: decide again from its new copy.
          if (newDecision && isConflict(error)) return { requeueAfterMs: RECHECK_AT_ONCE_MS };
          throw error;
        }
        if (newDecision && !t.status?.placement) {
          // Not written (the Tenant is gone): the decision must not keep counting.
          placement.placements.forget(t.metadata.name);
          return {};
        }
        if (newDecision) {
          log.info({ cluster: outcome.clusterName }, 'placed the tenant');
          // Free the worker: in a burst every tenant is placed first, quickly, then provisioned.
          return { requeueAfterMs: RECHECK_AT_ONCE_MS };
        }
      }
      if (outcome.kind === 'unplaced') return { requeueAfterMs: outcome.requeueAfterMs };
      if (outcome.kind === 'placed') {
        const choice = placement.clusterFor(outcome.clusterName, outcome.member);
        if (choice.kind === 'unknown') return { requeueAfterMs: MEMBER_UNKNOWN_RETRY_MS };
        if (choice.kind === 'missing') {
          await publishStatus(home, events, t, missingMemberStatus(t, outcome.clusterName, now()));
          return { requeueAfterMs: CONFLICT_RECHECK_MS };
        }
        if (choice.kind === 'unreachable') {
          await publishStatus(
            home,
            events,
            t,
            unreachableStatus(t, outcome.clusterName, choice.message, now()),
          );
          return { requeueAfterMs: MEMBER_UNREACHABLE_RETRY_MS };
        }
        cluster = choice.cluster;
      }
    }

    // finalizer
    const finalizer = await ensureFinalizer(t);
    t = finalizer.t;
    const uid = t.metadata.uid;
    const r = resolveTenant({ ...validation.tenant, metadata: { ...validation.tenant.metadata, uid } });
    const identity: TenantIdentity = { uid, id: r.id, namespace: r.namespace };
    const generation = t.metadata.generation;
    const specChanged = generation === undefined || generation !== t.status?.observedGeneration;

    // namespace
    const liveNamespace = await lookupNamespace(cluster, r.namespace);
    let nsState = namespaceState(liveNamespace, identity, cluster.ownership);

    // Auth: a tenant id whose namespace belongs to someone else is not ours to register.
    const mayRegister = nsState !== 'conflict';
    const registering = mayRegister && registrationDue(r, t.status);
    if (registering && !finalizer.confirmed && !(await stillOursToRegister(t))) {
      // The watch brings the deletion (or the new Tenant of this name); nothing is written before.
      log.debug('the Tenant changed since it was cached; waiting for the watch before registering');
      return {};
    }
    const auth: AuthState = mayRegister
      ? await registerWithAuth(options.auth, r, t.status)
      : r.authEnabled
        ? (authStateFromStatus(t.status) ?? { state: 'pending' })
        : { state: 'disabled' };
    if (registering && auth.state === 'registered')
      log.info({ tenantId: r.id }, 'registered with the Auth service');
    const base = { tenant: r, generation, previous: t.status, deleting: false, auth, now: now() };
    if (nsState === 'conflict' || nsState === 'terminating') {
      const status = deriveStatus({
        ...base,
        namespace: nsState,
        ...(nsState === 'terminating' ? { namespaceDetail: terminationDetail(liveNamespace) } : {}),
        redis: undefined,
        server: undefined,
      });
      await publishStatus(home, events, t, status);
      return { requeueAfterMs: nsState === 'conflict' ? CONFLICT_RECHECK_MS : NAMESPACE_RECHECK_MS };
    }

    // children
    const desired = render(r, { authUrl: options.authUrl }).map((o) =>
      forOwnership(o as KubeObject, cluster.ownership, uid),
    ) as RenderedObject[];
    const live = new Map<string, KubeObject>();
    for (const child of cluster.observed.children(r.id)) live.set(objectKey(child), child);
    if (liveNamespace)
      live.set(objectKey({ ...liveNamespace, kind: 'Namespace' }), { ...liveNamespace, kind: 'Namespace' });
    const plan = planChildren({
      desired,
      live,
      specChanged,
      isCreateOnly,
      tenant: identity,
      ownership: cluster.ownership,
    });
    // The password is drawn only when the Secret is really created, and lives only in that request.
    for (const action of plan.actions) {
      if (action.type === 'create' && isCreateOnly(action.object))
        action.object = forOwnership(
          renderRedisSecret(r, { redisPassword: services.generatePassword() }) as KubeObject,
          cluster.ownership,
          uid,
        ) as RenderedObject;
    }
    const written = await writeChildren({
      plan,
      live,
      writer: cluster.writer,
      tenant: identity,
      ownership: cluster.ownership,
      startedAt,
      log,
    });
    // Someone made the namespace between our read and our create: look at it again now.
    if (written.namespaceRace) return { requeueAfterMs: RECHECK_AT_ONCE_MS };
    if (written.namespaceCreated) {
      nsState = 'ready';
      if (specChanged) metrics.tenantCreated();
    }
    for (const restored of written.restored) metrics.driftCorrected(restored.object.kind);
    for (const e of plannedEvents(written)) await tenantEvent(events, t, 'Normal', e.reason, e.message);

    // diagnosis
    const statefulSet = written.after.get(`StatefulSet/${r.namespace}/${names.redis(r.id)}`);
    const deployment = written.after.get(`Deployment/${r.namespace}/${names.server(r.id)}`);
    const [redisLook, serverLook] = await Promise.all([
      lookInto(cluster, r, statefulSet, r.redis.replicas, 'redis'),
      lookInto(cluster, r, deployment, r.server.replicas, 'server'),
    ]);

    // status
    const problem = quotaProblem(r);
    const causes = {
      ...(redisLook.cause ? { redis: redisLook.cause } : {}),
      ...(serverLook.cause ? { server: serverLook.cause } : {}),
    };
    const status = deriveStatus({
      ...base,
      namespace: nsState,
      redis: statefulSet as Workload | undefined,
      server: deployment as Workload | undefined,
      ...(plan.storageChange ? { storageChange: plan.storageChange } : {}),
      ...(problem ? { quotaProblem: problem } : {}),
      conflicts: written.conflicts.map(describeConflict),
      writeFailures: written.failures,
      causes,
    });
    await publishStatus(home, events, t, status);

    if (written.failures.length > 0) throw new ChildWriteError(written.failures, written.firstError);
    if (auth.state === 'unavailable' || auth.state === 'rejected')
      throw new AuthPendingError(auth.message, undefined);
    if (written.conflicts.length > 0) return { requeueAfterMs: CONFLICT_RECHECK_MS };
    const looks = [redisLook.againInMs, serverLook.againInMs].filter((ms): ms is number => ms !== undefined);
    return looks.length > 0 ? { requeueAfterMs: Math.min(...looks) } : {};
  };
}
