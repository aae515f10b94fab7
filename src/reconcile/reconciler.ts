/**
 * Reconciles one Tenant as a short list of named steps — spec, deletion, cluster (placement),
 * finalizer, namespace, Auth, children, diagnosis, status — each in a module of its own.
 * Everything is read from the caches it is handed (with the operator's own recent writes); only
 * differences are written.
 */
import type { Logger } from 'pino';
import { resolveTenant } from '../api/resolve.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeWriter } from '../kube/objects.ts';
import { selectorLabels } from '../render/meta.ts';
import { generateRedisPassword } from '../render/redis-conf.ts';
import { authStep } from './auth-step.ts';
import { childrenStep } from './children-step.ts';
import {
  type MemberPlacement,
  MEMBER_UNKNOWN_RETRY_MS,
  RECHECK_AT_ONCE_MS,
  clusterOfPlaced,
  clusterStep,
} from './cluster-step.ts';
import { finalizeTenant } from './deletion.ts';
import { lookIntoComponent } from './diagnose.ts';
import { ensureFinalizer } from './finalizer-step.ts';
import { finalizeOnUnreachableMember } from './member-deletion.ts';
import { lookupNamespace, namespaceState, terminationDetail } from './namespace-state.ts';
import type { TenantIdentity } from './ownership.ts';
import type {
  AuthPort,
  ObservedCluster,
  ReconcileResult,
  ReconcileServices,
  ReconcilerMetrics,
  TenantCluster,
  TenantObject,
} from './ports.ts';
import { checkSpec, rejectInvalidSpec } from './spec-step.ts';
import { type StatusBase, blockedByNamespace, statusStep, workloadsOf } from './status-step.ts';

export type { AuthPort, ObservedCluster, ReconcilerMetrics, TenantCluster, TenantObject } from './ports.ts';
export { AuthPendingError, ChildWriteError } from './status-step.ts';

export interface ReconcilerOptions {
  /** Where Tenants are read (the operator's own cluster's cache). */
  tenants: Pick<ObservedCluster, 'tenant'>;
  /** Where Tenant status and finalizers are written. */
  home: Pick<KubeWriter, 'patchTenantStatus' | 'setTenantFinalizers' | 'get'>;
  /** The operator's own cluster: where a tenant lives when there is no MemberCluster. */
  cluster: TenantCluster;
  /** Placement over MemberClusters (SPEC §10); without it every tenant lives on `cluster`. */
  placement?: MemberPlacement;
  events: EventRecorder;
  metrics: ReconcilerMetrics;
  auth: AuthPort;
  authUrl: string;
  authDeregisterTimeoutMs: number;
  logger: Logger;
  now?: () => Date;
  generatePassword?: () => string;
}

export function createReconciler(options: ReconcilerOptions) {
  const { tenants, home, cluster: homeCluster, events, logger, placement } = options;
  const services: ReconcileServices = {
    events,
    metrics: options.metrics,
    auth: options.auth,
    authUrl: options.authUrl,
    authDeregisterTimeoutMs: options.authDeregisterTimeoutMs,
    now: options.now ?? (() => new Date()),
    generatePassword: options.generatePassword ?? generateRedisPassword,
  };
  const now = services.now;

  /** Deletion (SPEC §6), on the cluster the tenant lives on; §10.4 when its member does not answer. */
  function deletionStep(
    t: TenantObject,
    spec: ReturnType<typeof checkSpec>,
    log: Logger,
  ): Promise<ReconcileResult> {
    const resolved = spec.resolved;
    const placed = clusterOfPlaced(t, placement);
    if (placed?.choice.kind === 'unknown')
      return Promise.resolve({ requeueAfterMs: MEMBER_UNKNOWN_RETRY_MS });
    if (placed && placement && placed.choice.kind === 'unreachable') {
      return finalizeOnUnreachableMember({
        t,
        resolved,
        clusterName: placed.clusterName,
        why: placed.choice.message,
        ...(placed.choice.since ? { unreachableSince: placed.choice.since } : {}),
        home,
        services,
        log,
        cleanupTimeoutMs: placement.memberCleanupTimeoutMs,
        deferCleanup: (entry) => placement.deferCleanup(placed.clusterName, entry),
      });
    }
    // A member that is gone has nothing left to reach: what it held is out of the operator's hands.
    const cluster = placed?.choice.kind === 'ready' ? placed.choice.cluster : homeCluster;
    return finalizeTenant({ t, resolved, cluster, home, services, log });
  }

  return async function reconcile(name: string, ctx: { logger?: Logger } = {}): Promise<ReconcileResult> {
    const log = ctx.logger ?? logger.child({ tenant: name });
    const startedAt = now();
    const cached = tenants.tenant(name);
    if (!cached) return {};

    const spec = checkSpec(cached);
    if (cached.metadata.deletionTimestamp) return deletionStep(cached, spec, log);
    if (!spec.ok) return rejectInvalidSpec(home, events, cached, spec.problems, now());

    const where = await clusterStep({
      t: cached,
      namespace: spec.resolved.namespace,
      id: spec.resolved.id,
      request: spec.tenant.spec?.placement ?? {},
      placement,
      homeCluster,
      home,
      events,
      now,
      log,
    });
    if (where.kind === 'stop') return where.result;
    const { cluster } = where;

    const finalizer = await ensureFinalizer(home, where.t);
    const t = finalizer.t;
    const uid = t.metadata.uid;
    const r = resolveTenant({ ...spec.tenant, metadata: { ...spec.tenant.metadata, uid } });
    const identity: TenantIdentity = { uid, id: r.id, namespace: r.namespace };
    const generation = t.metadata.generation;
    const specChanged = generation === undefined || generation !== t.status?.observedGeneration;

    const liveNamespace = await lookupNamespace(cluster, r.namespace);
    const nsState = namespaceState(liveNamespace, identity, cluster.ownership);

    const auth = await authStep({
      t,
      r,
      idOwnedElsewhere: nsState === 'conflict',
      finalizerConfirmed: finalizer.confirmed,
      home,
      auth: options.auth,
      log,
    });
    if (!auth) return {};
    const publisher = { home, events, t };
    const base: StatusBase = { tenant: r, generation, previous: t.status, auth, now: now() };
    if (nsState === 'conflict' || nsState === 'terminating')
      return blockedByNamespace(publisher, base, nsState, terminationDetail(liveNamespace));

    const { plan, written } = await childrenStep({
      t,
      r,
      identity,
      cluster,
      liveNamespace,
      specChanged,
      startedAt,
      services,
      log,
    });
    if (written.namespaceRace) return { requeueAfterMs: RECHECK_AT_ONCE_MS };

    const { statefulSet, deployment } = workloadsOf(r, written);
    const [redis, server] = await Promise.all([
      lookIntoComponent({
        workload: statefulSet,
        desiredReplicas: r.redis.replicas,
        podSelector: selectorLabels(r, 'redis'),
        reader: cluster.writer,
        now: now(),
      }),
      lookIntoComponent({
        workload: deployment,
        desiredReplicas: r.server.replicas,
        podSelector: selectorLabels(r, 'server'),
        reader: cluster.writer,
        now: now(),
      }),
    ]);

    return statusStep(publisher, base, {
      namespace: written.namespaceCreated ? 'ready' : nsState,
      plan,
      written,
      redis,
      server,
    });
  };
}
