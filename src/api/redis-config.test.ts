import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALLOWED_REDIS_DIRECTIVES,
  ALLOWED_REDIS_DIRECTIVE_NAMES,
  FORBIDDEN_REDIS_DIRECTIVES,
  isValidRedisConfigValue,
} from './redis-config.ts';
import { validateTenant } from './validate.ts';

const withConfig = (config: Record<string, unknown>) => ({
  apiVersion: 'neurallog.io/v1',
  kind: 'Tenant',
  metadata: { name: 'acme' },
  spec: { redis: { config } },
});

function issues(config: Record<string, unknown>): string[] {
  const result = validateTenant(withConfig(config));
  return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
}

/** Concrete names for the SPEC's never-allowed list (a `*` entry stands for a family). */
const NEVER_ALLOWED = [
  ...FORBIDDEN_REDIS_DIRECTIVES.filter((name) => !name.endsWith('*')),
  'unixsocket',
  'unixsocketperm',
  'tls-port',
  'tls-cert-file',
  'tls-auth-clients',
  // Not named by the SPEC, and not tuning either: each would change what the store is or who may use it.
  'slave-read-only',
  'cluster-enabled',
  'cluster-config-file',
  'acllog-max-len',
  'acl-pubsub-default',
  'loglevel',
  'syslog-enabled',
  'oom-score-adj',
  'lua-time-limit',
  'activedefrag',
  'set-max-listpack-entries',
  'replica-announce-ip',
  'tcp-backlog',
  'shutdown-on-sigterm',
];

describe('spec.redis.config is an allow-list', () => {
  test('every allowed directive with its example value is accepted', () => {
    const config = Object.fromEntries([...ALLOWED_REDIS_DIRECTIVES].map(([name, d]) => [name, d.example]));
    assert.deepEqual(issues(config), []);
  });

  test('the SPEC list of never-allowed directives and the allow-list never meet', () => {
    for (const name of ALLOWED_REDIS_DIRECTIVE_NAMES) {
      for (const forbidden of FORBIDDEN_REDIS_DIRECTIVES) {
        const hit = forbidden.endsWith('*') ? name.startsWith(forbidden.slice(0, -1)) : name === forbidden;
        assert.equal(hit, false, `${name} is on the allow-list and matches the forbidden ${forbidden}`);
      }
    }
  });

  for (const name of NEVER_ALLOWED) {
    test(`${name} is refused, naming the field and pointing to the list`, () => {
      const got = issues({ [name]: 'yes' });
      assert.equal(got.length, 1, got.join('\n'));
      assert.equal(
        got[0],
        `spec.redis.config.${name}: "${name}" is not an allowed redis.conf directive: only the tuning directives listed in kubectl explain tenant.spec.redis.config (docs/api.md#redis-config-directives) may be set`,
      );
    });
  }

  test('allowed keys are lower-case: no case folding lets an upper-case spelling through', () => {
    assert.equal(issues({ MAXMEMORY: '1mb' }).length, 1);
    assert.equal(issues({ ' maxmemory': '1mb' }).length, 1);
    assert.equal(issues({ 'maxmemory ': '1mb' }).length, 1);
  });

  test('every refused key is reported, not only the first', () => {
    const got = issues({ user: 'x', hz: '10', aclfile: '/x', include: '/y' });
    assert.deepEqual(
      got.map((i) => i.split(':')[0]),
      ['spec.redis.config.user', 'spec.redis.config.aclfile', 'spec.redis.config.include'],
    );
  });
});

describe('spec.redis.config values', () => {
  test('plain words, numbers, units and an empty value are accepted', () => {
    for (const value of ['', 'allkeys-lru', '-2', '3600 1 300 100', '50 99 99.9', 'KEA$lshzxegtmd', '64mb']) {
      assert.equal(isValidRedisConfigValue(value), true, JSON.stringify(value));
      assert.deepEqual(issues({ save: value }), [], JSON.stringify(value));
    }
  });

  test('control characters, quotes, backslashes and non-ASCII are refused', () => {
    const refused = [
      ...Array.from({ length: 32 }, (_, code) => `1${String.fromCharCode(code)}requirepass x`),
      '1\u007f',
      '1\u0085requirepass x',
      '1\u2028requirepass x',
      '"" requirepass',
      "'x'",
      'a\\nb',
      'é',
    ];
    for (const value of refused) {
      assert.equal(isValidRedisConfigValue(value), false, JSON.stringify(value));
      const got = issues({ 'maxmemory-policy': value });
      assert.equal(got.length, 1, JSON.stringify(value));
      assert.match(got[0] ?? '', /^spec\.redis\.config\.maxmemory-policy: a redis config value is one line/);
    }
  });

  test('values are at most 1024 characters', () => {
    assert.deepEqual(issues({ save: '1'.repeat(1024) }), []);
    assert.equal(issues({ save: '1'.repeat(1025) }).length, 1);
  });

  test('a value that is not a string is refused', () => {
    assert.equal(issues({ hz: 10 }).length, 1);
  });
});
