import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthUrlError } from './errors.ts';
import { DEFAULT_AUTH_URL, normalizeAuthUrl, resolveAuthUrl } from './url.ts';

describe('resolveAuthUrl', () => {
  it('prefers the flag, then AUTH_SERVICE_URL, then the default', () => {
    const env = { AUTH_SERVICE_URL: 'http://from-env:3000' };
    assert.equal(resolveAuthUrl({ flag: 'https://from-flag', env }), 'https://from-flag');
    assert.equal(resolveAuthUrl({ env }), 'http://from-env:3000');
    assert.equal(resolveAuthUrl({ env: {} }), DEFAULT_AUTH_URL);
    assert.equal(resolveAuthUrl(), 'http://auth.neurallog-system.svc:3000');
  });

  it('treats a blank AUTH_SERVICE_URL as unset', () => {
    assert.equal(resolveAuthUrl({ env: { AUTH_SERVICE_URL: '  ' } }), DEFAULT_AUTH_URL);
  });

  it('refuses an empty --auth-url instead of silently using the default', () => {
    assert.throws(
      () => resolveAuthUrl({ flag: '', env: { AUTH_SERVICE_URL: 'http://x' } }),
      (error: unknown) =>
        error instanceof AuthUrlError &&
        error.source === '--auth-url' &&
        /--auth-url "": it is empty/.test(error.message),
    );
  });

  it('names the flag or the variable in the error', () => {
    assert.throws(
      () => resolveAuthUrl({ flag: 'auth.local:3000' }),
      (error: unknown) =>
        error instanceof AuthUrlError && /from --auth-url "auth\.local:3000": the scheme/.test(error.message),
    );
    assert.throws(
      () => resolveAuthUrl({ env: { AUTH_SERVICE_URL: 'not a url' } }),
      (error: unknown) =>
        error instanceof AuthUrlError &&
        error.source === 'AUTH_SERVICE_URL' &&
        /from AUTH_SERVICE_URL "not a url": it is not an absolute URL/.test(error.message) &&
        error.cause instanceof TypeError,
    );
  });
});

describe('normalizeAuthUrl', () => {
  it('strips trailing slashes and keeps a path prefix and port', () => {
    assert.equal(normalizeAuthUrl('http://auth:3000/'), 'http://auth:3000');
    assert.equal(normalizeAuthUrl('http://auth:3000///'), 'http://auth:3000');
    assert.equal(normalizeAuthUrl('https://gw.example.com/auth/'), 'https://gw.example.com/auth');
    assert.equal(normalizeAuthUrl('  HTTP://Auth.Example.com  '), 'http://auth.example.com');
    assert.equal(normalizeAuthUrl('https://h:443/'), 'https://h');
  });

  for (const [value, problem] of [
    ['ftp://auth', /scheme must be http or https, not ftp/],
    ['/api', /not an absolute URL/],
    ['http://user:pw@auth', /must not contain credentials; use --auth-token-file/],
    ['http://auth/?x=1', /query string/],
    ['http://auth/#top', /fragment/],
    ['', /it is empty/],
  ] as const) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      assert.throws(
        () => normalizeAuthUrl(value),
        (error: unknown) =>
          error instanceof AuthUrlError &&
          problem.test(error.message) &&
          /Set --auth-url \(or AUTH_SERVICE_URL\)/.test(error.message),
      );
    });
  }
});
