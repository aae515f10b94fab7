import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { MetricsRegistrationError, createOperatorMetrics } from './metrics.ts';

/** Sample lines (no comments) of one metric family in the text exposition. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('createOperatorMetrics', () => {
  it('registers every SPEC §7 metric, with help, type and labels, plus Node.js process metrics', async () => {
    const registry = new Registry();
    const m = createOperatorMetrics(registry);
    m.tenantsCreated.inc();
    m.tenantsDeleted.inc();
    m.observeReconcile('success', 0.2);
    m.observeReconcile('error', 1.5);
    m.observeReconcile('requeue', 0.01);
    m.driftCorrections.inc({ kind: 'Deployment' });
    m.workqueueDepth.set(3);
    m.setTenantQuota('acme', [{ resource: 'pods', used: 5, limit: 10 }]);
    m.observeAuthRequest('register', 'success', 0.05);
    m.memberClusterReady.set({ cluster: 'prod-1' }, 1);
    m.memberClusterProbes.inc({ cluster: 'prod-1', result: 'Ready' });
    m.memberClusterTenants.set({ cluster: 'prod-1' }, 3);

    const text = await m.exposition.metrics();
    const expected: Array<[string, string, string[]]> = [
      ['neurallog_operator_tenants_created_total', 'counter', []],
      ['neurallog_operator_tenants_deleted_total', 'counter', []],
      ['neurallog_operator_reconcile_total', 'counter', ['result']],
      ['neurallog_operator_reconcile_errors_total', 'counter', []],
      ['neurallog_operator_reconcile_duration_seconds', 'histogram', []],
      ['neurallog_operator_active_tenants', 'gauge', ['plan']],
      ['neurallog_operator_tenants', 'gauge', ['phase']],
      ['neurallog_operator_drift_corrections_total', 'counter', ['kind']],
      ['neurallog_operator_workqueue_depth', 'gauge', []],
      ['neurallog_operator_resource_quota_used', 'gauge', ['tenant', 'resource']],
      ['neurallog_operator_resource_quota_limit', 'gauge', ['tenant', 'resource']],
      ['neurallog_operator_resource_quota_utilization', 'gauge', ['tenant', 'resource']],
      ['neurallog_operator_auth_requests_total', 'counter', ['operation', 'result']],
      ['neurallog_operator_auth_request_duration_seconds', 'histogram', ['operation']],
      ['neurallog_operator_events_dropped_total', 'counter', ['type']],
      ['neurallog_operator_member_cluster_ready', 'gauge', ['cluster']],
      ['neurallog_operator_member_cluster_probes_total', 'counter', ['cluster', 'result']],
      ['neurallog_operator_member_cluster_tenants', 'gauge', ['cluster']],
    ];
    for (const [name, type, labels] of expected) {
      assert.match(text, new RegExp(`^# HELP ${name} \\S.*$`, 'm'), `${name} has help text`);
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), `${name} is a ${type}`);
      const lines = type === 'histogram' ? samples(text, `${name}_count`) : samples(text, name);
      assert.ok(lines.length > 0, `${name} has samples`);
      for (const line of lines) {
        const found = [...(line.match(/\{(.*)\}/)?.[1] ?? '').matchAll(/(\w+)="/g)].map((x) => x[1]);
        assert.deepEqual(found, labels, `${name} carries exactly the labels ${labels.join(',')}: ${line}`);
      }
    }
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_heap_size_total_bytes /m);
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]);
    assert.deepEqual(m.names().sort(), families.sort(), 'names() lists every family served');
  });

  it('counts reconciles by result and errors separately', async () => {
    const m = createOperatorMetrics(new Registry(), { defaultMetrics: false });
    const text0 = await m.registry.metrics();
    for (const result of ['success', 'error', 'requeue']) {
      assert.ok(
        text0.includes(`neurallog_operator_reconcile_total{result="${result}"} 0`),
        `${result} starts at 0`,
      );
    }
    m.observeReconcile('success', 0.1);
    m.observeReconcile('error', 0.1);
    m.observeReconcile('error', 0.1);
    const text = await m.registry.metrics();
    assert.ok(text.includes('neurallog_operator_reconcile_total{result="success"} 1'));
    assert.ok(text.includes('neurallog_operator_reconcile_total{result="error"} 2'));
    assert.ok(text.includes('neurallog_operator_reconcile_errors_total 2'));
    assert.ok(text.includes('neurallog_operator_reconcile_duration_seconds_count 3'));
  });

  it('sets per-phase and per-plan gauges from a snapshot, resetting what dropped to zero', async () => {
    const m = createOperatorMetrics(new Registry(), { defaultMetrics: false });
    m.recordTenantSnapshot([
      { phase: 'Running', plan: 'enterprise' },
      { phase: 'Running', plan: 'starter' },
      { phase: 'Failed' },
      { phase: undefined, plan: 'professional' },
      { phase: 'Terminating', plan: 'enterprise' },
    ]);
    let text = await m.registry.metrics();
    assert.deepEqual(samples(text, 'neurallog_operator_tenants').sort(), [
      'neurallog_operator_tenants{phase="Degraded"} 0',
      'neurallog_operator_tenants{phase="Failed"} 1',
      'neurallog_operator_tenants{phase="Pending"} 1',
      'neurallog_operator_tenants{phase="Provisioning"} 0',
      'neurallog_operator_tenants{phase="Running"} 2',
      'neurallog_operator_tenants{phase="Terminating"} 1',
    ]);
    assert.deepEqual(samples(text, 'neurallog_operator_active_tenants').sort(), [
      'neurallog_operator_active_tenants{plan="enterprise"} 1',
      'neurallog_operator_active_tenants{plan="professional"} 1',
      'neurallog_operator_active_tenants{plan="starter"} 2',
    ]);

    m.recordTenantSnapshot([{ phase: 'Degraded', plan: 'professional' }]);
    text = await m.registry.metrics();
    assert.ok(text.includes('neurallog_operator_tenants{phase="Running"} 0'));
    assert.ok(text.includes('neurallog_operator_tenants{phase="Degraded"} 1'));
    assert.ok(text.includes('neurallog_operator_active_tenants{plan="enterprise"} 0'));
    assert.ok(text.includes('neurallog_operator_active_tenants{plan="professional"} 1'));
  });

  it('drops phase labels outside the known set once they are gone from the snapshot', async () => {
    const m = createOperatorMetrics(new Registry(), { defaultMetrics: false });
    m.setTenantPhases({ Weird: 1 });
    assert.ok((await m.registry.metrics()).includes('neurallog_operator_tenants{phase="Weird"} 1'));
    m.setTenantPhases({});
    assert.ok(!(await m.registry.metrics()).includes('phase="Weird"'));
  });

  it('sets, replaces and removes a tenant’s quota series: cpu, memory, storage and pods', async () => {
    const m = createOperatorMetrics(new Registry(), { defaultMetrics: false });
    m.setTenantQuota('acme', [
      { resource: 'pods', used: 5, limit: 10 },
      { resource: 'requests.cpu', used: 0.5, limit: 2 },
      { resource: 'limits.cpu', used: 1, limit: 4 },
      { resource: 'requests.storage', used: 1, limit: 0 },
    ]);
    m.setTenantQuota('other', [{ resource: 'pods', used: 1, limit: 10 }]);
    let text = await m.exposition.metrics();
    assert.ok(text.includes('neurallog_operator_resource_quota_used{tenant="acme",resource="pods"} 5'));
    assert.ok(text.includes('neurallog_operator_resource_quota_limit{tenant="acme",resource="pods"} 10'));
    assert.ok(
      text.includes('neurallog_operator_resource_quota_utilization{tenant="acme",resource="pods"} 0.5'),
    );
    assert.ok(
      text.includes('neurallog_operator_resource_quota_utilization{tenant="acme",resource="cpu"} 0.25'),
    );
    assert.ok(!text.includes('limits.cpu'), 'only the four resources of the guide');
    assert.ok(
      !text.includes('neurallog_operator_resource_quota_utilization{tenant="acme",resource="storage"}'),
      'no utilization for a zero limit',
    );

    m.setTenantQuota('acme', [{ resource: 'pods', used: 6, limit: 10 }]);
    text = await m.exposition.metrics();
    assert.ok(!text.includes('tenant="acme",resource="cpu"'), 'resources no longer listed are removed');
    assert.ok(text.includes('neurallog_operator_resource_quota_used{tenant="acme",resource="pods"} 6'));

    m.removeTenantQuota('acme');
    text = await m.exposition.metrics();
    assert.ok(!text.includes('tenant="acme"'), 'deleted tenant leaves no series');
    assert.ok(text.includes('neurallog_operator_resource_quota_used{tenant="other",resource="pods"} 1'));
  });

  it('moves the phase and plan gauges one tenant at a time', async () => {
    const m = createOperatorMetrics(new Registry(), { defaultMetrics: false });
    m.tenantChanged(undefined, { phase: undefined, plan: 'enterprise' });
    m.tenantChanged(undefined, { phase: 'Running', plan: undefined });
    m.tenantChanged({ phase: undefined, plan: 'enterprise' }, { phase: 'Running', plan: 'enterprise' });
    let text = await m.registry.metrics();
    assert.ok(text.includes('neurallog_operator_tenants{phase="Running"} 2'));
    assert.ok(text.includes('neurallog_operator_tenants{phase="Pending"} 0'));
    assert.ok(text.includes('neurallog_operator_active_tenants{plan="enterprise"} 1'));
    assert.ok(text.includes('neurallog_operator_active_tenants{plan="starter"} 1'));
    m.tenantChanged({ phase: 'Running', plan: 'enterprise' }, { phase: 'Terminating', plan: 'enterprise' });
    m.tenantChanged({ phase: 'Terminating', plan: 'enterprise' }, undefined);
    text = await m.registry.metrics();
    assert.ok(text.includes('neurallog_operator_tenants{phase="Running"} 1'));
    assert.ok(text.includes('neurallog_operator_tenants{phase="Terminating"} 0'));
    assert.ok(text.includes('neurallog_operator_active_tenants{plan="enterprise"} 0'));
  });

  it('refuses to register twice on one registry with a typed error', () => {
    const registry = new Registry();
    createOperatorMetrics(registry, { defaultMetrics: false });
    assert.throws(() => createOperatorMetrics(registry, { defaultMetrics: false }), MetricsRegistrationError);
  });

  it('keeps separate registries independent (no global state)', async () => {
    const a = createOperatorMetrics();
    const b = createOperatorMetrics();
    a.tenantsCreated.inc(2);
    assert.ok((await a.registry.metrics()).includes('neurallog_operator_tenants_created_total 2'));
    assert.ok((await b.registry.metrics()).includes('neurallog_operator_tenants_created_total 0'));
  });
});
