// Hostile Tenants: a valid Tenant with one to three hostile changes applied — wrong types, huge
// strings, unicode and control characters, deep nesting, env names and Redis config values with
// newlines or quotes, ports out of range, names at the length limits, conflicting fields, odd
// allowedNamespaces, unknown fields, wrong plan names, malformed quantities. Generated from a seed
// with fast-check, so any case can be produced again from (seed, index).
import fc from 'fast-check';

export type PathSegment = string | number;

/** One hostile change: `value` written at `path` (objects and arrays made on the way). */
export interface Mutation {
  kind: string;
  path: PathSegment[];
  value: unknown;
}

/** How `metadata.name` is derived from the case's unique base name. */
export interface NameShape {
  kind: string;
  make(base: string): string;
}

export interface HostileCase {
  index: number;
  name: string;
  manifest: Record<string, unknown>;
  /** The changes actually applied (one whose parent was not an object is dropped). */
  mutations: Mutation[];
  nameShape: string;
}

const pad = (base: string, length: number, fill = 'a') =>
  base.length >= length ? base.slice(0, length) : base + fill.repeat(length - base.length);

const NAME_SHAPES: NameShape[] = [
  { kind: 'plain', make: (b) => b },
  { kind: 'length 40 (tenant id limit)', make: (b) => pad(b, 40) },
  { kind: 'length 41', make: (b) => pad(b, 41) },
  { kind: 'length 63 (label limit)', make: (b) => pad(b, 63) },
  { kind: 'length 64', make: (b) => pad(b, 64) },
  { kind: 'length 253 (object name limit)', make: (b) => pad(b, 253) },
  { kind: 'length 254', make: (b) => pad(b, 254) },
  { kind: 'upper case', make: (b) => b.toUpperCase() },
  { kind: 'trailing dash', make: (b) => `${b}-` },
  { kind: 'leading digit', make: (b) => `0${b}` },
  { kind: 'dotted', make: (b) => `${b}.example` },
  { kind: 'underscore', make: (b) => `${b}_x` },
  { kind: 'unicode', make: (b) => `${b}-é` },
  { kind: 'space', make: (b) => `${b} x` },
];

// ---- values --------------------------------------------------------------------------------

const CONTROL = ['\n', '\r', '\r\n', '\t', '\0', '\u001b', '\u0007', '\u007f', '\u0085', '\u2028', '\u2029'];
const ODD_UNICODE = ['é', '😀', '\u0301', '\u200b', '\ufeff', '\u00a0', '漢字', '\u202e', 'İ', 'ß', '\ud800'];
const QUOTES = ['"', "'", '\\', '`', '$(id)', '${X}', '#', ';', ' ', '""'];

/** A string built from pieces that break parsers: control characters, odd unicode, quotes. */
const nastyString = fc
  .array(
    fc.oneof(
      fc.constantFrom(...CONTROL),
      fc.constantFrom(...ODD_UNICODE),
      fc.constantFrom(...QUOTES),
      fc.constantFrom('a', 'yes', 'requirepass x', 'include /etc/passwd', 'port 1', 'A', '-', '.', '/'),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''));

/** A string around a length limit, of plain or wide characters. */
const sizedString = (limits: number[]) =>
  fc
    .record({
      length: fc.oneof(
        fc.constantFrom(...limits.flatMap((l) => [l - 1, l, l + 1])),
        fc.constantFrom(0, 1, 100_000),
      ),
      unit: fc.constantFrom('a', '😀', 'é', '漢', '-', '0'),
    })
    .map(({ length, unit }) => unit.repeat(Math.max(0, length)));

const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(1.5, -0.5, 1e21, 2 ** 53 + 2, 2 ** 63, -(2 ** 31)),
  fc.constantFrom('', 'true', '1', 'null', '{}', '[]'),
  fc.constant([]),
  fc.constant({}),
  fc.constant([1, 'a', null]),
  fc.constant({ a: { b: 1 } }),
);

const deep = (depth: number, leaf: unknown, asArray: boolean): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
};
const deeplyNested = fc
  .record({
    depth: fc.constantFrom(2, 10, 50, 200),
    asArray: fc.boolean(),
    leaf: fc.oneof(fc.constant('x'), fc.constant(1), fc.constant(null)),
  })
  .map(({ depth, asArray, leaf }) => deep(depth, leaf, asArray));

const quantityText = fc.oneof(
  fc.constantFrom(
    '1Gb',
    '-1',
    '-1Gi',
    '1.5.5',
    '1e',
    '1 Gi',
    ' 1Gi',
    '1Gi ',
    '',
    'Gi',
    '0x10',
    '1e1000',
    '∞',
    'NaN',
    '1_000',
    '1Ki1',
    '+1',
    '1mi',
    '1KI',
    '١٢',
    '1Gi\n',
  ),
  // valid but odd
  fc.constantFrom('1.5Gi', '1e3', '.5', '5.', '1E+3', '1Ei', '0', '0.000000001', '100000000000000000000Ei'),
  fc.constantFrom(0, 1, -1, 1.5, 2 ** 60, 1e21, 0.1),
);

const portValue = fc.oneof(
  fc.constantFrom(0, -1, 65536, 1_000_000, 1.5, 2 ** 31, 2 ** 53 + 2, 1, 65535, 80),
  fc.constantFrom('', 'http', 'HTTP', 'a'.repeat(15), 'a'.repeat(16), '80', '-a', 'a-', 'web_ui', 'é'),
);

// ---- where the changes go ----------------------------------------------------------------------

/** Fields of each JSON type, as the schema has them (the targets of wrong types and odd strings). */
const STRING_FIELDS: Array<{ path: PathSegment[]; limits: number[] }> = [
  { path: ['spec', 'displayName'], limits: [253] },
  { path: ['spec', 'description'], limits: [1024] },
  { path: ['spec', 'tenantId'], limits: [40] },
  { path: ['spec', 'billingEmail'], limits: [254] },
  { path: ['spec', 'server', 'image'], limits: [512] },
  { path: ['spec', 'server', 'probePath'], limits: [1024] },
  { path: ['spec', 'server', 'env', 0, 'name'], limits: [256] },
  { path: ['spec', 'server', 'env', 0, 'value'], limits: [32768] },
  { path: ['spec', 'redis', 'image'], limits: [512] },
  { path: ['spec', 'redis', 'storageClassName'], limits: [253] },
  { path: ['spec', 'redis', 'config', 'maxmemory-policy'], limits: [1024] },
  { path: ['spec', 'resources', 'storage', 'storageClass'], limits: [253] },
  { path: ['spec', 'networkPolicy', 'allowedNamespaces', 0], limits: [63] },
  { path: ['spec', 'networkPolicy', 'ingressRules', 0, 'description'], limits: [1024] },
  { path: ['spec', 'server', 'podAnnotations', 'example.com/note'], limits: [4096] },
  { path: ['spec', 'server', 'podLabels', 'team'], limits: [63, 4096] },
  { path: ['spec', 'redis', 'nodeSelector', 'disk'], limits: [63] },
];

const OTHER_FIELDS: PathSegment[][] = [
  ['spec'],
  ['spec', 'planId'],
  ['spec', 'server'],
  ['spec', 'server', 'replicas'],
  ['spec', 'server', 'env'],
  ['spec', 'server', 'env', 0],
  ['spec', 'server', 'resources', 'cpu', 'limit'],
  ['spec', 'server', 'imagePullPolicy'],
  ['spec', 'redis', 'replicas'],
  ['spec', 'redis', 'config'],
  ['spec', 'redis', 'storage'],
  ['spec', 'features', 'aiEnabled'],
  ['spec', 'networkPolicy', 'enabled'],
  ['spec', 'networkPolicy', 'allowedNamespaces'],
  ['spec', 'networkPolicy', 'ingressRules', 0, 'from'],
  ['spec', 'resources', 'pods'],
  ['spec', 'resources', 'memory', 'limits'],
  ['spec', 'services', 'logServer', 'enabled'],
  ['spec', 'services', 'logServer', 'replicas'],
  ['spec', 'services', 'authService', 'replicas'],
  ['metadata', 'labels'],
  ['metadata', 'annotations', 'note'],
  ['apiVersion'],
  ['kind'],
];

const QUANTITY_FIELDS: PathSegment[][] = [
  ['spec', 'server', 'resources', 'cpu', 'request'],
  ['spec', 'server', 'resources', 'memory', 'limit'],
  ['spec', 'redis', 'resources', 'memory', 'limit'],
  ['spec', 'redis', 'resources', 'cpu', 'request'],
  ['spec', 'redis', 'storage'],
  ['spec', 'resources', 'cpu', 'limits'],
  ['spec', 'resources', 'memory', 'requests'],
  ['spec', 'resources', 'storage', 'requests'],
  ['spec', 'services', 'logServer', 'resources', 'limits'],
];

const REDIS_KEYS = [
  'maxmemory-policy',
  'save',
  'appendonly',
  'hz',
  'timeout',
  'maxclients',
  'notify-keyspace-events',
  'port',
  'include',
  'requirepass',
  'rename-command',
  'loadmodule',
  'dir',
  'dbfilename',
  'enable-debug-command',
  'Port',
  'maxmemory ',
  'a\nb',
  'x'.repeat(64),
  'x'.repeat(65),
  '',
  '-x',
  'tls-port',
  'é',
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc
    .record({
      field: fc.constantFrom(...STRING_FIELDS, ...OTHER_FIELDS.map((path) => ({ path, limits: [] }))),
    })
    .chain(({ field }) =>
      wrongType.map((value) => ({ kind: 'wrong type', path: field.path, value }) as Mutation),
    ),
  fc
    .constantFrom(...STRING_FIELDS)
    .chain((field) =>
      sizedString(field.limits).map(
        (value) => ({ kind: 'sized string', path: field.path, value }) as Mutation,
      ),
    ),
  fc
    .record({ field: fc.constantFrom(...STRING_FIELDS), value: nastyString })
    .map(({ field, value }) => ({ kind: 'control/unicode/quotes', path: field.path, value })),
  fc
    .record({
      path: fc.constantFrom<PathSegment[]>(
        ['spec', 'extra'],
        ['spec', 'server', 'affinity'],
        ['spec', 'redis', 'config'],
        ['spec', 'server', 'env'],
        ['spec', 'networkPolicy', 'ingressRules'],
        ['metadata', 'labels'],
      ),
      value: deeplyNested,
    })
    .map(({ path, value }) => ({ kind: 'deep nesting', path, value })),
  fc
    .record({
      env: fc.record({
        name: fc.oneof(nastyString, fc.constantFrom('A B', '1A', 'A=B', 'ÄÖ', 'A\n', '_', '-', '.', 'a.b-c')),
        value: fc.oneof(nastyString, fc.constant('line1\nline2'), fc.constant('"quoted"')),
      }),
    })
    .map(({ env }) => ({ kind: 'env name/value', path: ['spec', 'server', 'env', 0], value: env })),
  fc
    .record({
      key: fc.oneof(fc.constantFrom(...REDIS_KEYS), nastyString),
      value: fc.oneof(
        nastyString,
        fc.constantFrom('yes\nrequirepass x', 'no\r\ninclude /tmp/x', '"', "'a b'", '3600 1 300 100', ''),
      ),
    })
    .map(({ key, value }) => ({ kind: 'redis config', path: ['spec', 'redis', 'config', key], value })),
  fc
    .record({ port: portValue, protocol: fc.constantFrom(undefined, 'TCP', 'tcp', 'ICMP', '', 'UDP') })
    .map(({ port, protocol }) => ({
      kind: 'port',
      path: ['spec', 'networkPolicy', 'ingressRules', 0, 'ports', 0],
      value: protocol === undefined ? { port } : { port, protocol },
    })),
  fc
    .record({ path: fc.constantFrom(...QUANTITY_FIELDS), value: quantityText })
    .map(({ path, value }) => ({ kind: 'quantity', path, value })),
  fc
    .record({
      list: fc.array(
        fc.oneof(
          fc.constantFrom(
            '',
            '-a',
            'a-',
            'A',
            'a_b',
            'kube-system',
            'default',
            'a.b',
            ' a',
            'é',
            'a'.repeat(63),
          ),
          fc.constantFrom('a'.repeat(64), 'monitoring', 'monitoring'),
          nastyString,
        ),
        { maxLength: 4 },
      ),
      many: fc.boolean(),
    })
    .map(({ list, many }) => ({
      kind: 'allowedNamespaces',
      path: ['spec', 'networkPolicy', 'allowedNamespaces'],
      value: many ? Array.from({ length: 51 }, (_, i) => `ns-${i}`) : list,
    })),
  fc
    .constantFrom('Starter', 'premium', '', ' starter', 'starter\n', 'enterprise ', 'PROFESSIONAL', 'free')
    .map((value) => ({ kind: 'plan', path: ['spec', 'planId'], value })),
  fc
    .constantFrom<Mutation>(
      { kind: 'unknown field', path: ['spec', 'replicas'], value: 3 },
      { kind: 'unknown field', path: ['spec', 'server', 'port'], value: 8080 },
      { kind: 'unknown field', path: ['spec', 'redis', 'password'], value: 'x' },
      { kind: 'unknown field', path: ['spec', 'networkPolicy', 'deny'], value: true },
      { kind: 'unknown field', path: ['spec', 'server', 'env', 0, 'secret'], value: 'x' },
      { kind: 'unknown field', path: ['spec', 'features', 'ai'], value: true },
      { kind: 'unknown field', path: ['spec', 'Server'], value: {} },
      { kind: 'unknown field', path: ['extra'], value: 1 },
      { kind: 'unknown field', path: ['metadata', 'extra'], value: 1 },
      { kind: 'unknown field', path: ['status', 'phase'], value: 'Running' },
      { kind: 'unknown field', path: ['status', 'bogus'], value: 1 },
    )
    .map((m) => m),
  fc
    .constantFrom<Mutation>(
      {
        kind: 'conflict',
        path: ['spec', 'server', 'env'],
        value: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
      },
      {
        kind: 'conflict',
        path: ['spec', 'server', 'env'],
        value: [
          {
            name: 'A',
            valueFrom: { secretKeyRef: { name: 's', key: 'k' }, configMapKeyRef: { name: 'c', key: 'k' } },
          },
        ],
      },
      { kind: 'conflict', path: ['spec', 'server', 'env'], value: [{ name: 'A', valueFrom: {} }] },
      {
        kind: 'conflict',
        path: ['spec', 'server', 'env'],
        value: [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
      },
      {
        kind: 'conflict',
        path: ['spec', 'services'],
        value: { logServer: { enabled: false, replicas: 3 } },
      },
      { kind: 'conflict', path: ['spec', 'redis', 'replicas'], value: 0 },
      { kind: 'conflict', path: ['spec', 'server', 'replicas'], value: 101 },
      { kind: 'conflict', path: ['spec', 'networkPolicy'], value: { enabled: false, ingressRules: [{}] } },
      {
        kind: 'conflict',
        path: ['spec', 'resources'],
        value: { cpu: { requests: '2', limits: '1' }, memory: { requests: '1Gi', limits: '1Mi' } },
      },
      { kind: 'conflict', path: ['spec', 'resources', 'pods'], value: 0 },
      {
        kind: 'conflict',
        path: ['spec', 'server', 'resources'],
        value: { cpu: { request: '2', limit: '100m' } },
      },
    )
    .map((m) => m),
  fc
    .constantFrom(
      'billing@example.com',
      'not-an-email',
      'a@b',
      '@example.com',
      'a@@b.com',
      'a b@c.com',
      '"a b"@c.com',
      'é@example.com',
      'a@exämple.com',
      'a@example.com\n',
      `${'a'.repeat(64)}@example.com`,
      `a@${'b'.repeat(250)}.com`,
      'a@[127.0.0.1]',
      'a+tag@example.co',
    )
    .map((value) => ({ kind: 'billing email', path: ['spec', 'billingEmail'], value })),
  fc
    .record({
      key: fc.constantFrom('team', 'Team', 'a/b/c', 'example.com/x', '-x', 'x'.repeat(64), 'é', ''),
      value: fc.constantFrom('ok', 'has space', 'x'.repeat(64), '-x', '', 'é', 'a\nb'),
      where: fc.constantFrom('podLabels', 'nodeSelector', 'podAnnotations'),
    })
    .map(({ key, value, where }) => ({
      kind: `${where} key/value`,
      path: ['spec', 'server', where, key],
      value,
    })),
);

/** A small valid spec for the hostile changes to land on. */
const baseSpec = fc.record(
  {
    displayName: fc.constantFrom('Acme', 'Globex Corp'),
    planId: fc.constantFrom('starter', 'professional', 'enterprise'),
    server: fc.record(
      {
        replicas: fc.constantFrom(1, 2),
        env: fc.constant([{ name: 'LOG_LEVEL', value: 'info' }]),
      },
      { requiredKeys: [] },
    ),
    redis: fc.record({ config: fc.constant({ 'maxmemory-policy': 'noeviction' }) }, { requiredKeys: [] }),
    networkPolicy: fc.constant({ allowedNamespaces: ['monitoring'] }),
  },
  { requiredKeys: [] },
);

const isObject = (v: unknown): v is Record<PropertyKey, unknown> => typeof v === 'object' && v !== null;

/** Writes `value` at `path`; false (nothing changed) when a parent on the way is not an object. */
export function setPath(root: Record<string, unknown>, path: PathSegment[], value: unknown): boolean {
  let node: Record<PropertyKey, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = path[i + 1]!;
    if (node[key] === undefined) node[key] = typeof next === 'number' ? [] : {};
    const child = node[key];
    if (!isObject(child) || Array.isArray(child) !== (typeof next === 'number')) return false;
    node = child;
  }
  node[path.at(-1)!] = value;
  return true;
}

const caseShape = fc.record({
  spec: baseSpec,
  mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  nameShape: fc.oneof(
    { weight: 3, arbitrary: fc.constant(NAME_SHAPES[0]!) },
    { weight: 1, arbitrary: fc.constantFrom(...NAME_SHAPES.slice(1)) },
  ),
});

/**
 * `count` hostile Tenants from `seed`; names are `<prefix>-<index>` shaped by the case's name
 * shape, so they never collide with each other. The same (seed, count, prefix) gives the same cases.
 */
export function hostileTenants(options: { seed: number; count: number; prefix: string }): HostileCase[] {
  const shapes = fc.sample(caseShape, { seed: options.seed, numRuns: options.count });
  return shapes.map((shape, index) => {
    const name = shape.nameShape.make(`${options.prefix}-${index}`);
    const manifest: Record<string, unknown> = {
      apiVersion: 'neurallog.io/v1',
      kind: 'Tenant',
      metadata: { name },
      spec: structuredClone(shape.spec),
    };
    const applied = shape.mutations.filter((m) => setPath(manifest, m.path, structuredClone(m.value)));
    return { index, name, manifest, mutations: applied, nameShape: shape.nameShape.kind };
  });
}

/** One line describing a case, for failure messages and the report. */
export function describeCase(c: HostileCase): string {
  const shown = (v: unknown) => {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 120 ? `${text.slice(0, 117)}… (${text.length} chars)` : text;
  };
  const changes = c.mutations.map((m) => `${m.kind} ${m.path.join('.')}=${shown(m.value)}`).join('; ');
  return `#${c.index} name ${c.nameShape} (${c.name.length} chars): ${changes || 'no change applied'}`;
}
