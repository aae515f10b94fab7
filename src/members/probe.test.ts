import assert from 'node:assert/strict';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleConnection } from '../kube/connection.ts';
import { staticToken } from '../kube/credentials.ts';
import { createKubeRest } from '../kube/rest.ts';
import { REQUIRED_PERMISSIONS, probeMember } from './probe.ts';

/**
 * A stand-in for a member's API server: tokens decide the answers as kube-apiserver's authn and
 * authz would (401 for an unknown token, SSAR `allowed` per permission).
 */
interface Behaviour {
  readyz: number;
  denied: string[];
  hang: boolean;
}
const behaviour: Behaviour = { readyz: 200, denied: [], hang: false };
const seen: string[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  seen.push(`${req.method} ${req.url}`);
  if (behaviour.hang) return;
  if (req.headers.authorization !== 'Bearer good') {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' }));
    return;
  }
  if (req.url === '/readyz') {
    res.writeHead(behaviour.readyz, { 'content-type': 'text/plain' });
    res.end(behaviour.readyz === 200 ? 'ok' : '[-]etcd failed: reason withheld\nreadyz check failed');
    return;
  }
  if (req.url === '/version') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ gitVersion: 'v1.36.3' }));
    return;
  }
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const attrs = (JSON.parse(body) as { spec: { resourceAttributes: { verb: string; resource: string } } })
      .spec.resourceAttributes;
    const allowed = !behaviour.denied.includes(`${attrs.verb} ${attrs.resource}`);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'SelfSubjectAccessReview', status: { allowed } }));
  });
}

describe('probeMember', () => {
  const server = createServer(handle);
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const reset = (b: Partial<Behaviour> = {}) => {
    Object.assign(behaviour, { readyz: 200, denied: [], hang: false }, b);
    seen.length = 0;
  };
  const rest = (token = 'good', timeoutMs = 5000) =>
    createKubeRest(simpleConnection(url, staticToken(token)), { timeoutMs });
  const options = { member: 'prod-1', checkPermissions: true, timeoutMs: 5000 };

  it('is Ready with the version when the member answers and grants every permission', async () => {
    reset();
    assert.deepEqual(await probeMember(rest(), options), { ready: true, version: 'v1.36.3' });
    assert.equal(seen.filter((s) => s.startsWith('POST')).length, REQUIRED_PERMISSIONS.length);
  });

  it('sends no access review when the permissions need no check', async () => {
    reset();
    await probeMember(rest(), { ...options, checkPermissions: false });
    assert.deepEqual(seen, ['GET /readyz', 'GET /version']);
  });

  it('names every permission the member withholds', async () => {
    reset({ denied: ['create namespaces', 'patch deployments'] });
    const health = await probeMember(rest(), options);
    assert.deepEqual(health, {
      ready: false,
      reason: 'Forbidden',
      message:
        "the operator's identity on prod-1 cannot create namespaces; patch deployments.apps: apply config/member/ there (tenant-operator cluster join does)",
    });
  });

  it('is Unauthorized when the member refuses the credential', async () => {
    reset();
    const health = await probeMember(rest('revoked'), options);
    assert.equal(health.ready, false);
    assert.equal(!health.ready && health.reason, 'Unauthorized');
    assert.match(!health.ready ? health.message : '', /replace the token or certificate in the Secret/);
  });

  it('is Unreachable when readyz fails, and says what it said', async () => {
    reset({ readyz: 500 });
    const health = await probeMember(rest(), options);
    assert.equal(!health.ready && health.reason, 'Unreachable');
    assert.match(!health.ready ? health.message : '', /readyz.*500.*etcd failed/s);
  });

  it('is Unreachable within its deadline when the member does not answer', async () => {
    reset({ hang: true });
    const health = await probeMember(rest('good', 200), { ...options, timeoutMs: 200 });
    assert.equal(!health.ready && health.reason, 'Unreachable');
    assert.match(!health.ready ? health.message : '', /prod-1 does not answer/);
  });

  it('is Unreachable when nothing listens', async () => {
    const closed = createKubeRest(simpleConnection('http://127.0.0.1:1', staticToken('good')), {
      timeoutMs: 2000,
    });
    const health = await probeMember(closed, options);
    assert.equal(!health.ready && health.reason, 'Unreachable');
  });
});
