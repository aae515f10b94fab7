/**
 * Test helpers: one Tenant reconciled against the fakes, wired as the operator wires the real
 * reconciler (caches with its own recent writes in front). Not part of the shipped code paths.
 */
import assert from 'node:assert/strict';
import type { TenantStatus } from '../api/status.ts';
import { createRecentWrites, withRecentWrites } from '../operator/recent-writes.ts';
import {
  FakeApiServer,
  FakeAuth,
  FakeEvents,
  FakeMetrics,
  ManualClock,
  type RbacRule,
  localCluster,
  observedCluster,
  silentLogger,
} from './fakes.test-util.ts';
import { type ObservedCluster, createReconciler } from './reconciler.ts';

export const AUTH_URL = 'http://auth.neurallog-system.svc:3000';
export const DEREGISTER_TIMEOUT_MS = 10 * 60_000;
export const NS = 'tenant-x';

export function setup(
  spec: Record<string, unknown> = {},
  options: { name?: string; seed?: boolean; rules?: readonly RbacRule[] } = {},
) {
  const name = options.name ?? 'x';
  const clock = new ManualClock();
  const server = new FakeApiServer({ now: clock.now, ...(options.rules ? { rules: options.rules } : {}) });
  if (options.seed !== false) server.seedTenant({ metadata: { name }, spec });
  const events = new FakeEvents(server);
  const auth = new FakeAuth();
  const metrics = new FakeMetrics();
  // One memory of recent writes across reconciles, as the operator process has.
  const recent = createRecentWrites({ now: () => clock.now().getTime() });
  // The store's changes reach it as the watches would deliver them (unless a test pauses them).
  server.watchers.push({
    changed: (obj) => recent.observed(obj),
    deleted: (obj) => recent.observedDeleted(obj),
  });
  let passwords = 0;
  const build = (observed: ObservedCluster = observedCluster(server)) => {
    const view = withRecentWrites(observed, server, recent);
    return createReconciler({
      tenants: view.observed,
      home: view.writer,
      cluster: localCluster(view.observed, view.writer),
      events,
      metrics,
      auth,
      authUrl: AUTH_URL,
      authDeregisterTimeoutMs: DEREGISTER_TIMEOUT_MS,
      logger: silentLogger,
      now: clock.now,
      generatePassword: () => `password-${++passwords}`,
    });
  };
  const reconcile = build();
  return {
    name,
    clock,
    server,
    events,
    auth,
    metrics,
    recent,
    build,
    reconcile: () => reconcile(name),
    status: (): TenantStatus => server.tenant(name)?.status ?? {},
    /** Forget what was recorded so far, so the next step's writes and calls stand alone. */
    reset() {
      server.writes.length = 0;
      server.reads.length = 0;
      events.clear();
      auth.calls.length = 0;
    },
  };
}

/** Asserts that nothing was written (a helper: `deepEqual(writes, [])` would narrow `writes` to never[]). */
export function assertNoWrites(server: FakeApiServer, message = 'no writes'): void {
  assert.deepEqual(
    server.writes.map((w) => `${w.verb} ${w.key}`),
    [],
    message,
  );
}

export function condition(status: TenantStatus, type: string) {
  const c = status.conditions?.find((x) => x.type === type);
  assert.ok(c, `condition ${type}`);
  return c;
}
