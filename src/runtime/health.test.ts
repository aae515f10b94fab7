import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import {
  BindError,
  InvalidBindAddressError,
  parseBindAddress,
  startMetricsServer,
  startProbeServer,
} from './health.ts';
import type { RunningServer } from './health.ts';
import { createOperatorMetrics } from './metrics.ts';

function started(server: RunningServer | undefined): RunningServer {
  assert.ok(server !== undefined, 'server should be enabled');
  return server;
}

describe('parseBindAddress', () => {
  it('accepts the controller-runtime forms and "0" for disabled', () => {
    assert.equal(parseBindAddress('0'), undefined);
    assert.deepEqual(parseBindAddress(':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseBindAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseBindAddress('localhost:9090'), { host: 'localhost', port: 9090 });
    assert.deepEqual(parseBindAddress('[::1]:8081'), { host: '::1', port: 8081 });
  });

  it('rejects malformed addresses with a message that says what to write', () => {
    for (const bad of ['', '8080', 'host', ':', ':99999', '::1:8080', 'a:b']) {
      assert.throws(
        () => parseBindAddress(bad),
        (e: unknown) => {
          assert.ok(e instanceof InvalidBindAddressError, `${bad} → InvalidBindAddressError`);
          assert.match(e.message, /":8080"/);
          return true;
        },
      );
    }
  });
});

describe('startProbeServer', () => {
  it('answers /healthz and /readyz with 200 ok while the checks pass, 500 naming the failing check otherwise', async () => {
    let ready = false;
    const server = started(
      await startProbeServer({
        address: '127.0.0.1:0',
        checks: { healthz: () => true, readyz: async () => ready },
      }),
    );
    try {
      assert.ok(server.port > 0);
      const base = `http://127.0.0.1:${server.port}`;

      const healthz = await fetch(`${base}/healthz`);
      assert.equal(healthz.status, 200);
      assert.equal(await healthz.text(), 'ok');

      const notReady = await fetch(`${base}/readyz`);
      assert.equal(notReady.status, 500);
      assert.match(await notReady.text(), /\[-\]readyz failed/);

      ready = true;
      const readyz = await fetch(`${base}/readyz?verbose`);
      assert.equal(readyz.status, 200);
      assert.equal(await readyz.text(), 'ok');

      assert.equal((await fetch(`${base}/other`)).status, 404);
      const post = await fetch(`${base}/healthz`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    } finally {
      await server.close();
    }
  });

  it('reports each failing named check, including ones that throw', async () => {
    const server = started(
      await startProbeServer({
        address: '127.0.0.1:0',
        checks: {
          healthz: { ping: () => true },
          readyz: {
            informers: () => false,
            leader: () => {
              throw new Error('lease lost');
            },
            ping: () => true,
          },
        },
      }),
    );
    try {
      const healthz = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      assert.equal(healthz.status, 200);
      const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      assert.equal(res.status, 500);
      assert.equal(
        await res.text(),
        '[-]informers failed\n[-]leader failed: lease lost\nreadyz check failed\n',
      );
    } finally {
      await server.close();
    }
  });

  it('returns undefined for address "0"', async () => {
    assert.equal(
      await startProbeServer({ address: '0', checks: { healthz: () => true, readyz: () => true } }),
      undefined,
    );
  });

  it('fails with a BindError when the port is taken', async () => {
    const first = started(
      await startProbeServer({ address: '127.0.0.1:0', checks: { healthz: () => true, readyz: () => true } }),
    );
    try {
      await assert.rejects(
        startProbeServer({
          address: `127.0.0.1:${first.port}`,
          checks: { healthz: () => true, readyz: () => true },
        }),
        (e: unknown) => e instanceof BindError && /already in use/.test(e.message) && e.cause !== undefined,
      );
    } finally {
      await first.close();
    }
  });
});

describe('startMetricsServer', () => {
  it('serves the registry in Prometheus text format on /metrics', async () => {
    const metrics = createOperatorMetrics(new Registry());
    metrics.tenantsCreated.inc();
    const server = started(await startMetricsServer({ address: ':0', registry: metrics.registry }));
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), metrics.registry.contentType);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const body = await res.text();
      assert.match(body, /^neurallog_operator_tenants_created_total 1$/m);
      assert.match(body, /^# TYPE neurallog_operator_reconcile_duration_seconds histogram$/m);
      assert.match(body, /^process_cpu_user_seconds_total /m);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('answers 500 when collecting fails, and stays up', async () => {
    let fail = true;
    const registry = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      metrics: async () => {
        if (fail) throw new Error('collector broke');
        return 'up 1\n';
      },
    };
    const server = started(await startMetricsServer({ address: '127.0.0.1:0', registry }));
    try {
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status, 500);
      fail = false;
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'up 1\n');
    } finally {
      await server.close();
    }
  });

  it('returns undefined for address "0" and closes cleanly twice', async () => {
    assert.equal(await startMetricsServer({ address: '0', registry: new Registry() }), undefined);
    const server = started(await startMetricsServer({ address: '127.0.0.1:0', registry: new Registry() }));
    await server.close();
    await server.close();
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/metrics`));
  });
});
