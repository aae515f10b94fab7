import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startAuthPeer, type AuthPeer } from './peer.ts';

// Plain fetch with a deadline so a broken peer fails the test instead of hanging it.
async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; type: string | null; location: string | null; body: unknown }> {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000), ...init });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    location: res.headers.get('location'),
    body,
  };
}

function post(url: string, json: unknown, headers: Record<string, string> = {}) {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(json),
  });
}

describe('auth peer', () => {
  let peer: AuthPeer;
  before(async () => {
    peer = await startAuthPeer({ host: '127.0.0.1' });
  });
  after(async () => {
    await peer.close();
  });
  afterEach(async () => {
    await peer.start();
    peer.setRequiredToken(undefined);
    peer.reset();
  });

  it('implements the tenant contract in memory', async () => {
    const api = `${peer.url}/api/tenants`;
    assert.deepEqual(await call(api), {
      status: 200,
      type: 'application/json',
      location: null,
      body: { tenants: [] },
    });
    assert.equal((await post(api, { tenantId: 'a', adminUserId: 'system' })).status, 201);
    assert.equal((await post(api, { tenantId: 'a', adminUserId: 'system' })).status, 409);
    assert.equal((await post(api, { tenantId: 42 })).status, 400);
    assert.equal(
      (await call(api, { method: 'POST', body: '{"tenantId":"b","adminUserId":"x"}' })).status,
      400,
    );
    assert.deepEqual((await call(api)).body, { tenants: ['a'] });
    assert.equal((await call(`${api}/a`, { method: 'DELETE' })).status, 200);
    assert.equal((await call(`${api}/a`, { method: 'DELETE' })).status, 404);
    assert.equal((await call(api, { method: 'PUT' })).status, 405);
    assert.equal((await call(`${peer.url}/api/other`)).status, 404);
    assert.deepEqual(peer.tenants(), []);
  });

  it('records every API call with method, path, body, authorization and time', async () => {
    await post(
      `${peer.url}/api/tenants`,
      { tenantId: 'x', adminUserId: 'system' },
      { authorization: 'Bearer t' },
    );
    await call(`${peer.url}/api/tenants/x`, { method: 'DELETE' });
    await call(`${peer.url}/__peer/state`); // admin calls are not recorded
    const calls = peer.calls();
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls.map(({ seq, method, path, body, authorization, status, mode }) => ({
        seq,
        method,
        path,
        body,
        authorization,
        status,
        mode,
      })),
      [
        {
          seq: 1,
          method: 'POST',
          path: '/api/tenants',
          body: { tenantId: 'x', adminUserId: 'system' },
          authorization: 'Bearer t',
          status: 201,
          mode: 'ok',
        },
        {
          seq: 2,
          method: 'DELETE',
          path: '/api/tenants/x',
          body: undefined,
          authorization: undefined,
          status: 200,
          mode: 'ok',
        },
      ],
    );
    assert.ok(calls.every((c) => !Number.isNaN(Date.parse(c.time))));
    assert.deepEqual((await call(`${peer.url}/__peer/calls`)).body, {
      calls: JSON.parse(JSON.stringify(calls)),
    });
  });

  it('switches modes over the admin endpoint', async () => {
    const api = `${peer.url}/api/tenants`;
    const mode = (m: string) => post(`${peer.url}/__peer/mode`, { mode: m });

    assert.equal((await mode('fail500')).status, 200);
    assert.equal((await call(api)).status, 500);

    await mode('malformed');
    const malformed = await call(api);
    assert.equal(malformed.status, 200);
    assert.match(String(malformed.type), /text\/html/);
    assert.equal(typeof malformed.body, 'string');

    await mode('wrong-shape');
    const wrong = await call(api);
    assert.equal(wrong.status, 200);
    assert.deepEqual(wrong.body, { items: [] });

    await mode('redirect');
    const redirect = await call(`${api}/z`, { method: 'DELETE' });
    assert.equal(redirect.status, 307);
    assert.equal(redirect.location, `${peer.url}/moved/api/tenants/z`);

    assert.equal((await mode('nonsense')).status, 400);
    assert.equal(peer.mode(), 'redirect');
    assert.deepEqual((await call(`${peer.url}/__peer/state`)).body, {
      mode: 'redirect',
      tenants: [],
      requiresToken: false,
    });

    await post(`${peer.url}/__peer/reset`, {});
    assert.equal(peer.mode(), 'ok');
    assert.deepEqual(peer.calls(), []);
  });

  it('seeds tenants and the required token over the admin endpoint', async () => {
    assert.equal((await post(`${peer.url}/__peer/tenants`, { tenants: ['p', 'q'] })).status, 200);
    assert.equal((await post(`${peer.url}/__peer/tenants`, { tenants: [1] })).status, 400);
    assert.equal((await post(`${peer.url}/__peer/token`, { token: 'abc' })).status, 200);
    assert.equal((await call(`${peer.url}/api/tenants`)).status, 401);
    const ok = await call(`${peer.url}/api/tenants`, { headers: { authorization: 'Bearer abc' } });
    assert.deepEqual(ok.body, { tenants: ['p', 'q'] });
    await post(`${peer.url}/__peer/token`, { token: null });
    assert.equal((await call(`${peer.url}/api/tenants`)).status, 200);
  });

  it('requires the token when started with one', async () => {
    const guarded = await startAuthPeer({ requiredToken: 'tok', tenants: ['t1'] });
    try {
      assert.equal((await call(`${guarded.url}/api/tenants`)).status, 401);
      const wrong = await call(`${guarded.url}/api/tenants`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const right = await call(`${guarded.url}/api/tenants`, { headers: { authorization: 'Bearer tok' } });
      assert.deepEqual(right.body, { tenants: ['t1'] });
    } finally {
      await guarded.close();
    }
  });

  it('hang holds requests until the mode changes', async () => {
    peer.setMode('hang');
    const pending = call(`${peer.url}/api/tenants`);
    const held = await peer.waitForCall((c) => c.method === 'GET');
    assert.equal(held.status, undefined);
    assert.equal(held.mode, 'hang');
    peer.setMode('ok');
    const answered = await pending;
    assert.equal(answered.status, 200);
    assert.equal(peer.calls()[0]?.status, 200);
  });

  it('hang plus stop() drops the held request', async () => {
    peer.setMode('hang');
    const pending = call(`${peer.url}/api/tenants`);
    await peer.waitForCall(() => true);
    await peer.stop();
    await assert.rejects(pending, (error: Error) => error.name === 'TypeError'); // fetch failed: socket closed
    assert.equal(peer.calls()[0]?.status, undefined);
  });

  it('stop() makes it unreachable and start() brings it back on the same port', async () => {
    const { port, url } = peer;
    await peer.stop();
    await peer.stop(); // idempotent
    await assert.rejects(call(`${url}/api/tenants`), (error: Error & { cause?: { code?: string } }) => {
      return error.cause?.code === 'ECONNREFUSED';
    });
    await peer.start();
    await peer.start(); // idempotent
    assert.equal(peer.port, port);
    assert.equal(peer.url, url);
    assert.equal((await call(`${url}/api/tenants`)).status, 200);
  });

  it('waitForCall rejects with the calls so far when nothing matches in time', async () => {
    await call(`${peer.url}/api/tenants`);
    await assert.rejects(
      peer.waitForCall((c) => c.method === 'DELETE', 50),
      /no matching call within 50 ms/,
    );
  });

  it('refuses an unknown mode programmatically', () => {
    assert.throws(() => peer.setMode('sideways' as never), /unknown mode sideways/);
  });

  it('listens on a requested port', async () => {
    const first = await startAuthPeer();
    const port = first.port;
    await first.close();
    const second = await startAuthPeer({ port });
    try {
      assert.equal(second.port, port);
      assert.equal(second.url, `http://127.0.0.1:${port}`);
    } finally {
      await second.close();
    }
  });
});
