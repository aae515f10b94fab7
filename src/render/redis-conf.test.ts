import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResolvedTenant } from '../api/resolve.ts';
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

  it('refuses directives that skipped validation: reserved names, bad names, multi-line values', () => {
    assert.throws(() => renderRedisConf(withRawConfig({ requirepass: 'x' })), /set by the operator/);
    assert.throws(() => renderRedisConf(withRawConfig({ include: '/tmp/x' })), /set by the operator/);
    assert.throws(() => renderRedisConf(withRawConfig({ 'bad name': 'x' })), /not a redis.conf directive/);
    assert.throws(() => renderRedisConf(withRawConfig({ timeout: '0\nrequirepass x' })), /single line/);
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
