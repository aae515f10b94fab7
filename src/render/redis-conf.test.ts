import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ALLOWED_REDIS_DIRECTIVE_NAMES } from '../api/redis-config.ts';
import type { ResolvedTenant } from '../api/resolve.ts';
import { validateTenant } from '../api/validate.ts';
import { resolvedTenant } from './fixtures.test-util.ts';
import { configHash, maxMemoryBytes, renderAuthConf, renderRedisConf } from './redis-conf.ts';

const withMemoryLimit = (limit: string | number) =>
  resolvedTenant({ redis: { resources: { memory: { limit } } } });

/** A copy of `t` whose redis.config skipped validation (to check the renderer's own guard). */
const withRawConfig = (config: Record<string, string>): ResolvedTenant => {
  const t = resolvedTenant();
  return { ...t, redis: { ...t.redis, config } };
};

describe('renderRedisConf', () => {
  it('renders the defaults exactly, with the auth include last', () => {
    assert.equal(
      renderRedisConf(resolvedTenant()),
      [
        'port 6379',
        'bind 0.0.0.0',
        'protected-mode yes',
        'dir /data',
        'appendonly yes',
        'appendfsync everysec',
        'maxmemory 214748364',
        'maxmemory-policy allkeys-lru',
        'include /etc/redis/auth/auth.conf',
        '',
      ].join('\n'),
    );
  });

  it('sets maxmemory to 80 % of the memory limit in bytes, rounded down', () => {
    const maxmemory = (limit: string | number) =>
      /^maxmemory (\d+)$/m.exec(renderRedisConf(withMemoryLimit(limit)))?.[1];
    assert.equal(maxmemory('256Mi'), '214748364');
    assert.equal(maxmemory('1Gi'), '858993459');
    assert.equal(maxmemory('1.5Gi'), '1288490188');
    assert.equal(maxmemory(1000000000), '800000000');
    assert.equal(maxmemory('500000000'), '400000000');
    assert.equal(maxmemory('1G'), '800000000');
    assert.equal(maxmemory('512M'), '409600000');
  });

  it('maxMemoryBytes is exact integer arithmetic', () => {
    assert.equal(maxMemoryBytes('256Mi'), 214748364);
    assert.equal(maxMemoryBytes('1Ti'), 879609302220);
    assert.equal(maxMemoryBytes(5), 4);
    assert.equal(maxMemoryBytes(0), 0);
  });

  it('replaces defaults in place and appends new directives sorted by key', () => {
    const t = resolvedTenant({
      redis: {
        config: {
          timeout: '300',
          'maxmemory-policy': 'noeviction',
          hz: '20',
          appendonly: 'no',
          'tcp-keepalive': '60',
        },
      },
    });
    assert.equal(
      renderRedisConf(t),
      [
        'port 6379',
        'bind 0.0.0.0',
        'protected-mode yes',
        'dir /data',
        'appendonly no',
        'appendfsync everysec',
        'maxmemory 214748364',
        'maxmemory-policy noeviction',
        'hz 20',
        'tcp-keepalive 60',
        'timeout 300',
        'include /etc/redis/auth/auth.conf',
        '',
      ].join('\n'),
    );
  });

  it('lets spec.redis.config replace maxmemory without duplicating it', () => {
    const text = renderRedisConf(resolvedTenant({ redis: { config: { maxmemory: '100mb' } } }));
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('maxmemory ')),
      ['maxmemory 100mb'],
    );
    assert.ok(text.indexOf('maxmemory 100mb') < text.indexOf('maxmemory-policy'));
  });

  it('writes an empty value as "" and other values verbatim', () => {
    const text = renderRedisConf(
      resolvedTenant({ redis: { config: { save: '', 'notify-keyspace-events': 'Ex' } } }),
    );
    assert.match(text, /^save ""$/m);
    assert.match(text, /^notify-keyspace-events Ex$/m);
  });

  it('is byte-identical for the same tenant and independent of config key order', () => {
    const a = resolvedTenant({ redis: { config: { hz: '20', timeout: '0' } } });
    const b = resolvedTenant({ redis: { config: { timeout: '0', hz: '20' } } });
    assert.equal(renderRedisConf(a), renderRedisConf(a));
    assert.equal(renderRedisConf(a), renderRedisConf(b));
    assert.ok(renderRedisConf(a).endsWith('include /etc/redis/auth/auth.conf\n'));
  });

  it('refuses directives that skipped validation: keys off the allow-list, unsafe values', () => {
    assert.throws(() => renderRedisConf(withRawConfig({ requirepass: 'x' })), /not an allowed redis.conf/);
    assert.throws(() => renderRedisConf(withRawConfig({ include: '/tmp/x' })), /not an allowed redis.conf/);
    assert.throws(
      () => renderRedisConf(withRawConfig({ user: 'x on nopass' })),
      /spec\.redis\.config\.user:/,
    );
    assert.throws(() => renderRedisConf(withRawConfig({ 'bad name': 'x' })), /not an allowed redis.conf/);
    assert.throws(() => renderRedisConf(withRawConfig({ timeout: '0\nrequirepass x' })), /one line/);
    assert.throws(() => renderRedisConf(withRawConfig({ timeout: '0\rrequirepass x' })), /one line/);
    assert.throws(() => renderRedisConf(withRawConfig({ save: '"\\n" x' })), /without quotes/);
  });

  it('never carries an extra directive: one line per directive, whatever the values', () => {
    const names = [...ALLOWED_REDIS_DIRECTIVE_NAMES, 'user', 'include', 'requirepass', 'Hz'];
    const defaults = renderRedisConf(resolvedTenant())
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ')[0]!);
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), fc.oneof(fc.string({ unit: 'binary' }), fc.string()), {
          maxKeys: 6,
        }),
        (config) => {
          const spec = { redis: { config } };
          const valid = validateTenant({
            apiVersion: 'neurallog.io/v1',
            kind: 'Tenant',
            metadata: { name: 'acme' },
            spec,
          });
          if (!valid.ok) {
            assert.throws(() => renderRedisConf(withRawConfig(config)));
            return;
          }
          const text = renderRedisConf(resolvedTenant(spec));
          // Redis reads its config file line by line (split at "\n", each line trimmed of
          // whitespace including "\r"); the first word of a line is the directive.
          const lines = text.split('\n').filter((l) => l.trim() !== '');
          const added = Object.keys(config).filter((k) => !defaults.includes(k));
          assert.equal(lines.length, defaults.length + added.length);
          assert.equal(lines.at(-1), 'include /etc/redis/auth/auth.conf');
          for (const line of lines.slice(0, -1)) {
            const name = line.split(' ')[0]!;
            assert.ok(ALLOWED_REDIS_DIRECTIVE_NAMES.includes(name) || defaults.includes(name), line);
          }
          for (const [key, value] of Object.entries(config)) {
            assert.ok(lines.includes(`${key} ${value === '' ? '""' : value}`), `${key} ${value}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('renderAuthConf', () => {
  it('sets requirepass and masterauth', () => {
    assert.equal(renderAuthConf('Zx_9-abc'), 'requirepass Zx_9-abc\nmasterauth Zx_9-abc\n');
  });

  it('refuses passwords that would break the file', () => {
    for (const bad of ['', 'a b', 'a\nrequirepass x', 'a"b', "a'b", 'a\\b']) {
      assert.throws(() => renderAuthConf(bad), /Redis password/, JSON.stringify(bad));
    }
  });
});

describe('configHash', () => {
  it('is 16 hex digits of sha256 and stable', () => {
    const text = renderRedisConf(resolvedTenant());
    assert.match(configHash(text), /^[0-9a-f]{16}$/);
    assert.equal(configHash(text), configHash(renderRedisConf(resolvedTenant())));
  });

  it('changes when the config changes and not otherwise', () => {
    const hash = (spec: Record<string, unknown>) => configHash(renderRedisConf(resolvedTenant(spec)));
    const base = hash({});
    assert.notEqual(hash({ redis: { config: { hz: '20' } } }), base);
    assert.notEqual(hash({ redis: { resources: { memory: { limit: '512Mi' } } } }), base);
    assert.equal(hash({ server: { replicas: 3 }, redis: { replicas: 3, image: 'redis:7.2-alpine' } }), base);
    assert.equal(hash({ redis: { resources: { cpu: { limit: '1' } } } }), base);
  });
});
