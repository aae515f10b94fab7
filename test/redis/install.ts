// redis-server for the tests: the one on PATH, else Debian's `redis-server` package installed
// with apt-get (as the control plane is built when missing). Tests skip, saying why, only when
// neither works (no root, no package source).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type RedisServerBinary = { path: string; version: string } | { skip: string };

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

async function findBinary(): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v redis-server']);
    if (stdout.trim()) return stdout.trim();
  } catch {
    // not on PATH
  }
  return CANDIDATES.find((c) => existsSync(c));
}

async function versionOf(path: string): Promise<string> {
  const { stdout } = await run(path, ['--version']);
  const version = /v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  if (!version) throw new Error(`cannot read the version from "${stdout.trim()}"`);
  return version;
}

async function install(log: (line: string) => void): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  log('redis-server is missing: installing Debian package redis-server (first time only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], { env, maxBuffer: 64 << 20 });
  await run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], {
    env,
    maxBuffer: 64 << 20,
  });
  return findBinary();
}

/** redis-server 7 or later, installed when missing; `skip` explains why there is none. */
export async function ensureRedisServer(
  log: (line: string) => void = console.log,
): Promise<RedisServerBinary> {
  let path = await findBinary();
  if (!path) {
    try {
      path = await install(log);
    } catch (error) {
      return { skip: `redis-server is missing and apt-get could not install it: ${String(error)}` };
    }
    if (!path) return { skip: 'redis-server is missing and cannot be installed (apt-get needs root)' };
  }
  const version = await versionOf(path);
  if (Number(version.split('.')[0]) < 7)
    return { skip: `${path} is redis ${version}; the tests need 7 or later` };
  return { path, version };
}
