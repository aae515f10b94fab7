/**
 * The operator's Prometheus metrics (SPEC §7), created on a registry the
 * caller owns — never on prom-client's global default registry.
 */
import { registerProcessMetrics } from './process-metrics.ts';
import { Counter, Gauge, Histogram, Registry } from './prom.ts';
import { QUOTA_METRICS, QuotaMetrics, type QuotaUsage } from './quota-metrics.ts';
import { PLAN_IDS as PLANS } from '../api/spec.ts';
import { TENANT_PHASES } from '../api/status.ts';

// The `phase` and `plan` gauges always report every phase and plan of the API.
export { PLANS, TENANT_PHASES };

/** Values of the `result` label of `neurallog_operator_reconcile_total`. */
export const RECONCILE_RESULTS = ['success', 'error', 'requeue'] as const;

export type ReconcileResultLabel = (typeof RECONCILE_RESULTS)[number];

export type QuotaResourceUsage = QuotaUsage;

/** What the `/metrics` endpoint serves. */
export interface MetricsExposition {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** What `recordTenantSnapshot` needs to know about one tenant. */
export interface TenantSnapshotEntry {
  /** `status.phase`; a tenant without a status counts as `Pending`. */
  phase?: string | undefined;
  /** `spec.planId`; defaults to `starter`. */
  plan?: string | undefined;
}

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly tenantsCreated: Counter;
  readonly tenantsDeleted: Counter;
  readonly reconcileTotal: Counter<'result'>;
  readonly reconcileErrors: Counter;
  readonly reconcileDuration: Histogram;
  readonly activeTenants: Gauge<'plan'>;
  readonly tenants: Gauge<'phase'>;
  readonly driftCorrections: Counter<'kind'>;
  readonly workqueueDepth: Gauge;
  readonly eventsDropped: Counter<'type'>;
  readonly authRequests: Counter<'operation' | 'result'>;
  readonly authRequestDuration: Histogram<'operation'>;
  readonly memberClusterReady: Gauge<'cluster'>;
  readonly memberClusterProbes: Counter<'cluster' | 'result'>;
  readonly memberClusterTenants: Gauge<'cluster'>;

  /** Everything the operator exposes: the registry and the per-tenant quota series. */
  readonly exposition: MetricsExposition;
  /** Names of every metric family the operator exposes (the Node.js process metrics included). */
  names(): string[];

  /** Count one reconcile: result counter, duration histogram, and the error counter for `error`. */
  observeReconcile(result: ReconcileResultLabel, durationSeconds: number): void;
  /** Count one call to the Auth service (operation e.g. `list`, `register`, `deregister`). */
  observeAuthRequest(operation: string, result: string, durationSeconds: number): void;
  /** Set tenants-per-phase from a full count; phases missing from `counts` are set to 0. */
  setTenantPhases(counts: Readonly<Record<string, number>>): void;
  /** Set active-tenants-per-plan from a full count; plans missing from `counts` are set to 0. */
  setActiveTenants(countsByPlan: Readonly<Record<string, number>>): void;
  /**
   * Set both gauges from every tenant in the cache. "Active" means not being
   * deleted (every phase but `Terminating`).
   */
  recordTenantSnapshot(tenants: Iterable<TenantSnapshotEntry>): void;
  /**
   * One tenant appeared (`before` undefined), changed, or went away (`after` undefined): the
   * gauges move by one, in constant time — not a recount over every tenant on every event.
   */
  tenantChanged(before: TenantSnapshotEntry | undefined, after: TenantSnapshotEntry | undefined): void;
  /**
   * Set the quota series of one tenant from its ResourceQuota; resources no
   * longer listed are removed. Utilization is used/limit (omitted when the
   * limit is 0).
   */
  setTenantQuota(tenant: string, usage: readonly QuotaResourceUsage[]): void;
  /** Remove every quota series of a deleted tenant. */
  removeTenantQuota(tenant: string): void;
}

export interface OperatorMetricsOptions {
  /** Also register the Node.js process metrics (process-metrics.ts). Default true. */
  defaultMetrics?: boolean;
}

/** The metric names could not be registered (usually: created twice on one registry). */
export class MetricsRegistrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MetricsRegistrationError';
  }
}

const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const AUTH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createOperatorMetrics(
  registry: Registry = new Registry(),
  options: OperatorMetricsOptions = {},
): OperatorMetrics {
  const registers = [registry];
  let handles;
  try {
    handles = {
      tenantsCreated: new Counter({
        name: 'neurallog_operator_tenants_created_total',
        help: 'Tenants whose namespace and resources the operator created.',
        registers,
      }),
      tenantsDeleted: new Counter({
        name: 'neurallog_operator_tenants_deleted_total',
        help: 'Tenants whose deletion the operator completed (finalizer removed).',
        registers,
      }),
      reconcileTotal: new Counter({
        name: 'neurallog_operator_reconcile_total',
        help: 'Reconciles by result: success, error, or requeue (succeeded and asked to run again later).',
        labelNames: ['result'] as const,
        registers,
      }),
      reconcileErrors: new Counter({
        name: 'neurallog_operator_reconcile_errors_total',
        help: 'Reconciles that ended in an error.',
        registers,
      }),
      reconcileDuration: new Histogram({
        name: 'neurallog_operator_reconcile_duration_seconds',
        help: 'Time one reconcile of one tenant took, in seconds.',
        buckets: RECONCILE_BUCKETS,
        registers,
      }),
      activeTenants: new Gauge({
        name: 'neurallog_operator_active_tenants',
        help: 'Tenants not being deleted, by plan.',
        labelNames: ['plan'] as const,
        registers,
      }),
      tenants: new Gauge({
        name: 'neurallog_operator_tenants',
        help: 'Tenants by status phase.',
        labelNames: ['phase'] as const,
        registers,
      }),
      driftCorrections: new Counter({
        name: 'neurallog_operator_drift_corrections_total',
        help: 'Managed objects restored after they were changed or deleted outside the operator, by kind.',
        labelNames: ['kind'] as const,
        registers,
      }),
      workqueueDepth: new Gauge({
        name: 'neurallog_operator_workqueue_depth',
        help: 'Tenants waiting in the work queue to be reconciled.',
        registers,
      }),
      eventsDropped: new Counter({
        name: 'neurallog_operator_events_dropped_total',
        help: 'Events about Tenants that could not be kept in the bounded send queue, by type (Normal ones go first).',
        labelNames: ['type'] as const,
        registers,
      }),
      authRequests: new Counter({
        name: 'neurallog_operator_auth_requests_total',
        help: 'Calls to the NeuralLog Auth service, by operation and result.',
        labelNames: ['operation', 'result'] as const,
        registers,
      }),
      authRequestDuration: new Histogram({
        name: 'neurallog_operator_auth_request_duration_seconds',
        help: 'Duration of calls to the NeuralLog Auth service, in seconds, by operation.',
        labelNames: ['operation'] as const,
        buckets: AUTH_BUCKETS,
        registers,
      }),
      memberClusterReady: new Gauge({
        name: 'neurallog_operator_member_cluster_ready',
        help: 'Whether a MemberCluster answers, is ready and grants the operator its permissions (1) or not (0).',
        labelNames: ['cluster'] as const,
        registers,
      }),
      memberClusterTenants: new Gauge({
        name: 'neurallog_operator_member_cluster_tenants',
        help: 'Tenants placed on a MemberCluster.',
        labelNames: ['cluster'] as const,
        registers,
      }),
      memberClusterProbes: new Counter({
        name: 'neurallog_operator_member_cluster_probes_total',
        help: 'Health probes of MemberClusters, by cluster and result (Ready, or the reason it is not).',
        labelNames: ['cluster', 'result'] as const,
        registers,
      }),
    };
    if (options.defaultMetrics ?? true) registerProcessMetrics(registry);
  } catch (error) {
    throw new MetricsRegistrationError(
      `could not register the operator metrics: ${(error as Error).message}. ` +
        'Create the operator metrics once per registry (pass a fresh prom-client Registry).',
      { cause: error },
    );
  }
  const h = handles;

  for (const result of RECONCILE_RESULTS) h.reconcileTotal.inc({ result }, 0);
  for (const type of ['Normal', 'Warning']) h.eventsDropped.inc({ type }, 0);

  /** Reset a one-label gauge to exactly `known` (all reported, 0 if absent) plus any extra keys in `counts`. */
  const setFull = <L extends string>(
    gauge: Gauge<L>,
    label: L,
    known: readonly string[],
    counts: Readonly<Record<string, number>>,
  ): void => {
    gauge.reset();
    for (const value of new Set([...known, ...Object.keys(counts)])) {
      gauge.set({ [label]: value } as Record<L, string>, counts[value] ?? 0);
    }
  };

  const quota = new QuotaMetrics();
  const phaseCounts: Record<string, number> = {};
  const planCounts: Record<string, number> = {};
  const phaseOf = (t: TenantSnapshotEntry) => t.phase || 'Pending';
  const planOf = (t: TenantSnapshotEntry) => t.plan || 'starter';
  const move = (counts: Record<string, number>, key: string, by: number): number =>
    (counts[key] = (counts[key] ?? 0) + by);

  const metrics: OperatorMetrics = {
    registry,
    ...h,
    observeReconcile(result, durationSeconds) {
      h.reconcileTotal.inc({ result });
      h.reconcileDuration.observe(durationSeconds);
      if (result === 'error') h.reconcileErrors.inc();
    },
    observeAuthRequest(operation, result, durationSeconds) {
      h.authRequests.inc({ operation, result });
      h.authRequestDuration.observe({ operation }, durationSeconds);
    },
    setTenantPhases(counts) {
      setFull(h.tenants, 'phase', TENANT_PHASES, counts);
    },
    setActiveTenants(countsByPlan) {
      setFull(h.activeTenants, 'plan', PLANS, countsByPlan);
    },
    recordTenantSnapshot(tenants) {
      for (const counts of [phaseCounts, planCounts])
        for (const key of Object.keys(counts)) delete counts[key];
      for (const t of tenants) {
        move(phaseCounts, phaseOf(t), 1);
        if (phaseOf(t) !== 'Terminating') move(planCounts, planOf(t), 1);
      }
      metrics.setTenantPhases(phaseCounts);
      metrics.setActiveTenants(planCounts);
    },
    tenantChanged(before, after) {
      for (const [t, by] of [
        [before, -1],
        [after, 1],
      ] as const) {
        if (!t) continue;
        const phase = phaseOf(t);
        h.tenants.set({ phase }, move(phaseCounts, phase, by));
        if (phase !== 'Terminating') {
          const plan = planOf(t);
          h.activeTenants.set({ plan }, move(planCounts, plan, by));
        }
      }
    },
    setTenantQuota(tenant, usage) {
      quota.set(tenant, usage);
    },
    removeTenantQuota(tenant) {
      quota.remove(tenant);
    },
    exposition: {
      contentType: registry.contentType,
      async metrics() {
        return `${await registry.metrics()}\n${quota.text()}`;
      },
    },
    names() {
      const families = registry.getMetricsAsArray().map((m) => m.name);
      return [...families, ...Object.values(QUOTA_METRICS).map((m) => m.name)];
    },
  };
  metrics.setTenantPhases({});
  metrics.setActiveTenants({});
  return metrics;
}
