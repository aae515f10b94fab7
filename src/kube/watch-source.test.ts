import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { FakeClock } from '../runtime/clock.ts';
import { Informer } from '../runtime/informer.ts';
import { simpleConnection } from './connection.ts';
import { staticToken } from './credentials.ts';
import { type KubeRest, createKubeRest } from './rest.ts';
import {
  KubeApiError,
  KubeConnectionError,
  KubeWatchSource,
  ResourceVersionExpiredError,
  WatchStreamError,
} from './watch-source.ts';

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion: string };
}

type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;

/** A tiny stand-in for the API server: each test installs the route it needs. */
class FakeApiServer {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ url, headers: req.headers });
    this.route(req, res, url);
  });
  route: Route = (_req, res) => {
    res.writeHead(404).end();
  };
  requests: Array<{ url: URL; headers: http.IncomingHttpHeaders }> = [];
  sockets = new Set<Socket>();

  async start(): Promise<string> {
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function restFor(server: string): KubeRest {
  return createKubeRest(simpleConnection(server, staticToken('secret-token')));
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

const o = (name: string, rv: string): Obj => ({ metadata: { name, resourceVersion: rv } });

describe('KubeWatchSource', () => {
  const api = new FakeApiServer();
  let server: string;
  before(async () => {
    server = await api.start();
  });
  after(() => api.stop());

  function source(
    extra: Partial<ConstructorParameters<typeof KubeWatchSource>[0]> = {},
  ): KubeWatchSource<Obj> {
    api.requests = [];
    return new KubeWatchSource<Obj>({
      rest: restFor(server),
      path: '/apis/neurallog.io/v1/tenants',
      labelSelector: 'app.kubernetes.io/managed-by=tenant-operator',
      random: () => 0.5,
      ...extra,
    });
  }

  it('lists page by page with the label selector and credentials, filling in kind/apiVersion', async () => {
    api.route = (_req, res, url) => {
      const page = url.searchParams.get('continue');
      json(res, 200, {
        kind: 'TenantList',
        apiVersion: 'neurallog.io/v1',
        metadata: page ? { resourceVersion: '42' } : { resourceVersion: '42', continue: 'page-2' },
        items: page ? [o('c', '3')] : [o('a', '1'), o('b', '2')],
      });
    };
    const result = await source({ pageSize: 2 }).list(AbortSignal.timeout(5000));
    assert.equal(result.resourceVersion, '42');
    assert.deepEqual(
      result.items.map((i) => i.metadata.name),
      ['a', 'b', 'c'],
    );
    assert.equal(result.items[0]?.kind, 'Tenant');
    assert.equal(result.items[0]?.apiVersion, 'neurallog.io/v1');
    assert.equal(api.requests.length, 2);
    const first = api.requests[0];
    assert.ok(first);
    assert.equal(first.url.pathname, '/apis/neurallog.io/v1/tenants');
    assert.equal(first.url.searchParams.get('labelSelector'), 'app.kubernetes.io/managed-by=tenant-operator');
    assert.equal(first.url.searchParams.get('limit'), '2');
    assert.equal(first.headers.authorization, 'Bearer secret-token');
    assert.equal(api.requests[1]?.url.searchParams.get('continue'), 'page-2');
  });

  it('lists again without pagination when a continue token expires', async () => {
    api.route = (_req, res, url) => {
      if (url.searchParams.get('continue')) {
        json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'continue token expired' });
      } else if (url.searchParams.get('limit')) {
        json(res, 200, {
          kind: 'TenantList',
          metadata: { resourceVersion: '5', continue: 'old' },
          items: [o('a', '1')],
        });
      } else {
        json(res, 200, {
          kind: 'TenantList',
          metadata: { resourceVersion: '9' },
          items: [o('a', '1'), o('b', '8')],
        });
      }
    };
    const result = await source({ pageSize: 1 }).list(AbortSignal.timeout(5000));
    assert.equal(result.resourceVersion, '9');
    assert.equal(result.items.length, 2);
    assert.equal(api.requests.at(-1)?.url.searchParams.has('limit'), false);
  });

  it('turns error statuses into KubeApiError with a hint, and 410 into ResourceVersionExpiredError', async () => {
    api.route = (_req, res) =>
      json(res, 403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'tenants is forbidden' });
    await assert.rejects(source().list(AbortSignal.timeout(5000)), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.status, 403);
      assert.match(err.message, /tenants is forbidden.*ClusterRole/);
      return true;
    });
    api.route = (_req, res) =>
      json(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });
    await assert.rejects(
      source().watch('7', async () => {}, AbortSignal.timeout(5000)),
      ResourceVersionExpiredError,
    );
  });

  it('watches with bookmarks, the resourceVersion and a randomised server timeout; resolves when the server ends', async () => {
    api.route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const first = line('ADDED', o('a', '11'));
      // Split a line across chunks to exercise reassembly.
      res.write(first.slice(0, 10));
      res.write(first.slice(10) + line('BOOKMARK', { metadata: { resourceVersion: '12' } }));
      res.end(line('DELETED', o('a', '13')).trimEnd());
    };
    const seen: string[] = [];
    await source().watch(
      '10',
      async (type, obj) => void seen.push(`${type} ${obj.metadata.resourceVersion}`),
      AbortSignal.timeout(5000),
    );
    assert.deepEqual(seen, ['ADDED 11', 'BOOKMARK 12', 'DELETED 13']);
    const params = api.requests[0]?.url.searchParams;
    assert.ok(params);
    assert.equal(params.get('watch'), 'true');
    assert.equal(params.get('allowWatchBookmarks'), 'true');
    assert.equal(params.get('resourceVersion'), '10');
    assert.equal(params.get('timeoutSeconds'), '450');
    assert.equal(params.get('labelSelector'), 'app.kubernetes.io/managed-by=tenant-operator');
  });

  it('asks for metadata only (PartialObjectMetadata) when told, on the list and on the watch', async () => {
    api.route = (req, res, url) => {
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' }).end();
        return;
      }
      json(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: '5' },
        items: [o('s', '4')],
      });
    };
    const secrets = source({ metadataOnly: true, path: '/api/v1/secrets' });
    await secrets.list(AbortSignal.timeout(5000));
    await secrets.watch('5', async () => {}, AbortSignal.timeout(5000));
    assert.deepEqual(
      api.requests.map((r) => r.headers.accept),
      [
        'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
        'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      ],
    );
    await source().list(AbortSignal.timeout(5000));
    assert.equal(api.requests[0]?.headers.accept, 'application/json', 'whole objects otherwise');
  });

  it('maps an ERROR event with code 410 to ResourceVersionExpiredError and other ERRORs to KubeApiError', async () => {
    api.route = (_req, res) => {
      res.writeHead(200);
      res.end(
        line('ERROR', {
          kind: 'Status',
          code: 410,
          reason: 'Expired',
          message: 'too old resource version: 1 (50)',
        }),
      );
    };
    await assert.rejects(
      source().watch('1', async () => {}, AbortSignal.timeout(5000)),
      (err: unknown) => {
        assert.ok(err instanceof ResourceVersionExpiredError);
        assert.equal(err.resourceVersion, '1');
        assert.match(err.message, /too old resource version/);
        return true;
      },
    );
    api.route = (_req, res) => {
      res.writeHead(200);
      res.end(line('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd trouble' }));
    };
    await assert.rejects(
      source().watch('1', async () => {}, AbortSignal.timeout(5000)),
      (err: unknown) => err instanceof KubeApiError && err.status === 500,
    );
  });

  it('rejects a stream that is not made of watch events', async () => {
    api.route = (_req, res) => {
      res.writeHead(200);
      res.end('<html>proxy error</html>\n');
    };
    await assert.rejects(
      source().watch('1', async () => {}, AbortSignal.timeout(5000)),
      WatchStreamError,
    );
  });

  it('awaits each event handler before reading the next event', async () => {
    api.route = (_req, res) => {
      res.writeHead(200);
      res.end(line('ADDED', o('a', '1')) + line('ADDED', o('b', '2')));
    };
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const done = source().watch(
      '0',
      async (_type, obj) => {
        log.push(`start ${obj.metadata.name}`);
        if (obj.metadata.name === 'a') await gate;
        log.push(`end ${obj.metadata.name}`);
      },
      AbortSignal.timeout(5000),
    );
    await until(() => log.length === 1, 'first handler running');
    assert.deepEqual(log, ['start a']);
    release();
    await done;
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b']);
  });

  it('closes the socket as soon as the watch is aborted', async () => {
    let watchSocket: Socket | undefined;
    let socketClosed = false;
    api.route = (req, res) => {
      watchSocket = req.socket;
      req.socket.on('close', () => (socketClosed = true));
      res.writeHead(200);
      res.write(line('ADDED', o('a', '1'))); // and never end the response
    };
    const ac = new AbortController();
    let got = 0;
    const done = source().watch('0', async () => void got++, ac.signal);
    await until(() => got === 1, 'stream open with one event');
    assert.ok(watchSocket);
    assert.equal(socketClosed, false);
    ac.abort();
    await done; // resolves, does not reject, once aborted
    await until(() => socketClosed, 'server sees the watch connection closed');
  });

  it('reports an unreachable server as KubeConnectionError', async () => {
    const dead = new FakeApiServer();
    const url = await dead.start();
    await dead.stop();
    const s = new KubeWatchSource<Obj>({ rest: restFor(url), path: '/api/v1/namespaces' });
    await assert.rejects(s.list(AbortSignal.timeout(5000)), (err: unknown) => {
      assert.ok(err instanceof KubeConnectionError);
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('feeds an Informer end to end: list, watch, 410, relist with a synthetic delete', async () => {
    let phase = 0;
    api.route = (_req, res, url) => {
      if (url.searchParams.get('watch') !== 'true') {
        const items = phase === 0 ? [o('a', '1'), o('b', '2')] : [o('a', '1')];
        json(res, 200, {
          kind: 'TenantList',
          apiVersion: 'neurallog.io/v1',
          metadata: { resourceVersion: phase === 0 ? '2' : '20' },
          items,
        });
        return;
      }
      res.writeHead(200);
      if (phase === 0) {
        phase = 1;
        res.end(
          line('ERROR', {
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old resource version',
          }),
        );
      } else {
        res.write(line('BOOKMARK', { metadata: { resourceVersion: '21' } }));
      }
    };
    const deleted: string[] = [];
    const clock = new FakeClock();
    const informer = new Informer<Obj>({
      name: 'tenants',
      source: source(),
      logger: pino({ level: 'silent' }),
      clock,
      watchdogMs: 0,
      resyncPeriodMs: 0,
      handlers: { onDelete: (obj) => void deleted.push(obj.metadata.name) },
    });
    informer.start();
    await informer.waitForSync();
    await until(() => clock.pendingTimers() === 1, 'backoff after 410');
    clock.advance(clock.nextDueAt()! - clock.now());
    await until(
      () => informer.stats().lastResourceVersion === '21',
      'watch after relist delivered its bookmark',
    );
    assert.deepEqual(deleted, ['b']);
    assert.deepEqual(informer.keys(), ['a']);
    assert.equal(informer.get('a')?.kind, 'Tenant');
    await informer.stop();
    // The watch's socket is destroyed at once; the list's goes back to the pool and closes when it
    // has been idle for the client's idle timeout (4 s), hence the longer deadline.
    await until(() => api.sockets.size === 0, 'no connection left open after stop', 15_000);
  });
});
