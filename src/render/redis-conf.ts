/**
 * The tenant's `redis.conf` and the Secret-held `auth.conf` (SPEC §1.3, §2.5).
 *
 * The text is byte-for-byte stable for the same tenant, because its hash (`configHash`) is put on
 * the Redis pod template: any change of the file rolls the pods, and nothing else does.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ResolvedTenant } from '../api/resolve.ts';
import { quantityToBytes } from '../api/quantity.ts';
import {
  REDIS_CONFIG_VALUE_RULE_TEXT,
  isAllowedRedisDirective,
  isValidRedisConfigValue,
  notAllowedMessage,
} from '../api/redis-config.ts';
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

/** `maxmemory` for a container memory limit: 80 % of it in bytes, rounded down. */
export function maxMemoryBytes(memoryLimit: string | number): number {
  const bytes = BigInt(quantityToBytes(memoryLimit));
  return Number((bytes * MAXMEMORY_NUMERATOR) / MAXMEMORY_DENOMINATOR);
}

/**
 * The operator's own directives, in file order. `spec.redis.config` may replace the ones on the
 * allow-list (appendonly, appendfsync, maxmemory, maxmemory-policy).
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
 * Refuses what validation already refuses (a key off the allow-list, a value with a line break,
 * a quote or a backslash), so a tenant that somehow skipped validation still cannot smuggle a
 * directive into the file.
 */
function checkUserDirective(name: string, value: string): void {
  if (!isAllowedRedisDirective(name)) {
    throw new Error(`spec.redis.config.${name}: ${notAllowedMessage(name)}`);
  }
  if (!isValidRedisConfigValue(value)) {
    throw new Error(`spec.redis.config.${name}: ${REDIS_CONFIG_VALUE_RULE_TEXT}`);
  }
}

/** Code-unit order: deterministic, independent of locale. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `redis.conf`: the defaults, then `spec.redis.config` sorted by key (a key naming a default
 * replaces that line where it stands; other keys are appended in sorted order), then the `include`
 * of the Secret's auth.conf. The include comes last so that nothing before it can override
 * `requirepass`/`masterauth`. A value is written verbatim: it holds no quote, backslash or line
 * break (checked above), so Redis reads it as the space-separated words it shows.
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

/** A new Redis password: 32 random bytes as base64url text (within PASSWORD_PATTERN). */
export function generateRedisPassword(): string {
  return randomBytes(32).toString('base64url');
}

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
