/**
 * The Grafana dashboard (hack/dashboard/dashboard.ts): the shipped JSON files are the generated
 * ones, every PromQL expression in it names series the operator's metrics registry really
 * exposes, and the Helm chart ships it as a ConfigMap for Grafana's sidecar when asked to.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { createOperatorMetrics } from '../../src/runtime/metrics.ts';
import { DASHBOARD_PATHS, dashboardExpressions, dashboardJson } from '../../hack/dashboard/dashboard.ts';
import { metricNames, seriesNames } from '../../hack/dashboard/promql-names.ts';
import { binaries } from '../cluster/config.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Series names in the operator's /metrics text, from its `# TYPE` lines, with one tenant's quota set. */
async function exposedSeries(): Promise<Set<string>> {
  const metrics = createOperatorMetrics(new Registry());
  metrics.setTenantQuota('acme-corp', [{ resource: 'requests.cpu', used: 1, limit: 4 }]);
  const text = await metrics.exposition.metrics();
  const series = new Set<string>();
  for (const match of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
    for (const name of seriesNames(match[1]!, match[2]!)) series.add(name);
  }
  // The families the registry lists are the ones the text declares.
  for (const family of metrics.names()) assert.ok(text.includes(`# TYPE ${family} `), family);
  return series;
}

describe('Grafana dashboard', () => {
  test('the shipped files are the generated dashboard (`npm run generate`)', () => {
    for (const path of DASHBOARD_PATHS) {
      assert.equal(readFileSync(join(root, path), 'utf8'), dashboardJson(), path);
    }
  });

  test('every PromQL expression names only series the operator exposes', async () => {
    const exposed = await exposedSeries();
    const expressions = dashboardExpressions();
    assert.ok(expressions.length >= 15, `${expressions.length} expressions`);
    const used = new Set<string>();
    for (const expr of expressions) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `"${expr}" selects a metric`);
      for (const name of names) {
        assert.ok(exposed.has(name), `"${expr}" names ${name}, which the operator does not expose`);
        used.add(name);
      }
    }
    // Every operator family is on the dashboard somewhere.
    const families = [...exposed].filter((n) => n.startsWith('neurallog_operator_'));
    const missing = families.filter(
      (n) =>
        !used.has(n) &&
        !['_sum', '_count', '_bucket'].some((s) => used.has(n.replace(/_(sum|count|bucket)$/, s))),
    );
    assert.deepEqual(missing, [], 'operator metrics without a panel');
  });

  test('the name check finds misspelt and unknown metrics', async () => {
    const exposed = await exposedSeries();
    const unknown = (expr: string) => metricNames(expr).filter((n) => !exposed.has(n));
    assert.deepEqual(unknown('sum by (result) (rate(neurallog_operator_reconcile_totals[5m]))'), [
      'neurallog_operator_reconcile_totals',
    ]);
    assert.deepEqual(
      unknown(
        'histogram_quantile(0.99, sum by (le) (rate(neurallog_operator_reconcile_duration_seconds[5m])))',
      ),
      ['neurallog_operator_reconcile_duration_seconds'],
      'a histogram is queried through its _bucket series',
    );
    assert.deepEqual(
      metricNames(
        '(neurallog_operator_resource_quota_used{resource="cpu", tenant=~"$tenant"} / on (tenant) group_left neurallog_operator_resource_quota_limit{resource="cpu"}) * 100',
      ).sort(),
      ['neurallog_operator_resource_quota_limit', 'neurallog_operator_resource_quota_used'],
    );
  });

  test('the quota panels use the Kubernetes guide query: used / limit × 100 per tenant', () => {
    const cpu = dashboardExpressions().find((e) => e.includes('resource_quota_used{resource="cpu"'));
    assert.match(
      cpu ?? '',
      /^\(neurallog_operator_resource_quota_used\{resource="cpu", [^}]*\} \/ neurallog_operator_resource_quota_limit\{resource="cpu", [^}]*\}\) \* 100$/,
    );
  });
});

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

describe('Grafana dashboard in the Helm chart', () => {
  const helm = [process.env.HELM ?? '', binaries().helm].find((p) => p !== '' && executable(p));
  const skip = helm
    ? false
    : 'helm is not built yet (the first integration run builds it) nor given as $HELM';
  const render = (...set: string[]) =>
    parseAllDocuments(
      execFileSync(
        helm!,
        [
          'template',
          'neurallog-operator',
          join(root, 'charts/tenant-operator'),
          '--namespace',
          'neurallog-system',
          ...set.flatMap((s) => ['--set', s]),
        ],
        { encoding: 'utf8', timeout: 60_000 },
      ),
    )
      .map(
        (d) =>
          d.toJS() as {
            kind: string;
            metadata: { name: string; namespace?: string; labels?: Record<string, string> };
            data?: Record<string, string>;
          },
      )
      .filter((m) => m !== null);

  test('renders no dashboard ConfigMap by default', { skip }, () => {
    assert.equal(
      render().some((m) => m.kind === 'ConfigMap'),
      false,
    );
  });

  test('renders the dashboard ConfigMap labelled for the Grafana sidecar when enabled', { skip }, () => {
    const configMaps = render('grafanaDashboard.enabled=true').filter((m) => m.kind === 'ConfigMap');
    assert.equal(configMaps.length, 1);
    const [configMap] = configMaps;
    assert.equal(configMap!.metadata.labels?.['grafana_dashboard'], '1');
    assert.equal(configMap!.metadata.namespace, 'neurallog-system');
    assert.deepEqual(Object.keys(configMap!.data ?? {}), ['tenant-operator.json']);
    assert.deepEqual(JSON.parse(configMap!.data!['tenant-operator.json']!), JSON.parse(dashboardJson()));

    const elsewhere = render('grafanaDashboard.enabled=true', 'grafanaDashboard.namespace=monitoring').find(
      (m) => m.kind === 'ConfigMap',
    );
    assert.equal(elsewhere?.metadata.namespace, 'monitoring');
  });
});

describe('Grafana dashboard in config/prometheus', () => {
  const kubectl = [binaries().kubectl].find(executable);
  test(
    'kubectl kustomize renders it as a ConfigMap for the Grafana sidecar',
    { skip: kubectl ? false : 'kubectl is not built yet (the first integration run builds it)' },
    () => {
      const out = execFileSync(kubectl!, ['kustomize', join(root, 'config/prometheus')], {
        encoding: 'utf8',
      });
      const configMap = parseAllDocuments(out)
        .map(
          (d) =>
            d.toJS() as {
              kind: string;
              metadata: { labels?: Record<string, string> };
              data?: Record<string, string>;
            },
        )
        .find((m) => m.kind === 'ConfigMap');
      assert.equal(configMap?.metadata.labels?.['grafana_dashboard'], '1');
      assert.equal(configMap?.data?.['tenant-operator.json'], dashboardJson());
    },
  );
});
