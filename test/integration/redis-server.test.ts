// The Redis files the product renders, run by a real redis-server 7 (Debian's package, installed
// when missing): the password from the rendered Secret is required and works, the tenant's config
// takes effect, no other user exists, every directive of the allow-list is accepted, and a replica
// started with the replica pods' arguments replicates from the primary using masterauth.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { after, before, describe, test } from 'node:test';
import { ALLOWED_REDIS_DIRECTIVES } from '../../src/api/redis-config.ts';
import { resolveTenant } from '../../src/api/resolve.ts';
import type { Tenant } from '../../src/api/tenant.ts';
import { parseTenant } from '../../src/api/validate.ts';
import { render } from '../../src/render/index.ts';
import { maxMemoryBytes, generateRedisPassword } from '../../src/render/redis-conf.ts';
import { redisPrimaryHost } from '../../src/render/redis.ts';
import { repoRoot } from '../cluster/config.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type RedisServerBinary, ensureRedisServer } from '../redis/install.ts';
import {
  writeLocalRedisFiles,
  renderedRedis,
  replicaArguments,
  type RenderedRedis,
} from '../redis/local-files.ts';
import { type RedisConnection, RedisReplyError, connectRedis } from '../redis/resp.ts';

const AUTH_URL = 'http://auth.neurallog-system.svc:3000';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RunningRedis {
  port: number;
  process: ChildProcess;
  output: () => string;
}

const running: RunningRedis[] = [];

async function startRedis(
  binary: string,
  rendered: RenderedRedis,
  dir: string,
  extraArgs: (port: number) => string[] = () => [],
): Promise<RunningRedis> {
  const port = await freePort();
  const files = await writeLocalRedisFiles(rendered, dir, port);
  let output = '';
  const child = spawn(binary, [files.configPath, ...extraArgs(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const redis: RunningRedis = { port, process: child, output: () => output };
  running.push(redis);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}:\n${output}`);
      try {
        const c = await connectRedis(port);
        const reply = await c.command('PING');
        c.close();
        return reply instanceof RedisReplyError && /^NOAUTH/.test(reply.message) ? true : notYet(reply);
      } catch (error) {
        return notYet(String(error));
      }
    },
    { timeoutMs: 30_000, description: `redis-server on port ${port} to answer`, intervalMs: 100 },
  );
  return redis;
}

async function authenticated(port: number, password: string): Promise<RedisConnection> {
  const c = await connectRedis(port);
  assert.equal(await c.command('AUTH', password), 'OK');
  return c;
}

function configValue(reply: unknown): string {
  assert.ok(Array.isArray(reply) && reply.length === 2, `CONFIG GET answered ${JSON.stringify(reply)}`);
  return String(reply[1]);
}

async function customizedTenant(): Promise<Tenant> {
  const path = join(repoRoot, 'config', 'samples', 'neurallog_v1_tenant_customized.yaml');
  const sample = parseTenant(parse(await readFile(path, 'utf8')));
  // The sample's own config plus a few more tuning directives, so their effect can be seen.
  const spec = structuredClone(sample.spec ?? {});
  spec.redis = {
    ...spec.redis,
    replicas: 2,
    config: {
      ...spec.redis?.config,
      'maxmemory-policy': 'volatile-lfu',
      hz: '25',
      'notify-keyspace-events': 'Ex',
      save: '900 1 300 10',
      timeout: '120',
    },
  };
  return parseTenant({ ...sample, spec });
}

describe('the rendered Redis files on a real redis-server', { timeout: 600_000 }, () => {
  let binary: RedisServerBinary;
  let dir: string;

  before(async () => {
    binary = await ensureRedisServer((line) => console.log(line));
    dir = await mkdtemp(join(tmpdir(), 'neurallog-redis-'));
  });

  after(async () => {
    for (const r of running) {
      if (r.process.exitCode === null && r.process.pid !== undefined) {
        const exited = new Promise((resolve) => r.process.once('exit', resolve));
        r.process.kill('SIGTERM');
        await exited;
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the customized tenant: AUTH required, the password works, its config took effect, no other user', async (t) => {
    if ('skip' in binary) return t.skip(binary.skip);
    const tenant = await customizedTenant();
    const objects = render(tenant, { authUrl: AUTH_URL, redisPassword: generateRedisPassword() });
    const rendered = renderedRedis(objects);
    const redis = await startRedis(binary.path, rendered, join(dir, 'customized'));

    const anonymous = await connectRedis(redis.port);
    const refused = await anonymous.command('GET', 'anything');
    assert.ok(refused instanceof RedisReplyError, 'a command without AUTH was answered');
    assert.match(refused.message, /^NOAUTH Authentication required/);
    const wrong = await anonymous.command('AUTH', `${rendered.password}x`);
    assert.ok(wrong instanceof RedisReplyError && /^WRONGPASS/.test(wrong.message), String(wrong));
    // `AUTH <user> <password>` with any user but default, or default with no password, fails too.
    for (const [user, password] of [
      ['x', ''],
      ['x', rendered.password],
      ['default', ''],
      ['default', 'nopass'],
    ] as const) {
      const reply = await anonymous.command('AUTH', user, password);
      assert.ok(
        reply instanceof RedisReplyError && /^WRONGPASS/.test(reply.message),
        `${user}: ${String(reply)}`,
      );
    }
    anonymous.close();

    const c = await authenticated(redis.port, rendered.password);
    assert.equal(await c.command('PING'), 'PONG');
    assert.equal(await c.command('SET', 'k', 'v'), 'OK');
    assert.equal(await c.command('GET', 'k'), 'v');

    const limit = resolveTenant(tenant).redis.resources.limits.memory;
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'maxmemory')), String(maxMemoryBytes(limit)));
    // 80 % of the sample's 256Mi limit, in bytes.
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'maxmemory')), '214748364');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'maxmemory-policy')), 'volatile-lfu');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'hz')), '25');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'save')), '900 1 300 10');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'timeout')), '120');
    assert.match(configValue(await c.command('CONFIG', 'GET', 'notify-keyspace-events')), /^(Ex|xE)$/);
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'appendonly')), 'yes');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'protected-mode')), 'yes');

    // One user, the default one, with a password (no nopass): nothing else can log in.
    const users = await c.command('ACL', 'LIST');
    assert.ok(Array.isArray(users), String(users));
    assert.equal(users.length, 1, JSON.stringify(users));
    assert.match(String(users[0]), /^user default on #[0-9a-f]{64} /);
    assert.doesNotMatch(String(users[0]), /nopass/);
    // Modules and the debug command stay off (they are not on the allow-list).
    const debug = await c.command('DEBUG', 'SLEEP', '0');
    assert.ok(debug instanceof RedisReplyError && /not allowed/.test(debug.message), String(debug));
    const moduleLoad = await c.command('MODULE', 'LOAD', '/nonexistent.so');
    assert.ok(
      moduleLoad instanceof RedisReplyError && /not allowed/.test(moduleLoad.message),
      String(moduleLoad),
    );
    c.close();
    assert.doesNotMatch(redis.output(), new RegExp(rendered.password));
  });

  test("a replica started with the replica pods' arguments replicates from the primary using masterauth", async (t) => {
    if ('skip' in binary) return t.skip(binary.skip);
    const tenant = await customizedTenant();
    const rendered = renderedRedis(
      render(tenant, { authUrl: AUTH_URL, redisPassword: generateRedisPassword() }),
    );
    const primary = await startRedis(binary.path, rendered, join(dir, 'primary'));
    const host = redisPrimaryHost(resolveTenant(tenant));
    const replica = await startRedis(binary.path, rendered, join(dir, 'replica'), () =>
      replicaArguments(rendered, host, primary.port),
    );

    const writer = await authenticated(primary.port, rendered.password);
    assert.equal(await writer.command('SET', 'replicated', 'yes'), 'OK');
    const reader = await authenticated(replica.port, rendered.password);
    await waitFor(
      async () => {
        const info = String(await reader.command('INFO', 'replication'));
        return /master_link_status:up/.test(info) && (await reader.command('GET', 'replicated')) === 'yes'
          ? true
          : notYet(info);
      },
      { timeoutMs: 30_000, description: 'the replica to sync from the primary' },
    );
    const readOnly = await reader.command('SET', 'x', 'y');
    assert.ok(readOnly instanceof RedisReplyError && /^READONLY/.test(readOnly.message), String(readOnly));
    writer.close();
    reader.close();
  });

  test('every directive of the allow-list, with its documented example, is accepted by redis-server', async (t) => {
    if ('skip' in binary) return t.skip(binary.skip);
    const config = Object.fromEntries([...ALLOWED_REDIS_DIRECTIVES].map(([name, d]) => [name, d.example]));
    const tenant = parseTenant({
      apiVersion: 'neurallog.io/v1',
      kind: 'Tenant',
      metadata: { name: 'every-directive' },
      spec: { redis: { config } },
    });
    const rendered = renderedRedis(
      render(tenant, { authUrl: AUTH_URL, redisPassword: generateRedisPassword() }),
    );
    const redis = await startRedis(binary.path, rendered, join(dir, 'every-directive'));
    const c = await authenticated(redis.port, rendered.password);
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'save')), '3600 1 300 100 60 10000');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'maxclients')), '1000');
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'maxmemory')), String(100 * 1024 * 1024));
    assert.equal(configValue(await c.command('CONFIG', 'GET', 'io-threads')), '2');
    c.close();
    console.log(
      `redis-server ${binary.version} started with all ${ALLOWED_REDIS_DIRECTIVES.size} allowed directives`,
    );
  });
});
