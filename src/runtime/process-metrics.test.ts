import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as index from 'prom-client';
import { registerProcessMetrics } from './process-metrics.ts';
import { Registry } from './prom.ts';

const value = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  assert.ok(line, `${name} is exposed`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('registerProcessMetrics', () => {
  it('exposes the process series under the names of prom-client defaults, with current values', async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const burn = Date.now() + 30;
    while (Date.now() < burn); // some CPU time, and one long event-loop turn
    await new Promise((resolve) => setTimeout(resolve, 20));
    const text = await registry.metrics();
    assert.ok(value(text, 'process_resident_memory_bytes') > 10 * 1024 * 1024);
    assert.ok(value(text, 'process_cpu_user_seconds_total') > 0);
    assert.ok(
      value(text, 'process_cpu_seconds_total') >=
        value(text, 'process_cpu_user_seconds_total') +
          value(text, 'process_cpu_system_seconds_total') -
          1e-9,
      'total = user + system, read at the same scrape',
    );
    assert.ok(Math.abs(value(text, 'process_start_time_seconds') - Date.now() / 1000) < 3600);
    assert.ok(value(text, 'nodejs_heap_size_used_bytes') > 0);
    assert.ok(value(text, 'nodejs_heap_size_total_bytes') >= value(text, 'nodejs_heap_size_used_bytes'));
    assert.ok(value(text, 'nodejs_eventloop_lag_p99_seconds') > 0.01, 'the 30 ms turn shows in this scrape');
    assert.equal(value(text, 'nodejs_version_info'), 1);
    assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  });

  it('registers nothing on the global registry, and twice on one registry is an error', () => {
    const before = index.register.getMetricsAsArray().length;
    const registry = new Registry();
    registerProcessMetrics(registry);
    assert.equal(index.register.getMetricsAsArray().length, before);
    assert.throws(() => registerProcessMetrics(registry), /already been registered/);
  });
});
