// The Auth client (src/auth) against the Auth peer over loopback.
// Lives here, not beside the client, because nothing under src/ may import the peer.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createAuthClient, type AuthClientOptions } from '../../src/auth/client.ts';
import {
  AuthServiceError,
  AuthServiceRejectedError,
  AuthServiceUnavailableError,
  AuthTokenFileError,
} from '../../src/auth/errors.ts';
import { createFileTokenSource } from '../../src/auth/token-source.ts';
import type { AuthRequestEvent } from '../../src/auth/transport.ts';
import { type HttpSend, createHttpClient } from '../../src/http/client.ts';
import { fixedAnswer } from '../../src/http/fixed-answer.test-util.ts';
import { startAuthPeer, type AuthPeer } from './peer.ts';

describe('auth client against the auth peer', () => {
  let peer: AuthPeer;
  let events: AuthRequestEvent[];

  before(async () => {
    peer = await startAuthPeer();
  });
  after(async () => {
    await peer.close();
  });
  afterEach(async () => {
    await peer.start(); // in case a test stopped it
    peer.setRequiredToken(undefined);
    peer.reset();
  });

  function client(overrides: Partial<AuthClientOptions> = {}) {
    events = [];
    return createAuthClient({ baseUrl: peer.url, onRequest: (e) => events.push(e), ...overrides });
  }

  /** Answers requests with `method` itself, and passes the others on to the peer. */
  function answering(method: string, answer: HttpSend): HttpSend {
    const http = createHttpClient(peer.url);
    return (request) => (request.method === method ? answer(request) : http.send(request));
  }

  function summary(): string[] {
    return peer.calls().map((c) => `${c.method} ${c.path} ${c.status ?? '-'}`);
  }

  function results(): string[] {
    return events.map((e) => `${e.operation}:${e.result}:${e.status ?? '-'}`);
  }

  describe('register', () => {
    it('lists, then posts {tenantId, adminUserId: "system"} when the id is absent', async () => {
      const auth = client();
      assert.deepEqual(await auth.register('acme'), { status: 'registered' });
      assert.deepEqual(summary(), ['GET /api/tenants 200', 'POST /api/tenants 201']);
      assert.deepEqual(peer.calls()[1]?.body, { tenantId: 'acme', adminUserId: 'system' });
      assert.deepEqual(peer.tenants(), ['acme']);
      assert.deepEqual(results(), ['list:success:200', 'register:success:201']);
      assert.ok(events.every((e) => e.durationSeconds >= 0));
    });

    it('is idempotent: a listed id causes no POST', async () => {
      peer.setTenants(['other', 'acme']);
      const auth = client();
      assert.deepEqual(await auth.register('acme'), { status: 'already-registered' });
      assert.deepEqual(await auth.register('acme'), { status: 'already-registered' });
      assert.deepEqual(summary(), ['GET /api/tenants 200', 'GET /api/tenants 200']);
    });

    it('treats 409 as already registered', async () => {
      // The list says absent but the POST conflicts (registered concurrently): still done.
      const auth = client({
        send: answering('GET', async () => fixedAnswer(200, JSON.stringify({ tenants: [] }))),
      });
      peer.setTenants(['acme']);
      assert.deepEqual(await auth.register('acme'), { status: 'already-registered' });
      assert.deepEqual(summary(), ['POST /api/tenants 409']);
      assert.deepEqual(results(), ['list:success:200', 'register:success:409']);
    });
  });

  describe('deregister', () => {
    it('deletes with 200 and treats 404 as already gone', async () => {
      peer.setTenants(['acme']);
      const auth = client();
      assert.deepEqual(await auth.deregister('acme'), { status: 'deregistered' });
      assert.deepEqual(await auth.deregister('acme'), { status: 'already-gone' });
      assert.deepEqual(summary(), ['DELETE /api/tenants/acme 200', 'DELETE /api/tenants/acme 404']);
      assert.deepEqual(results(), ['deregister:success:200', 'deregister:success:404']);
    });

    it('URL-encodes the id', async () => {
      const auth = client();
      await auth.deregister('a/b c');
      assert.deepEqual(summary(), ['DELETE /api/tenants/a%2Fb%20c 404']);
    });
  });

  describe('failures', () => {
    it('times out on a peer that never answers (Unavailable, timedOut, retryable)', async () => {
      peer.setMode('hang');
      const auth = client({ timeoutMs: 200 });
      const error = await rejectsWith(auth.register('acme'), AuthServiceUnavailableError);
      assert.equal(error.timedOut, true);
      assert.equal(error.retryable, true);
      assert.equal(error.operation, 'list');
      assert.match(error.message, /did not answer list within 200 ms/);
      assert.match(error.message, /GET http:\/\/127\.0\.0\.1:\d+\/api\/tenants/);
      assert.ok(error.cause, 'cause is kept');
      assert.deepEqual(results(), ['list:timeout:-']);
    });

    it('reports connection refused when the peer is down, and recovers when it is back', async () => {
      const auth = client();
      await peer.stop();
      const error = await rejectsWith(auth.deregister('acme'), AuthServiceUnavailableError);
      assert.equal(error.timedOut, false);
      assert.equal(error.status, undefined);
      assert.match(error.message, /unreachable for deregister/);
      assert.match(error.message, /ECONNREFUSED/);
      assert.match(error.message, /--auth-url/);
      assert.ok(error.cause instanceof Error);
      assert.deepEqual(results(), ['deregister:unavailable:-']);

      await peer.start();
      assert.deepEqual(await auth.deregister('acme'), { status: 'already-gone' });
    });

    it('reports 500 as Unavailable with the status and a body excerpt', async () => {
      peer.setMode('fail500');
      const auth = client();
      const error = await rejectsWith(auth.register('acme'), AuthServiceUnavailableError);
      assert.equal(error.status, 500);
      assert.equal(error.retryable, true);
      assert.match(error.message, /answered 500: \{"error":"auth peer: simulated internal error"\}/);
      assert.deepEqual(results(), ['list:unavailable:500']);
    });

    it('rejects a non-JSON body', async () => {
      peer.setMode('malformed');
      const auth = client();
      const error = await rejectsWith(auth.register('acme'), AuthServiceRejectedError);
      assert.equal(error.retryable, false);
      assert.equal(error.status, 200);
      assert.match(error.message, /not JSON/);
      assert.match(error.message, /text\/html/);
      assert.match(error.message, /<html>/);
      assert.match(error.message, /--auth-url/);
      assert.ok(error.cause instanceof SyntaxError);
      assert.deepEqual(results(), ['list:rejected:200']);
      assert.deepEqual(summary(), ['GET /api/tenants 200'], 'no POST after a bad list');
    });

    it('rejects JSON of the wrong shape', async () => {
      peer.setMode('wrong-shape');
      const auth = client();
      const error = await rejectsWith(auth.listTenants(), AuthServiceRejectedError);
      assert.match(error.message, /wrong shape/);
      assert.match(error.message, /expected \{"tenants": \[string, \.\.\.\]\}/);
      assert.match(error.message, /tenants/);
      assert.ok(error.cause, 'the zod error is the cause');
    });

    it('does not follow a redirect and says to fix the URL', async () => {
      peer.setMode('redirect');
      const auth = client();
      const error = await rejectsWith(auth.deregister('acme'), AuthServiceRejectedError);
      assert.equal(error.status, 307);
      assert.match(error.message, /redirect/);
      assert.match(error.message, /\/moved\/api\/tenants\/acme/);
      assert.match(error.message, /set --auth-url/);
      assert.deepEqual(summary(), ['DELETE /api/tenants/acme 307'], 'the redirect target was not called');
      assert.deepEqual(results(), ['deregister:rejected:307']);
    });

    it('rejects 401 without a token, pointing at --auth-token-file', async () => {
      peer.setRequiredToken('s3cret');
      const auth = client();
      const error = await rejectsWith(auth.register('acme'), AuthServiceRejectedError);
      assert.equal(error.status, 401);
      assert.match(error.message, /unauthenticated/);
      assert.match(error.message, /No bearer token is configured: set --auth-token-file/);
    });

    it('rejects an unexpected status (200 to a POST) instead of calling it success', async () => {
      const auth = client({ send: answering('POST', async () => fixedAnswer(200, '{}')) });
      const error = await rejectsWith(auth.register('acme'), AuthServiceRejectedError);
      assert.equal(error.operation, 'register');
      assert.match(error.message, /unexpected status 200/);
      assert.match(error.message, /expected 201 Created or 409 Conflict/);
    });
  });

  describe('bearer token', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'auth-token-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('sends Authorization: Bearer <token> on every request', async () => {
      const file = join(dir, 'token');
      await writeFile(file, 'tok-1\n');
      peer.setRequiredToken('tok-1');
      const auth = client({ tokenSource: createFileTokenSource(file) });
      assert.deepEqual(await auth.register('acme'), { status: 'registered' });
      assert.deepEqual(await auth.deregister('acme'), { status: 'deregistered' });
      assert.deepEqual(
        peer.calls().map((c) => c.authorization),
        ['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1'],
      );
    });

    it('picks up a changed token file on the next call', async () => {
      const file = join(dir, 'rotating');
      await writeFile(file, 'old-token');
      peer.setRequiredToken('old-token');
      const auth = client({ tokenSource: createFileTokenSource(file) });
      await auth.listTenants();

      peer.setRequiredToken('the-new-token');
      await rejectsWith(auth.listTenants(), AuthServiceRejectedError); // still the old token
      await writeFile(file, 'the-new-token\n');
      await auth.listTenants();
      assert.deepEqual(
        peer.calls().map((c) => `${c.authorization} ${c.status}`),
        ['Bearer old-token 200', 'Bearer old-token 401', 'Bearer the-new-token 200'],
      );
    });

    it('a 401 with a token points at the token file', async () => {
      const file = join(dir, 'wrong');
      await writeFile(file, 'wrong');
      peer.setRequiredToken('right');
      const auth = client({ tokenSource: createFileTokenSource(file) });
      const error = await rejectsWith(auth.listTenants(), AuthServiceRejectedError);
      assert.match(error.message, /bearer token in --auth-token-file is current and valid/);
    });

    it('a missing token file is Rejected naming the path, and no request is sent', async () => {
      const file = join(dir, 'absent');
      const auth = client({ tokenSource: createFileTokenSource(file) });
      const error = await rejectsWith(auth.register('acme'), AuthServiceRejectedError);
      assert.ok(error.message.includes(file), error.message);
      assert.ok(error.cause instanceof AuthTokenFileError);
      assert.deepEqual(peer.calls(), []);
      assert.deepEqual(results(), ['list:rejected:-']);
    });
  });
});

async function rejectsWith<T extends AuthServiceError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.ok(error instanceof AuthServiceError);
    return error;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

describe('auth client against a keep-alive peer that restarts', () => {
  it('a pooled connection cut by the restart is Unavailable, and the next call succeeds', async () => {
    const peer = await startAuthPeer({ keepAlive: true });
    try {
      const auth = createAuthClient({ baseUrl: peer.url });
      await auth.listTenants(); // leaves a pooled connection
      await peer.stop();
      await assert.rejects(auth.listTenants(), AuthServiceUnavailableError); // refused or reset: both retryable
      await peer.start();
      assert.deepEqual(await auth.listTenants(), []);
    } finally {
      await peer.close();
    }
  });
});
