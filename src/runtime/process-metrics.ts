/**
 * The process metrics a Node.js service is expected to expose, under the names prom-client's
 * default metrics use (so dashboards and alerts written for them keep working): CPU, resident
 * memory, start time, heap, event-loop delay and the Node.js version. Written here rather than
 * taken from prom-client's `collectDefaultMetrics`, whose module alone costs about 11 MiB of
 * resident memory at start-up (docs/design.md, "Idle memory"), for the seven series we read.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from './prom.ts';

const MICROS = 1e6;
const NANOS = 1e9;

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  // Each group is read in the collect() of its first metric, before any of them is serialized.
  let cpuSeen = process.cpuUsage();
  const cpuSystem = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers: [],
  });
  const cpuTotal = new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers: [],
  });
  new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers,
    collect() {
      const now = process.cpuUsage();
      const user = (now.user - cpuSeen.user) / MICROS;
      const system = (now.system - cpuSeen.system) / MICROS;
      cpuSeen = now;
      this.inc(user);
      cpuSystem.inc(system);
      cpuTotal.inc(user + system);
    },
  });
  registry.registerMetric(cpuSystem);
  registry.registerMetric(cpuTotal);

  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since unix epoch in seconds.',
    registers,
  }).set(Math.round(Date.now() / 1000 - process.uptime()));

  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });

  const heapUsed = new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'Process heap size used from Node.js in bytes.',
    registers: [],
  });
  const external = new Gauge({
    name: 'nodejs_external_memory_bytes',
    help: 'Node.js external memory size in bytes.',
    registers: [],
  });
  new Gauge({
    name: 'nodejs_heap_size_total_bytes',
    help: 'Process heap size from Node.js in bytes.',
    registers,
    collect() {
      const memory = process.memoryUsage();
      this.set(memory.heapTotal);
      heapUsed.set(memory.heapUsed);
      external.set(memory.external);
    },
  });
  registry.registerMetric(heapUsed);
  registry.registerMetric(external);

  // Event-loop delay since the previous scrape, as prom-client reports it.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // Registered after the first one, so that its collect() runs first; none on the global registry.
  const stat = (name: string, help: string) => new Gauge({ name, help, registers: [] });
  const lag = {
    max: stat('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.'),
    mean: stat('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.'),
    stddev: stat(
      'nodejs_eventloop_lag_stddev_seconds',
      'The standard deviation of the recorded event loop delays.',
    ),
    p50: stat('nodejs_eventloop_lag_p50_seconds', 'The 50th percentile of the recorded event loop delays.'),
    p90: stat('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the recorded event loop delays.'),
    p99: stat('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the recorded event loop delays.'),
  };
  new Gauge({
    name: 'nodejs_eventloop_lag_min_seconds',
    help: 'The minimum recorded event loop delay.',
    registers,
    collect() {
      // Before the first sample the histogram holds sentinels (min 9.2e18): report 0 instead.
      const seen = delay.count > 0;
      const at = (ns: number) => (seen ? ns / NANOS : 0);
      this.set(at(delay.min));
      lag.max.set(at(delay.max));
      lag.mean.set(at(delay.mean));
      lag.stddev.set(at(delay.stddev));
      lag.p50.set(at(delay.percentile(50)));
      lag.p90.set(at(delay.percentile(90)));
      lag.p99.set(at(delay.percentile(99)));
      delay.reset();
    },
  });
  for (const gauge of Object.values(lag)) registry.registerMetric(gauge);

  const [major, minor, patch] = process.versions.node.split('.');
  new Gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'] as const,
    registers,
  }).set({ version: process.version, major: major ?? '', minor: minor ?? '', patch: patch ?? '' }, 1);
}
