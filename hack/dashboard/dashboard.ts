/**
 * The Grafana dashboard of the operator's metrics (SPEC §7), as data: `npm run generate` writes it
 * to config/prometheus/grafana-dashboard.json and into the Helm chart; test/unit/dashboard.test.ts
 * checks that every expression names metrics the operator exposes. Quota panels use the
 * Kubernetes guide's query (used / limit × 100 per tenant).
 */

export const DASHBOARD_PATHS = [
  'config/prometheus/grafana-dashboard.json',
  'charts/tenant-operator/dashboards/tenant-operator.json',
] as const;

export const DASHBOARD_UID = 'neurallog-tenant-operator';

interface Target {
  expr: string;
  legendFormat: string;
  refId: string;
  instant?: boolean;
  format?: 'time_series' | 'table';
}

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Panel {
  id: number;
  type: 'row' | 'timeseries' | 'stat' | 'bargauge' | 'table';
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: { type: 'prometheus'; uid: string };
  targets?: Target[];
  fieldConfig?: unknown;
  options?: unknown;
  collapsed?: boolean;
  panels?: Panel[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
const TENANT = 'tenant=~"$tenant"';
const RATE = '$__rate_interval';

interface PanelSpec {
  type: Exclude<Panel['type'], 'row'>;
  title: string;
  description: string;
  w: number;
  h?: number;
  unit?: string;
  stack?: boolean;
  max?: number;
  targets: Array<[expr: string, legend: string]>;
}

/** Each row: a title and its panels, laid out left to right on Grafana's 24-column grid. */
const ROWS: Array<[string, PanelSpec[]]> = [
  [
    'Reconciles',
    [
      {
        type: 'timeseries',
        title: 'Reconcile rate by result',
        description: 'Reconciles per second: success, error, requeue (succeeded, asked to run again).',
        w: 8,
        unit: 'ops',
        stack: true,
        targets: [[`sum by (result) (rate(neurallog_operator_reconcile_total[${RATE}]))`, '{{result}}']],
      },
      {
        type: 'timeseries',
        title: 'Reconcile errors',
        description: 'Reconciles that ended in an error, per second, and as a share of all reconciles.',
        w: 8,
        unit: 'ops',
        targets: [
          [`sum(rate(neurallog_operator_reconcile_errors_total[${RATE}]))`, 'errors/s'],
          [
            `sum(rate(neurallog_operator_reconcile_errors_total[${RATE}])) / clamp_min(sum(rate(neurallog_operator_reconcile_total[${RATE}])), 1e-9)`,
            'error ratio',
          ],
        ],
      },
      {
        type: 'timeseries',
        title: 'Reconcile duration p50 / p99',
        description: 'Time one reconcile of one tenant took.',
        w: 8,
        unit: 's',
        targets: [
          [
            `histogram_quantile(0.5, sum by (le) (rate(neurallog_operator_reconcile_duration_seconds_bucket[${RATE}])))`,
            'p50',
          ],
          [
            `histogram_quantile(0.99, sum by (le) (rate(neurallog_operator_reconcile_duration_seconds_bucket[${RATE}])))`,
            'p99',
          ],
          [
            `sum(rate(neurallog_operator_reconcile_duration_seconds_sum[${RATE}])) / clamp_min(sum(rate(neurallog_operator_reconcile_duration_seconds_count[${RATE}])), 1e-9)`,
            'mean',
          ],
        ],
      },
    ],
  ],
  [
    'Tenants',
    [
      {
        type: 'timeseries',
        title: 'Tenants by phase',
        description: 'Tenants by status.phase (the leader reports them; max over replicas).',
        w: 8,
        stack: true,
        targets: [['max by (phase) (neurallog_operator_tenants)', '{{phase}}']],
      },
      {
        type: 'bargauge',
        title: 'Active tenants by plan',
        description: 'Tenants not being deleted, by spec.planId.',
        w: 8,
        targets: [['max by (plan) (neurallog_operator_active_tenants)', '{{plan}}']],
      },
      {
        type: 'timeseries',
        title: 'Tenants created and deleted',
        description: 'Tenants whose namespace the operator created, and whose deletion it completed.',
        w: 8,
        unit: 'ops',
        targets: [
          [`sum(rate(neurallog_operator_tenants_created_total[${RATE}]))`, 'created'],
          [`sum(rate(neurallog_operator_tenants_deleted_total[${RATE}]))`, 'deleted'],
        ],
      },
    ],
  ],
  [
    'Drift and work queue',
    [
      {
        type: 'timeseries',
        title: 'Drift corrections by kind',
        description: 'Managed objects restored after a change or deletion outside the operator.',
        w: 12,
        unit: 'ops',
        stack: true,
        targets: [[`sum by (kind) (rate(neurallog_operator_drift_corrections_total[${RATE}]))`, '{{kind}}']],
      },
      {
        type: 'timeseries',
        title: 'Work queue depth',
        description: 'Tenants waiting to be reconciled, per operator replica (only the leader works).',
        w: 12,
        targets: [['max by (pod) (neurallog_operator_workqueue_depth)', '{{pod}}']],
      },
    ],
  ],
  [
    'Quota utilisation',
    [
      {
        type: 'timeseries',
        title: 'CPU quota used, per tenant',
        description: 'requests.cpu used / limit of each tenant ResourceQuota, in percent.',
        w: 8,
        unit: 'percent',
        targets: [
          [
            `(neurallog_operator_resource_quota_used{resource="cpu", ${TENANT}} / neurallog_operator_resource_quota_limit{resource="cpu", ${TENANT}}) * 100`,
            '{{tenant}}',
          ],
        ],
      },
      {
        type: 'timeseries',
        title: 'Memory quota used, per tenant',
        description: 'requests.memory used / limit of each tenant ResourceQuota, in percent.',
        w: 8,
        unit: 'percent',
        targets: [
          [
            `(neurallog_operator_resource_quota_used{resource="memory", ${TENANT}} / neurallog_operator_resource_quota_limit{resource="memory", ${TENANT}}) * 100`,
            '{{tenant}}',
          ],
        ],
      },
      {
        type: 'bargauge',
        title: 'Tenants closest to a quota limit',
        description: 'The ten highest used / limit ratios over cpu, memory, storage and pods.',
        w: 8,
        unit: 'percentunit',
        max: 1,
        targets: [
          [`topk(10, neurallog_operator_resource_quota_utilization{${TENANT}})`, '{{tenant}} {{resource}}'],
        ],
      },
    ],
  ],
  [
    'Auth service',
    [
      {
        type: 'timeseries',
        title: 'Auth errors by operation and result',
        description: 'Failed calls to the Auth service: timeout, unavailable (refused, 5xx, 429), rejected.',
        w: 8,
        unit: 'ops',
        stack: true,
        targets: [
          [
            `sum by (operation, result) (rate(neurallog_operator_auth_requests_total{result!="success"}[${RATE}]))`,
            '{{operation}} {{result}}',
          ],
        ],
      },
      {
        type: 'timeseries',
        title: 'Auth request rate',
        description: 'Calls to the Auth service by operation.',
        w: 8,
        unit: 'ops',
        targets: [
          [`sum by (operation) (rate(neurallog_operator_auth_requests_total[${RATE}]))`, '{{operation}}'],
        ],
      },
      {
        type: 'timeseries',
        title: 'Auth request duration p99',
        description: 'Duration of calls to the Auth service, by operation.',
        w: 8,
        unit: 's',
        targets: [
          [
            `histogram_quantile(0.99, sum by (le, operation) (rate(neurallog_operator_auth_request_duration_seconds_bucket[${RATE}])))`,
            '{{operation}}',
          ],
        ],
      },
    ],
  ],
  [
    'Operator process',
    [
      {
        type: 'timeseries',
        title: 'Events dropped',
        description: 'Kubernetes Events about Tenants that the bounded send queue could not keep.',
        w: 8,
        unit: 'ops',
        targets: [[`sum by (type) (rate(neurallog_operator_events_dropped_total[${RATE}]))`, '{{type}}']],
      },
      {
        type: 'timeseries',
        title: 'Resident memory',
        description: 'Resident set size of each operator process.',
        w: 8,
        unit: 'bytes',
        targets: [['process_resident_memory_bytes{job=~"$job"}', '{{pod}}']],
      },
      {
        type: 'timeseries',
        title: 'Event loop lag p99',
        description: 'How late the Node.js event loop runs timers: high values delay every reconcile.',
        w: 8,
        unit: 's',
        targets: [['nodejs_eventloop_lag_p99_seconds{job=~"$job"}', '{{pod}}']],
      },
    ],
  ],
  [
    'Member clusters',
    [
      {
        type: 'timeseries',
        title: 'Member clusters ready',
        description:
          'Per MemberCluster: 1 while it answers, is ready and grants the operator its permissions; 0 otherwise (see its Ready condition).',
        w: 12,
        max: 1,
        targets: [['max by (cluster) (neurallog_operator_member_cluster_ready{job=~"$job"})', '{{cluster}}']],
      },
      {
        type: 'timeseries',
        title: 'Tenants per member cluster',
        description: 'Tenants placed on each MemberCluster (status.placement), against its spec.maxTenants.',
        w: 24,
        targets: [
          ['max by (cluster) (neurallog_operator_member_cluster_tenants{job=~"$job"})', '{{cluster}}'],
        ],
      },
      {
        type: 'timeseries',
        title: 'Member probes failing',
        description: 'Health probes of MemberClusters that did not find them Ready, by cluster and reason.',
        w: 12,
        unit: 'ops',
        targets: [
          [
            `sum by (cluster, result) (rate(neurallog_operator_member_cluster_probes_total{result!="Ready"}[${RATE}]))`,
            '{{cluster}} {{result}}',
          ],
        ],
      },
    ],
  ],
];

function panel(spec: PanelSpec, id: number, gridPos: GridPos): Panel {
  const refIds = 'ABCDEFGH';
  const defaults: Record<string, unknown> = {};
  if (spec.unit) defaults['unit'] = spec.unit;
  if (spec.max !== undefined) {
    defaults['min'] = 0;
    defaults['max'] = spec.max;
  }
  if (spec.type === 'timeseries') {
    defaults['custom'] = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: spec.stack ? 30 : 10,
      stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
      showPoints: 'never',
    };
  }
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DATASOURCE,
    targets: spec.targets.map(([expr, legendFormat], i) => ({
      expr,
      legendFormat,
      refId: refIds[i] ?? `T${i}`,
      ...(spec.type === 'bargauge' ? { instant: true } : {}),
    })),
    fieldConfig: { defaults, overrides: [] },
    options:
      spec.type === 'timeseries'
        ? { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi', sort: 'desc' } }
        : { orientation: 'horizontal', displayMode: 'gradient', reduceOptions: { calcs: ['lastNotNull'] } },
  };
}

/** A Grafana template variable filled from a label's values, with "All" meaning any value. */
function queryVariable(name: string, label: string, expression: string) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query: expression, refId: name },
    definition: expression,
    includeAll: true,
    multi: true,
    allValue: '.*',
    refresh: 2,
    current: {},
    hide: 0,
  };
}

export function buildDashboard(): Record<string, unknown> {
  const panels: Panel[] = [];
  let id = 1;
  let y = 0;
  for (const [title, specs] of ROWS) {
    panels.push({
      id: id++,
      type: 'row',
      title,
      collapsed: false,
      panels: [],
      gridPos: { x: 0, y, w: 24, h: 1 },
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of specs) {
      const h = spec.h ?? 8;
      panels.push(panel(spec, id++, { x, y, w: spec.w, h }));
      x += spec.w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: DASHBOARD_UID,
    title: 'NeuralLog Tenant Operator',
    description:
      'Reconciles, tenants, drift, work queue, quota utilisation and Auth calls of the tenant operator.',
    tags: ['neurallog', 'operator', 'kubernetes'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        queryVariable('job', 'Job', 'label_values(neurallog_operator_reconcile_total, job)'),
        queryVariable(
          'tenant',
          'Tenant',
          'label_values(neurallog_operator_resource_quota_utilization, tenant)',
        ),
      ],
    },
    panels,
  };
}

/** The file text: stable key order, two-space indentation, newline at the end. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

/** Every PromQL expression of the dashboard (panel targets and label_values variable queries). */
export function dashboardExpressions(dashboard: Record<string, unknown> = buildDashboard()): string[] {
  const out: string[] = [];
  const visit = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push(t.expr);
      visit(p.panels ?? []);
    }
  };
  visit(dashboard['panels'] as Panel[]);
  const variables = (dashboard['templating'] as { list: Array<{ query: unknown }> }).list;
  for (const v of variables) {
    const query = v.query as { query?: string } | string;
    const text = typeof query === 'string' ? query : query.query;
    const labelValues = text ? /^label_values\((.+),\s*[a-zA-Z_]+\)$/.exec(text) : null;
    if (labelValues?.[1]) out.push(labelValues[1]);
  }
  return out;
}
