/**
 * The tenant's `redis.conf` and the Secret-held `auth.conf` (SPEC §1.3, §2.5).
 *
 * The text is byte-for-byte stable for the same tenant, because its hash (`configHash`) is put on
 * the Redis pod template: any change of the file rolls the pods, and nothing else does.
 */
import { createHash } from 'node:crypto';
import type { ResolvedTenant } from '../api/resolve.ts';
import { quantityToBytes } from '../api/quantity.ts';
import { RESERVED_REDIS_DIRECTIVES } from '../api/spec.ts';
import { REDIS_PORT } from './meta.ts';

/** Where the ConfigMap (`redis.conf`) is mounted in the Redis container. */
export const REDIS_CONFIG_DIR = '/etc/redis';
export const REDIS_CONFIG_FILE = 'redis.conf';
export const REDIS_CONFIG_PATH = `${REDIS_CONFIG_DIR}/${REDIS_CONFIG_FILE}`;
/** Where the Secret's `auth.conf` is mounted; `redis.conf` pulls it in with its last line. */
export const REDIS_AUTH_DIR = `${REDIS_CONFIG_DIR}/auth`;
export const REDIS_AUTH_FILE = 'auth.conf';
export const REDIS_AUTH_PATH = `${REDIS_AUTH_DIR}/${REDIS_AUTH_FILE}`;
/** Redis' working directory: the data volume. */
export const REDIS_DATA_DIR = '/data';

/** Share of the container memory limit given to Redis as `maxmemory`, as a fraction num/den. */
const MAXMEMORY_NUMERATOR = 4n;
const MAXMEMORY_DENOMINATOR = 5n;

const DIRECTIVE_NAME = /^[a-z][a-z0-9-]*$/;
const RESERVED: ReadonlySet<string> = new Set(RESERVED_REDIS_DIRECTIVES);

/** `maxmemory` for a container memory limit: 80 % of it in bytes, rounded down. */
export function maxMemoryBytes(memoryLimit: string | number): number {
  const bytes = BigInt(quantityToBytes(memoryLimit));
  return Number((bytes * MAXMEMORY_NUMERATOR) / MAXMEMORY_DENOMINATOR);
}

/**
 * The operator's own directives, in file order. `spec.redis.config` may replace the ones not in
 * RESERVED_REDIS_DIRECTIVES (appendonly, appendfsync, maxmemory, maxmemory-policy).
 */
function defaultDirectives(t: ResolvedTenant): [string, string][] {
  return [
    ['port', String(REDIS_PORT)],
    ['bind', '0.0.0.0'],
    ['protected-mode', 'yes'],
    ['dir', REDIS_DATA_DIR],
    ['appendonly', 'yes'],
    ['appendfsync', 'everysec'],
    ['maxmemory', String(maxMemoryBytes(t.redis.resources.limits.memory))],
    ['maxmemory-policy', 'allkeys-lru'],
  ];
}

/**
 * Refuses what validation already refuses (reserved or malformed names, multi-line values), so a
 * tenant that somehow skipped validation still cannot smuggle a directive into the file.
 */
function checkUserDirective(name: string, value: string): void {
  if (!DIRECTIVE_NAME.test(name)) {
    throw new Error(`spec.redis.config: ${JSON.stringify(name)} is not a redis.conf directive name`);
  }
  if (RESERVED.has(name)) {
    throw new Error(`spec.redis.config: "${name}" is set by the operator and cannot be overridden`);
  }
  if (/[\r\n\0]/.test(value)) {
    throw new Error(`spec.redis.config: the value of "${name}" must be a single line`);
  }
}

/** Code-unit order: deterministic, independent of locale. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `redis.conf`: the defaults, then `spec.redis.config` sorted by key (a key naming a default
 * replaces that line where it stands; other keys are appended in sorted order), then the `include`
 * of the Secret's auth.conf. The include comes last so that nothing before it can override
 * `requirepass`/`masterauth`. Values are written verbatim (Redis' own quoting rules apply).
 */
export function renderRedisConf(t: ResolvedTenant): string {
  const lines = defaultDirectives(t);
  const index = new Map(lines.map(([name], i) => [name, i]));
  for (const name of Object.keys(t.redis.config).sort(byCodeUnits)) {
    const value = t.redis.config[name] ?? '';
    checkUserDirective(name, value);
    const at = index.get(name);
    if (at === undefined) {
      index.set(name, lines.length);
      lines.push([name, value]);
    } else {
      lines[at] = [name, value];
    }
  }
  lines.push(['include', REDIS_AUTH_PATH]);
  // An empty value is written as "" (e.g. `save ""` turns snapshots off); a bare name is a syntax error.
  return lines.map(([name, value]) => `${name} ${value === '' ? '""' : value}\n`).join('');
}

/** Characters a generated password may use: printable ASCII without quotes, backslash or space. */
const PASSWORD_PATTERN = /^[!#-&(-[\]-~]+$/;

/** `auth.conf`, kept in the Secret: the password Redis requires and the one replicas use upstream. */
export function renderAuthConf(password: string): string {
  if (!PASSWORD_PATTERN.test(password)) {
    throw new Error(
      'the Redis password must be non-empty printable ASCII without spaces, quotes or backslashes (it is written into auth.conf)',
    );
  }
  return `requirepass ${password}\nmasterauth ${password}\n`;
}

/** Short content hash (sha256, first 16 hex digits) for the `neurallog.io/config-hash` annotation. */
export function configHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}
