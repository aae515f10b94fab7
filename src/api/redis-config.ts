/**
 * The redis.conf directives a tenant may set in `spec.redis.config` (SPEC §1.3): an allow-list of
 * tuning directives, each with an example value that redis-server 7.0 and later accept (the
 * integration test starts a real redis-server with every one of them). Everything else — ACL and
 * authentication, modules and debugging, files and paths, networking, replication topology and
 * process control — is refused, because the operator owns it or because it could open the store.
 *
 * Directives that appeared after Redis 7.0 (e.g. `set-max-listpack-entries`, 7.2) are left out:
 * `redis:7-alpine` may be any 7.x, and an unknown directive stops redis-server at start.
 */

export interface RedisDirective {
  /** One of the SPEC's categories, for the documentation. */
  category: RedisDirectiveCategory;
  /** A value every redis-server 7.x accepts. */
  example: string;
}

export const REDIS_DIRECTIVE_CATEGORIES = [
  'memory and eviction',
  'lazy freeing',
  'persistence',
  'client limits and timeouts',
  'data-structure encodings',
  'slowlog and latency monitoring',
  'keyspace notifications',
  'replication tuning',
  'server',
] as const;
export type RedisDirectiveCategory = (typeof REDIS_DIRECTIVE_CATEGORIES)[number];

const group = (
  category: RedisDirectiveCategory,
  examples: Record<string, string>,
): [string, RedisDirective][] =>
  Object.entries(examples).map(([name, example]) => [name, { category, example }]);

export const ALLOWED_REDIS_DIRECTIVES: ReadonlyMap<string, RedisDirective> = new Map([
  ...group('memory and eviction', {
    maxmemory: '100mb',
    'maxmemory-policy': 'allkeys-lru',
    'maxmemory-samples': '5',
    'maxmemory-eviction-tenacity': '10',
    'maxmemory-clients': '0',
    'lfu-log-factor': '10',
    'lfu-decay-time': '1',
    'active-expire-effort': '1',
    'replica-ignore-maxmemory': 'yes',
  }),
  ...group('lazy freeing', {
    'lazyfree-lazy-eviction': 'no',
    'lazyfree-lazy-expire': 'no',
    'lazyfree-lazy-server-del': 'no',
    'lazyfree-lazy-user-del': 'no',
    'lazyfree-lazy-user-flush': 'no',
    'replica-lazy-flush': 'no',
  }),
  ...group('persistence', {
    save: '3600 1 300 100 60 10000',
    'stop-writes-on-bgsave-error': 'yes',
    rdbcompression: 'yes',
    rdbchecksum: 'yes',
    'rdb-del-sync-files': 'no',
    'rdb-save-incremental-fsync': 'yes',
    appendonly: 'yes',
    appendfsync: 'everysec',
    'no-appendfsync-on-rewrite': 'no',
    'auto-aof-rewrite-percentage': '100',
    'auto-aof-rewrite-min-size': '64mb',
    'aof-load-truncated': 'yes',
    'aof-use-rdb-preamble': 'yes',
    'aof-rewrite-incremental-fsync': 'yes',
    'aof-timestamp-enabled': 'no',
  }),
  ...group('client limits and timeouts', {
    maxclients: '1000',
    timeout: '300',
    'tcp-keepalive': '300',
    'client-output-buffer-limit': 'normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60',
    'client-query-buffer-limit': '1gb',
    'proto-max-bulk-len': '512mb',
    'busy-reply-threshold': '5000',
  }),
  ...group('data-structure encodings', {
    'hash-max-listpack-entries': '128',
    'hash-max-listpack-value': '64',
    'hash-max-ziplist-entries': '128',
    'hash-max-ziplist-value': '64',
    'list-max-listpack-size': '-2',
    'list-max-ziplist-size': '-2',
    'list-compress-depth': '0',
    'set-max-intset-entries': '512',
    'zset-max-listpack-entries': '128',
    'zset-max-listpack-value': '64',
    'zset-max-ziplist-entries': '128',
    'zset-max-ziplist-value': '64',
    'hll-sparse-max-bytes': '3000',
    'stream-node-max-bytes': '4096',
    'stream-node-max-entries': '100',
    activerehashing: 'yes',
  }),
  ...group('slowlog and latency monitoring', {
    'slowlog-log-slower-than': '10000',
    'slowlog-max-len': '128',
    'latency-monitor-threshold': '100',
    'latency-tracking': 'yes',
    'latency-tracking-info-percentiles': '50 99 99.9',
  }),
  ...group('keyspace notifications', { 'notify-keyspace-events': 'Ex' }),
  ...group('replication tuning', {
    'repl-diskless-sync': 'yes',
    'repl-diskless-sync-delay': '5',
    'repl-diskless-sync-max-replicas': '0',
    'repl-diskless-load': 'disabled',
    'repl-ping-replica-period': '10',
    'repl-timeout': '60',
    'repl-disable-tcp-nodelay': 'no',
    'repl-backlog-size': '1mb',
    'repl-backlog-ttl': '3600',
    'replica-serve-stale-data': 'yes',
    'replica-read-only': 'yes',
    'replica-priority': '100',
    'min-replicas-to-write': '0',
    'min-replicas-max-lag': '10',
  }),
  ...group('server', {
    hz: '10',
    'dynamic-hz': 'yes',
    databases: '16',
    'io-threads': '2',
    'io-threads-do-reads': 'no',
  }),
]);

export const ALLOWED_REDIS_DIRECTIVE_NAMES: readonly string[] = [...ALLOWED_REDIS_DIRECTIVES.keys()];

/**
 * Never allowed, whatever the list above says (SPEC §1.3). Kept so a test can prove the allow-list
 * and this list never meet; `*` stands for any suffix.
 */
export const FORBIDDEN_REDIS_DIRECTIVES: readonly string[] = [
  'user',
  'aclfile',
  'requirepass',
  'masterauth',
  'masteruser',
  'loadmodule',
  'enable-debug-command',
  'enable-module-command',
  'enable-protected-configs',
  'rename-command',
  'dir',
  'dbfilename',
  'appenddirname',
  'appendfilename',
  'include',
  'logfile',
  'pidfile',
  'unixsocket*',
  'port',
  'bind',
  'protected-mode',
  'tls-*',
  'replicaof',
  'slaveof',
  'daemonize',
  'supervised',
];

/**
 * A value is one line of printable ASCII without quotes or backslashes. Redis splits a config line
 * into arguments at spaces and reads quotes and backslash escapes itself; with none of them, the
 * value means exactly the words it shows, and no line break can start a second directive.
 */
export const REDIS_CONFIG_VALUE_PATTERN = '^[ !#-&(-\\[\\]-~]*$';
export const REDIS_CONFIG_VALUE_MAX_LENGTH = 1024;
export const REDIS_CONFIG_VALUE_RULE_TEXT =
  'a redis config value is one line of printable ASCII without quotes or backslashes (words separated by spaces; an empty value is written as "")';

export const REDIS_CONFIG_REFERENCE = 'docs/api.md#redis-config-directives';

/** Why a key is refused; also a CEL string literal in the CRD, so it holds no quotes. */
export const NOT_ALLOWED_TEXT = `not an allowed redis.conf directive: only the tuning directives listed in kubectl explain tenant.spec.redis.config (${REDIS_CONFIG_REFERENCE}) may be set`;

export function notAllowedMessage(key: string): string {
  return `${JSON.stringify(key)} is ${NOT_ALLOWED_TEXT}`;
}

const VALUE = new RegExp(REDIS_CONFIG_VALUE_PATTERN);

export function isAllowedRedisDirective(key: string): boolean {
  return ALLOWED_REDIS_DIRECTIVES.has(key);
}

export function isValidRedisConfigValue(value: string): boolean {
  return value.length <= REDIS_CONFIG_VALUE_MAX_LENGTH && VALUE.test(value);
}
