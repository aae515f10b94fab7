/**
 * The operator process: watch caches, work queue and workers, leader election, metrics and
 * health endpoints, and an orderly shutdown. Caches run on every replica (a standby is warm);
 * only the leader reconciles.
 */
import type { Logger } from 'pino';
import { parseQuantity } from '../api/quantity.ts';
import { createAuthClient, createFileTokenSource } from '../auth/index.ts';
import { resolveKubeConfig } from '../kube/client-config.ts';
import { createEventRecorder } from '../kube/events.ts';
import { KubeLeaseClient } from '../kube/lease-client.ts';
import { type KubeObject, createKubeWriter, createMemberStatusWriter } from '../kube/objects.ts';
import { createKubeRest } from '../kube/rest.ts';
import type { TenantCluster, TenantObject } from '../reconcile/reconciler.ts';
import { Placements } from '../placement/placements.ts';
import { createReconciler } from '../reconcile/reconciler.ts';
import { Controller } from '../runtime/controller.ts';
import { startMetricsServer, startProbeServer, type RunningServer } from '../runtime/health.ts';
import { LeaderElector, defaultLeaderIdentity } from '../runtime/leader.ts';
import { createOperatorMetrics } from '../runtime/metrics.ts';
import { WorkQueue } from '../runtime/queue.ts';
import { MemberController } from '../members/member-controller.ts';
import { createOperatorCaches } from './caches.ts';
import { createRecentWrites, withRecentWrites } from './recent-writes.ts';
import { FINALIZER, LABEL_PLAN } from '../render/meta.ts';
import { memberForHome } from '../reconcile/placement-step.ts';
import { OPERATOR_VERSION } from './version.ts';

export interface ManagerOptions {
  kubeconfig?: string;
  /** Kubeconfig context to use instead of its current-context. */
  context?: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace?: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  concurrency: number;
  resyncPeriodMs: number;
  authUrl: string;
  authTokenFile?: string;
  authDeregisterTimeoutMs: number;
  /** Where a MemberCluster's kubeconfig Secret is looked for when its ref names no namespace. */
  operatorNamespace?: string;
  /** How often each MemberCluster is probed. */
  memberProbeIntervalMs: number;
  /** Deadline of every request to a member cluster. */
  memberRequestTimeoutMs: number;
  /** How long deleting a tenant waits for its member to answer before leaving it a pending cleanup. */
  memberCleanupTimeoutMs: number;
  logger: Logger;
}

export interface RunningManager {
  /** Stop taking work, finish what is in flight, release the lease, close everything. */
  shutdown(): Promise<void>;
  /** Resolves when the process should exit (after shutdown, or when leadership is lost). */
  done: Promise<{ exitCode: number }>;
}

const FALLBACK_NAMESPACE = 'neurallog-system';

/** `tenant-operator/<version> (<identity>)`. */
export function operatorUserAgent(identity: string): string {
  return `tenant-operator/${OPERATOR_VERSION} (${identity})`;
}

/** What the phase and plan gauges count of a Tenant. */
function gaugeEntry(t: TenantObject): { phase: string | undefined; plan: string | undefined } {
  return {
    phase: t.metadata.deletionTimestamp ? 'Terminating' : t.status?.phase,
    plan: (t.spec as { planId?: string } | undefined)?.planId ?? t.metadata.labels?.[LABEL_PLAN],
  };
}

export async function startManager(options: ManagerOptions): Promise<RunningManager> {
  const logger = options.logger.child({ controller: 'tenant' });
  const kube = resolveKubeConfig({
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.context ? { context: options.context } : {}),
  });
  logger.info(
    { source: kube.source, origin: kube.origin, server: kube.server, context: kube.connection.context },
    'using Kubernetes API server',
  );
  const identity = defaultLeaderIdentity();
  // Every request names the process that sent it, so the API server's audit log attributes each
  // write to its replica (the leader-election identity).
  const userAgent = operatorUserAgent(identity);
  const metrics = createOperatorMetrics();
  const rest = createKubeRest(kube.connection, { userAgent });
  const writer = createKubeWriter(rest);
  const events = createEventRecorder({
    rest,
    logger,
    instance: identity,
    onDropped: (type) => metrics.eventsDropped.inc({ type }),
  });
  const auth = createAuthClient({
    baseUrl: options.authUrl,
    ...(options.authTokenFile ? { tokenSource: createFileTokenSource(options.authTokenFile) } : {}),
    onRequest: (e) => metrics.observeAuthRequest(e.operation, e.result, e.durationSeconds),
  });

  const quotaChanged = (tenantId: string, quota: KubeObject | undefined) => {
    if (!quota) return metrics.removeTenantQuota(tenantId);
    const status = (quota.status ?? {}) as { hard?: Record<string, string>; used?: Record<string, string> };
    metrics.setTenantQuota(
      tenantId,
      Object.entries(status.hard ?? {}).map(([resource, limit]) => ({
        resource,
        limit: parseQuantity(limit),
        used: parseQuantity(status.used?.[resource] ?? '0'),
      })),
    );
  };
  const queue = new WorkQueue<string>({ onDepthChange: (depth) => metrics.workqueueDepth.set(depth) });
  const recent = createRecentWrites();
  const caches = createOperatorCaches({
    rest,
    userAgent,
    logger,
    recent,
    resyncPeriodMs: options.resyncPeriodMs,
    events: {
      enqueue: (name, priority) => queue.add(name, priority),
      tenantChanged: (before, after) => {
        metrics.tenantChanged(before && gaugeEntry(before), after && gaugeEntry(after));
        // A member's tenant count follows its tenants at once, not at its next probe.
        const was = before?.status?.placement?.clusterName;
        const is = after?.status?.placement?.clusterName;
        if (was !== is) for (const name of [was, is]) if (name) members.refresh(name);
        // A decision for a Tenant that is gone no longer counts.
        if (!after && before) placements.forget(before.metadata.name);
      },
      quotaChanged: (tenantId, quota) => quotaChanged(tenantId, quota),
    },
  });

  const placements = new Placements(() => caches.tenants());
  const members = new MemberController({
    rest,
    writer: createMemberStatusWriter(rest),
    logger: options.logger.child({ controller: 'membercluster' }),
    // In a pod, its namespace; elsewhere the install's, not the kubeconfig context's (often `default`).
    operatorNamespace:
      options.operatorNamespace ??
      (kube.source === 'in-cluster' ? kube.namespace : undefined) ??
      FALLBACK_NAMESPACE,
    userAgent,
    probeIntervalMs: options.memberProbeIntervalMs,
    requestTimeoutMs: options.memberRequestTimeoutMs,
    tenantsOn: (cluster) => {
      const n = placements.counts().get(cluster) ?? 0;
      metrics.memberClusterTenants.set({ cluster }, n);
      return n;
    },
    quotaChanged,
    // A tenant waiting for a member (NoClusterAvailable) looks again when any member changes; so does
    // one living here unplaced, once a MemberCluster stands for this cluster (it is recorded there).
    onMembersChanged: () => {
      const homeMember = memberForHome(members.membersIfKnown() ?? []);
      for (const t of caches.tenants()) {
        const scheduled = t.status?.conditions?.find((c) => c.type === 'Scheduled');
        const unplacedHere =
          homeMember && !t.status?.placement && (t.metadata.finalizers ?? []).includes(FINALIZER);
        if (scheduled?.reason === 'NoClusterAvailable' || unplacedHere) queue.add(t.metadata.name, 'normal');
      }
    },
    // Its tenants show ClusterUnreachable when it goes, and recover when it is back, at once.
    onReadyChanged: (cluster) => {
      for (const t of caches.tenants())
        if (t.status?.placement?.clusterName === cluster) queue.add(t.metadata.name, 'normal');
    },
    tenantNameForId: (id) => caches.tenantNameForId(id),
    enqueueTenant: (name, priority) => queue.add(name, priority),
    onHealth: (cluster, health) => {
      if (health) {
        metrics.memberClusterReady.set({ cluster }, health.ready ? 1 : 0);
        metrics.memberClusterProbes.inc({ cluster, result: health.ready ? 'Ready' : health.reason });
      } else {
        metrics.memberClusterReady.remove({ cluster });
        metrics.memberClusterTenants.remove({ cluster });
      }
    },
  });

  // Reads see the operator's own writes at once, before the watches deliver them.
  const view = withRecentWrites(caches, writer, recent);
  const homeCluster: TenantCluster = {
    name: 'local',
    observed: view.observed,
    writer: view.writer,
    ownership: 'ownerReference',
  };
  const reconcile = createReconciler({
    tenants: view.observed,
    home: view.writer,
    cluster: homeCluster,
    placement: {
      members: () => members.membersIfKnown(),
      placements,
      clusterFor: (clusterName, member) => {
        if (!member) return { kind: 'missing' };
        // A member without a kubeconfig Secret is the management cluster itself.
        if (!member.spec?.kubeconfigSecretRef) return { kind: 'ready', cluster: homeCluster };
        return members.reach(clusterName);
      },
      memberCleanupTimeoutMs: options.memberCleanupTimeoutMs,
      deferCleanup: (clusterName, entry) => members.deferCleanup(clusterName, entry),
    },
    events,
    auth,
    authUrl: options.authUrl,
    authDeregisterTimeoutMs: options.authDeregisterTimeoutMs,
    logger,
    metrics: {
      tenantCreated: () => metrics.tenantsCreated.inc(),
      tenantDeleted: () => metrics.tenantsDeleted.inc(),
      driftCorrected: (kind) => metrics.driftCorrections.inc({ kind }),
    },
  });
  const controller = new Controller<string>({
    queue,
    reconcile: (key, ctx) => reconcile(key, { logger: ctx.logger }),
    logger,
    concurrency: options.concurrency,
    metrics,
    name: 'tenant',
  });

  let leading = !options.leaderElect;
  const servers: RunningServer[] = [];
  const probe = await startProbeServer({
    address: options.healthProbeBindAddress,
    logger,
    checks: { healthz: { ping: () => true }, readyz: { 'informers-synced': () => caches.hasSynced() } },
  });
  if (probe) servers.push(probe);
  const metricsServer = await startMetricsServer({
    address: options.metricsBindAddress,
    registry: metrics.exposition,
    logger,
  });
  if (metricsServer) servers.push(metricsServer);

  caches.start();
  members.startCache();
  let resolveDone: (v: { exitCode: number }) => void = () => {};
  const done = new Promise<{ exitCode: number }>((resolve) => (resolveDone = resolve));

  let controllerStarted = false;
  let shuttingDown: Promise<void> | undefined;
  const startReconciling = async () => {
    try {
      await caches.waitForSync();
    } catch (error) {
      // Stopped before the caches synced: a shutdown, not a failure.
      if (shuttingDown) return;
      logger.error({ err: error }, 'the watch caches stopped before they synced');
      resolveDone({ exitCode: 1 });
      return;
    }
    if (controllerStarted || shuttingDown) return;
    controllerStarted = true;
    for (const t of caches.tenants()) queue.add(t.metadata.name, 'low');
    controller.start();
    members.startProbing();
    logger.info({ concurrency: options.concurrency }, 'reconciling tenants');
  };

  let elector: LeaderElector | undefined;
  if (options.leaderElect) {
    const namespace = options.leaderElectionNamespace ?? kube.namespace ?? FALLBACK_NAMESPACE;
    elector = new LeaderElector({
      client: new KubeLeaseClient({ rest, namespace, name: options.leaderElectionId }),
      identity,
      logger,
      onStartedLeading: () => {
        leading = true;
        logger.info({ identity, lease: `${namespace}/${options.leaderElectionId}` }, 'became leader');
        void startReconciling();
      },
      onStoppedLeading: (reason) => {
        if (reason === 'lost' && leading) {
          // Another replica may already reconcile: stop at once, as controller-runtime does.
          logger.error({ identity }, 'leadership lost; exiting so that only one replica reconciles');
          resolveDone({ exitCode: 1 });
        }
        leading = false;
      },
    });
    void elector.run();
    logger.info({ identity, lease: `${namespace}/${options.leaderElectionId}` }, 'waiting for leadership');
  } else {
    void startReconciling();
  }

  async function shutdown(): Promise<void> {
    shuttingDown ??= (async () => {
      logger.info('shutting down: finishing reconciles in flight');
      await controller.stop({ drain: true });
      await events.flush();
      // Members first: no probe, cleanup or finalizer write may overlap the next leader.
      await members.stop();
      if (elector) await elector.release();
      await caches.stop();
      await Promise.all(servers.map((s) => s.close()));
      await rest.close();
      logger.info('shutdown complete');
      resolveDone({ exitCode: 0 });
    })();
    return shuttingDown;
  }

  return { shutdown, done };
}
