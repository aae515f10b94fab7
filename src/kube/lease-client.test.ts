import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { FakeClock } from '../runtime/clock.ts';
import { LeaderElector, LeaseConflictError } from '../runtime/leader.ts';
import { simpleConnection } from './connection.ts';
import { staticToken } from './credentials.ts';
import { KubeLeaseClient, LeaseRequestError } from './lease-client.ts';
import { type KubeRest, createKubeRest } from './rest.ts';

interface StoredLease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

/** Just enough of the Lease API: GET/POST/PUT with resourceVersion checks, plus fault injection. */
class FakeLeaseApi {
  lease: StoredLease | undefined;
  rv = 100;
  bodies: Array<{ method: string; body: Record<string, unknown> }> = [];
  connections = new Set<Socket>();
  totalConnections = 0;
  forceStatus: number | undefined;
  hang = false;
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => this.#handle(req, res, raw));
  });

  #handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const send = (status: number, body: unknown): void =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const status = (code: number, reason: string, message: string): void =>
      send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
    if (this.hang) return;
    if (this.forceStatus) return status(this.forceStatus, 'Forbidden', 'leases is forbidden: no RBAC');
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    if (req.method !== 'GET') this.bodies.push({ method: req.method ?? '', body });
    const base = '/apis/coordination.k8s.io/v1/namespaces/ops/leases';
    if (req.method === 'GET' && req.url === `${base}/leader`) {
      return this.lease ? send(200, this.lease) : status(404, 'NotFound', 'leases "leader" not found');
    }
    if (req.method === 'POST' && req.url === base) {
      if (this.lease) return status(409, 'AlreadyExists', 'leases "leader" already exists');
      this.lease = {
        ...(body as unknown as StoredLease),
        metadata: { name: 'leader', namespace: 'ops', resourceVersion: String(++this.rv) },
      };
      return send(201, this.lease);
    }
    if (req.method === 'PUT' && req.url === `${base}/leader`) {
      const meta = body.metadata as { resourceVersion?: string };
      if (!this.lease || meta.resourceVersion !== this.lease.metadata.resourceVersion) {
        return status(
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version',
        );
      }
      this.lease = {
        ...(body as unknown as StoredLease),
        metadata: { name: 'leader', namespace: 'ops', resourceVersion: String(++this.rv) },
      };
      return send(200, this.lease);
    }
    status(404, 'NotFound', `unexpected ${req.method} ${req.url}`);
  }

  async start(): Promise<string> {
    this.server.on('connection', (s: Socket) => {
      this.totalConnections++;
      this.connections.add(s);
      s.on('close', () => this.connections.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('KubeLeaseClient', () => {
  const api = new FakeLeaseApi();
  let rest: KubeRest;
  before(async () => {
    const server = await api.start();
    rest = createKubeRest(simpleConnection(server, staticToken('t')));
  });
  after(async () => {
    await rest.close();
    await api.stop();
  });

  const signal = () => AbortSignal.timeout(5000);

  it('reads a missing lease as undefined, creates it with microsecond times, and updates it by resourceVersion', async () => {
    const client = new KubeLeaseClient({ rest, namespace: 'ops', name: 'leader' });
    assert.equal(client.description, 'lease ops/leader');
    assert.equal(await client.get(signal()), undefined);

    const t0 = Date.parse('2026-05-01T10:00:00.123Z');
    const created = await client.create(
      { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: t0, renewTime: t0, leaseTransitions: 0 },
      signal(),
    );
    assert.equal(created.record.holderIdentity, 'a');
    assert.equal(created.record.renewTime, t0);
    const sentSpec = api.bodies[0]?.body.spec as Record<string, unknown>;
    assert.equal(sentSpec.renewTime, '2026-05-01T10:00:00.123000Z', 'MicroTime: six fractional digits');

    const read = await client.get(signal());
    assert.deepEqual(read, created);

    const updated = await client.update(
      { ...created.record, renewTime: t0 + 2000 },
      created.resourceVersion,
      signal(),
    );
    assert.notEqual(updated.resourceVersion, created.resourceVersion);
    assert.equal(updated.record.renewTime, t0 + 2000);
    const put = api.bodies.at(-1)?.body.metadata as { resourceVersion?: string };
    assert.equal(put.resourceVersion, created.resourceVersion);
    await client.close();
  });

  it('maps 409 to LeaseConflictError and other failures to LeaseRequestError with a hint', async () => {
    const client = new KubeLeaseClient({ rest, namespace: 'ops', name: 'leader' });
    const current = await client.get(signal());
    assert.ok(current);
    await assert.rejects(client.create({ ...current.record }, signal()), LeaseConflictError);
    await assert.rejects(client.update(current.record, 'stale', signal()), LeaseConflictError);
    api.forceStatus = 403;
    try {
      await assert.rejects(client.get(signal()), (err: unknown) => {
        assert.ok(err instanceof LeaseRequestError);
        assert.equal(err.statusCode, 403);
        assert.match(err.message, /no RBAC.*leader-election Role/);
        return true;
      });
    } finally {
      api.forceStatus = undefined;
    }
    await client.close();
  });

  it('aborts a hanging request with the signal', async () => {
    const client = new KubeLeaseClient({ rest, namespace: 'ops', name: 'leader' });
    api.hang = true;
    try {
      const ac = new AbortController();
      const pending = client.get(ac.signal);
      ac.abort(new Error('deadline'));
      await assert.rejects(pending, LeaseRequestError);
    } finally {
      api.hang = false;
    }
    await client.close();
  });

  it('reuses its connections instead of opening one per request', async () => {
    const client = new KubeLeaseClient({ rest, namespace: 'ops', name: 'leader' });
    const before = api.totalConnections;
    for (let i = 0; i < 20; i++) await client.get(signal());
    // client-node alone opens 20 here (a new dispatcher per call); a kept dispatcher needs one or two.
    assert.ok(
      api.totalConnections - before <= 2,
      `opened ${api.totalConnections - before} connections for 20 calls`,
    );
    await client.close();
  });

  it('drives a LeaderElector hand-over over HTTP', async () => {
    api.lease = undefined;
    const current = (): StoredLease | undefined => api.lease;
    const clock = new FakeClock(Date.now());
    const until = async (cond: () => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (!cond()) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const make = (identity: string) => {
      const client = new KubeLeaseClient({ rest, namespace: 'ops', name: 'leader' });
      const elector = new LeaderElector({
        client,
        identity,
        clock,
        logger: pino({ level: 'silent' }),
        random: () => 0,
      });
      return { client, elector };
    };
    const a = make('a');
    const b = make('b');
    void a.elector.run();
    await until(() => a.elector.isLeader(), 'a leads');
    void b.elector.run();
    await until(() => b.elector.observedLeader() === 'a' && clock.pendingTimers() >= 2, 'b waits');
    await a.elector.release();
    assert.equal(current()?.spec.holderIdentity, '');
    assert.equal(current()?.spec.leaseDurationSeconds, 1);
    clock.advance(2000); // b's next retry
    await until(() => b.elector.isLeader(), 'b takes over after the release');
    assert.equal(current()?.spec.holderIdentity, 'b');
    assert.equal(current()?.spec.leaseTransitions, 1);
    await b.elector.release();
    await a.client.close();
    await b.client.close();
  });
});
