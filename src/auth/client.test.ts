// Unit tests of the client with an injected `send` (and one raw loopback server).
// The contract tests against the Auth peer live in test/auth-peer/client-contract.test.ts.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { HttpAnswer, HttpSend } from '../http/client.ts';
import { fixedAnswer } from '../http/fixed-answer.test-util.ts';
import { createAuthClient } from './client.ts';
import { AuthServiceRejectedError, AuthServiceUnavailableError, AuthUrlError } from './errors.ts';
import type { AuthRequestEvent } from './transport.ts';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
  hasSignal: boolean;
}

/** A `send` that records requests and answers from `answer`. */
function fakeSend(answer: (seen: Seen) => HttpAnswer | Promise<HttpAnswer>) {
  const seen: Seen[] = [];
  const send: HttpSend = async (request) => {
    const s: Seen = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body === undefined ? undefined : JSON.parse(request.body),
      hasSignal: request.signal instanceof AbortSignal,
    };
    seen.push(s);
    return answer(s);
  };
  return { send, seen };
}

const json = (status: number, body: unknown) =>
  fixedAnswer(status, JSON.stringify(body), { 'content-type': 'application/json' });

/** What node:net and node:dns reject with. */
function networkError(code: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} auth`), { code });
}

describe('createAuthClient', () => {
  it('normalises the base URL and keeps a path prefix', async () => {
    const { send, seen } = fakeSend(() => json(200, { tenants: [] }));
    const auth = createAuthClient({ baseUrl: 'https://gw.example/auth//', send });
    assert.equal(auth.baseUrl, 'https://gw.example/auth');
    await auth.listTenants();
    assert.equal(seen[0]?.url, 'https://gw.example/auth/api/tenants');
  });

  it('refuses a bad base URL and a bad timeout at construction', () => {
    assert.throws(() => createAuthClient({ baseUrl: 'auth:3000' }), AuthUrlError);
    assert.throws(() => createAuthClient({ baseUrl: 'http://a', timeoutMs: 0 }), RangeError);
    assert.throws(() => createAuthClient({ baseUrl: 'http://a', timeoutMs: Number.NaN }), RangeError);
  });

  it('sends JSON headers, a timeout signal, and no Authorization without a token source', async () => {
    const { send, seen } = fakeSend((s) => (s.method === 'GET' ? json(200, { tenants: [] }) : json(201, {})));
    await createAuthClient({ baseUrl: 'http://a', send }).register('t1');
    const [list, post] = seen;
    assert.equal(list?.headers.accept, 'application/json');
    assert.equal(list?.headers.authorization, undefined);
    assert.equal(list?.headers['user-agent'], 'neurallog-tenant-operator');
    assert.equal(list?.hasSignal, true);
    assert.equal(post?.headers['content-type'], 'application/json');
    assert.deepEqual(post?.body, { tenantId: 't1', adminUserId: 'system' });
  });

  it('accepts 204 on deregister', async () => {
    const { send } = fakeSend(() => fixedAnswer(204));
    assert.deepEqual(await createAuthClient({ baseUrl: 'http://a', send }).deregister('t'), {
      status: 'deregistered',
    });
  });

  it('refuses an empty tenant id before calling anything', async () => {
    const { send, seen } = fakeSend(() => json(200, { tenants: [] }));
    const auth = createAuthClient({ baseUrl: 'http://a', send });
    await assert.rejects(auth.register(''), TypeError);
    await assert.rejects(auth.deregister(''), TypeError);
    assert.equal(seen.length, 0);
  });

  for (const [code, text] of [
    ['ENOTFOUND', /ENOTFOUND, host name not found in DNS/],
    ['EAI_AGAIN', /EAI_AGAIN, DNS lookup failed temporarily/],
    ['ECONNRESET', /ECONNRESET, connection reset/],
  ] as const) {
    it(`maps ${code} to AuthServiceUnavailableError`, async () => {
      const events: AuthRequestEvent[] = [];
      const cause = networkError(code);
      const { send } = fakeSend(() => Promise.reject(cause));
      const auth = createAuthClient({ baseUrl: 'http://a', send, onRequest: (e) => events.push(e) });
      await assert.rejects(auth.listTenants(), (error: unknown) => {
        assert.ok(error instanceof AuthServiceUnavailableError);
        assert.match(error.message, text);
        assert.equal(error.cause, cause);
        assert.equal(error.timedOut, false);
        return true;
      });
      assert.deepEqual(
        events.map((e) => [e.operation, e.result]),
        [['list', 'unavailable']],
      );
    });
  }

  for (const status of [408, 429, 502, 503]) {
    it(`treats ${status} as retryable (Unavailable)`, async () => {
      const { send } = fakeSend(() => fixedAnswer(status, 'busy'));
      await assert.rejects(
        createAuthClient({ baseUrl: 'http://a', send }).deregister('t'),
        (error: unknown) => {
          assert.ok(error instanceof AuthServiceUnavailableError);
          assert.equal(error.status, status);
          assert.match(error.message, new RegExp(`answered ${status}: busy`));
          return true;
        },
      );
    });
  }

  for (const [status, operation, text] of [
    [403, 'deregister', /forbidden.*may not manage tenants/],
    [404, 'list', /endpoint was not found: check that --auth-url is the Auth service base URL/],
    [400, 'register', /unexpected status 400: \{"error":"bad"\}.*implements the tenant API/],
    [418, 'deregister', /unexpected status 418/],
    [201, 'list', /unexpected status 201.*expected 200 OK/],
  ] as const) {
    it(`rejects ${status} on ${operation} with a helpful message`, async () => {
      const { send } = fakeSend((s) =>
        operation === 'register' && s.method === 'GET'
          ? json(200, { tenants: [] })
          : json(status, { error: 'bad' }),
      );
      const auth = createAuthClient({ baseUrl: 'http://a', send });
      const call =
        operation === 'list'
          ? auth.listTenants()
          : operation === 'register'
            ? auth.register('t')
            : auth.deregister('t');
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof AuthServiceRejectedError, String(error));
        assert.equal(error.operation, operation);
        assert.equal(error.status, status);
        assert.match(error.message, text);
        return true;
      });
    });
  }

  it('shortens a long error body to one line', async () => {
    const { send } = fakeSend(() => fixedAnswer(500, `<html>\n${'x'.repeat(5000)}\n</html>`));
    await assert.rejects(createAuthClient({ baseUrl: 'http://a', send }).listTenants(), (error: unknown) => {
      assert.ok(error instanceof AuthServiceUnavailableError);
      assert.ok(error.message.length < 600, `message is ${error.message.length} characters`);
      assert.match(error.message, /answered 500: <html> x+…/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });

  it('rejects a list with non-string ids', async () => {
    const { send } = fakeSend(() => json(200, { tenants: ['a', 7] }));
    await assert.rejects(createAuthClient({ baseUrl: 'http://a', send }).register('a'), /wrong shape/);
  });

  it('ignores extra fields in the list answer', async () => {
    const { send } = fakeSend(() => json(200, { tenants: ['a'], total: 1 }));
    assert.deepEqual(await createAuthClient({ baseUrl: 'http://a', send }).listTenants(), ['a']);
  });

  it('a throwing onRequest does not change the outcome', async () => {
    const { send } = fakeSend(() => json(200, { tenants: ['a'] }));
    const auth = createAuthClient({
      baseUrl: 'http://a',
      send,
      onRequest: () => {
        throw new Error('metrics broke');
      },
    });
    assert.deepEqual(await auth.register('a'), { status: 'already-registered' });
  });

  it('times out while the body is still streaming', async () => {
    // Headers arrive, the body never ends: the timeout covers reading the body too.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"tenants": [');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const events: AuthRequestEvent[] = [];
    try {
      const auth = createAuthClient({
        baseUrl: `http://127.0.0.1:${port}`,
        timeoutMs: 200,
        onRequest: (e) => events.push(e),
      });
      await assert.rejects(auth.listTenants(), (error: unknown) => {
        assert.ok(error instanceof AuthServiceUnavailableError, String(error));
        assert.equal(error.timedOut, true);
        assert.equal(error.status, 200);
        assert.match(error.message, /within 200 ms .*reading the 200 answer/);
        return true;
      });
      assert.deepEqual(
        events.map((e) => [e.result, e.status]),
        [['timeout', 200]],
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
