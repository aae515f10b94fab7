// Hostile input: generated Tenants (hostile-tenants.ts) sent to the real API server (the CRD from
// config/) while the operator runs as installed, under its ServiceAccount. For every case:
//   - `tenant-operator validate` (the same loader and validator the CLI runs) and the API server
//     agree: both accept it or both refuse it;
//   - a refusal names the field (the API server's message holds the path of a changed field);
//   - an accepted Tenant is either provisioned (Running, Ready) or reported (Failed, or a condition
//     with a Warning reason) for its generation, within a deadline;
//   - the rendered redis.conf of an accepted Tenant is one allowed directive per line (the
//     operator's own, the tenant's keys, the final include) and auth.conf only the two auth lines.
// Throughout, the operator process never exits, and from the API server's audit log no tenant
// gets more than WRITE_BOUND writes by the operator (create to deletion): no hot loop.
import { open, stat } from 'node:fs/promises';
import { Agent } from 'node:https';
import { loadTenants } from '../../src/api/load.ts';
import { formatIssue } from '../../src/api/validate.ts';
import { WARNING_REASONS } from '../../src/reconcile/publish.ts';
import { type AuthPeer, startAuthPeer } from '../auth-peer/peer.ts';
import { type ApiClient, createApiClient } from '../cluster/api.ts';
import { type TestCluster, uniqueName, useCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';
import { type OperatorProcess, startOperator } from '../operator/harness.ts';
import { OPERATOR_USER } from '../operator/service-account.ts';
import { installCrd } from '../operator/tenants.ts';
import { type HostileCase, type PathSegment, describeCase, hostileTenants } from './hostile-tenants.ts';

/** Operator writes one tenant may cause from creation to deletion; a hot loop goes far beyond. */
export const WRITE_BOUND = 60;

const TENANTS = '/apis/neurallog.io/v1/tenants';
/** The operator's own redis.conf directives (src/render/redis-conf.ts), `include` last. */
const OPERATOR_DIRECTIVES = [
  'port',
  'bind',
  'protected-mode',
  'dir',
  'appendonly',
  'appendfsync',
  'maxmemory',
  'maxmemory-policy',
];

/**
 * Disagreements already known and owned by a change under way elsewhere, reported apart (and
 * counted in the figures) rather than failing the run: the CRD does not bound the length of
 * spec.redis.config keys (64 in the validator); spec.redis.config is becoming an allow-list
 * (SPEC §1.3), which bounds every key.
 */
const KNOWN_DISAGREEMENTS: Array<{ what: string; matches(c: HostileCase): boolean }> = [
  {
    what: 'spec.redis.config key longer than 64 characters: the API server takes it, validate refuses it',
    matches: (c) =>
      c.mutations.some(
        (m) => m.path[2] === 'config' && typeof m.path[3] === 'string' && m.path[3].length > 64,
      ),
  },
];

export type Outcome = 'refused' | 'provisioned' | 'reported' | 'unanswered' | 'server error';

export interface FuzzReport {
  seed: number;
  cases: number;
  outcomes: Record<Outcome, number>;
  /** Condition reasons of the reported tenants. */
  reasons: Record<string, number>;
  /** Cases by the kinds of change they carry (a case may count under several). */
  kinds: Record<string, number>;
  /** validate and the API server disagree (accept vs refuse). */
  disagreements: string[];
  /** Disagreements of a KNOWN_DISAGREEMENTS kind (not counted as problems). */
  knownDisagreements: string[];
  /** Refusals whose message names none of the changed fields. */
  unnamedRefusals: string[];
  /** Accepted tenants neither provisioned nor reported within the deadline. */
  unanswered: string[];
  /** Rendered redis.conf / auth.conf with a line that is not one allowed directive. */
  badConfigs: string[];
  /** Tenants with more than WRITE_BOUND operator writes. */
  tooManyWrites: string[];
  /** Most operator writes to one tenant, and the median. */
  maxWrites: number;
  medianWrites: number;
  operatorExited: string | undefined;
  /** Every problem above, one line each, with the seed to repeat the run. */
  problems: string[];
}

interface TenantJson {
  metadata: { name: string; generation?: number };
  spec?: { tenantId?: unknown; redis?: { config?: Record<string, unknown> } };
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

interface StatusJson {
  message?: string;
  details?: { causes?: Array<{ field?: string; message?: string }> };
}

const isSimple = (s: PathSegment) => typeof s === 'number' || /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

/** How the API server spells a field path prefix: `spec.server.env[0].name`. */
function kubePath(path: PathSegment[]): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** A refusal names the field when it holds the path of a changed field down to its second level. */
function namesAField(apiMessage: string, c: HostileCase): boolean {
  // Metadata is decoded into Go's ObjectMeta, whose errors name the Go field: ObjectMeta.labels.
  const message = apiMessage.replaceAll('ObjectMeta.', 'metadata.');
  if (c.mutations.length === 0 || c.nameShape !== 'plain') {
    if (/metadata\.name|name:|\bname\b/.test(message)) return true;
  }
  return c.mutations.some((m) => {
    const simple: PathSegment[] = [];
    for (const s of m.path) {
      if (!isSimple(s)) break;
      simple.push(s);
    }
    const wanted = simple.filter((s) => typeof s === 'string').slice(0, 2);
    if (wanted.length === 0) return true; // an odd key at the top: any message will do
    return message.includes(kubePath(simple.slice(0, simple.indexOf(wanted.at(-1)!) + 1)));
  });
}

function refusalMessage(body: string): string {
  try {
    const status = JSON.parse(body) as StatusJson;
    const causes = (status.details?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
    return [status.message ?? '', ...causes].join(' | ');
  } catch {
    return body;
  }
}

const tenantIdOf = (c: HostileCase, live: TenantJson) =>
  typeof live.spec?.tenantId === 'string' ? live.spec.tenantId : c.name;

/** Problems of the rendered redis.conf and auth.conf of a tenant; empty when both are clean. */
async function inspectRedisConfig(api: ApiClient, id: string, live: TenantJson): Promise<string[]> {
  const ns = `tenant-${id}`;
  const configMap = await api.getJson<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${ns}/configmaps/${id}-redis-config`,
  );
  const secret = await api.getJson<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${ns}/secrets/${id}-redis-auth`,
  );
  const problems: string[] = [];
  const conf = configMap?.data?.['redis.conf'];
  if (conf === undefined) return ['no redis.conf rendered for a Running tenant'];
  if (Object.keys(configMap?.data ?? {}).length !== 1)
    problems.push('the ConfigMap holds more than redis.conf');
  const userKeys = Object.keys(live.spec?.redis?.config ?? {});
  const allowed = new Set([...OPERATOR_DIRECTIVES, ...userKeys]);
  const lines = conf.split('\n');
  if (lines.pop() !== '') problems.push('redis.conf does not end with a newline');
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    // Redis reads one directive per line (its arguments split on spaces and quotes): a line is
    // safe when it starts with an allowed name and holds no control character.
    const directive = /^([a-z][a-z0-9-]*) (.+)$/.exec(line)?.[1];
    const last = i === lines.length - 1;
    if (last) {
      if (line !== 'include /etc/redis/auth/auth.conf')
        problems.push(`last line is not the include: ${line}`);
    } else if (!directive || !allowed.has(directive)) {
      problems.push(`line ${i + 1} is not an allowed directive: ${JSON.stringify(line.slice(0, 80))}`);
    } else if (seen.has(directive)) {
      problems.push(`directive ${directive} appears twice`);
    } else if ([...line].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
      problems.push(`line ${i + 1} holds a control character`);
    }
    if (directive) seen.add(directive);
  });
  const auth = secret?.data?.['auth.conf'];
  if (auth === undefined) problems.push('no auth.conf in the Secret');
  else {
    const authLines = Buffer.from(auth, 'base64').toString('utf8').split('\n');
    const shape = authLines.map((l) => l.split(' ')[0]).join(',');
    if (shape !== 'requirepass,masterauth,' || authLines.some((l) => l.split(' ').length > 2))
      problems.push(`auth.conf is not exactly requirepass and masterauth (${shape})`);
  }
  return problems;
}

/** What the operator made of an accepted tenant, once it has answered for this generation. */
async function answer(
  api: ApiClient,
  c: HostileCase,
  deadlineMs: number,
): Promise<{ outcome: Outcome; live: TenantJson | undefined; detail: string; reason?: string }> {
  let last: TenantJson | undefined;
  try {
    return await waitFor(
      async () => {
        const t = await api.getJson<TenantJson>(`${TENANTS}/${encodeURIComponent(c.name)}`);
        last = t;
        if (!t) return notYet('gone');
        const s = t.status;
        if (s?.observedGeneration !== t.metadata.generation) return notYet(s);
        const ready = s?.conditions?.find((x) => x.type === 'Ready');
        if (s?.phase === 'Running' && ready?.status === 'True')
          return { outcome: 'provisioned' as const, live: t, detail: 'Running' };
        const warning = s?.conditions?.find((x) => x.status === 'False' && WARNING_REASONS.has(x.reason));
        if (s?.phase === 'Failed' || warning)
          return {
            outcome: 'reported' as const,
            live: t,
            reason: warning?.reason ?? ready?.reason ?? s?.phase ?? '',
            detail: `${s?.phase} ${warning?.reason ?? ready?.reason ?? ''}: ${(warning ?? ready)?.message ?? ''}`,
          };
        return notYet(s);
      },
      { timeoutMs: deadlineMs, intervalMs: 500, description: `tenant ${c.name} to be answered` },
    );
  } catch {
    return { outcome: 'unanswered', live: last, detail: JSON.stringify(last?.status ?? {}).slice(0, 400) };
  }
}

interface AuditLine {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string };
}

async function operatorWrites(
  cluster: TestCluster,
  offset: number,
  owners: Map<string, string>,
): Promise<Map<string, number>> {
  const size = (await stat(cluster.auditLogPath)).size;
  const handle = await open(cluster.auditLogPath, 'r');
  const counts = new Map<string, number>();
  try {
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    for (const line of buffer.toString('utf8').split('\n')) {
      if (!line.startsWith('{') || !line.includes(OPERATOR_USER)) continue;
      const e = JSON.parse(line) as AuditLine;
      if (e.stage !== 'ResponseComplete' || e.user?.username !== OPERATOR_USER) continue;
      if (!['create', 'update', 'patch', 'delete'].includes(e.verb ?? '')) continue;
      const ref = e.objectRef ?? {};
      const key =
        ref.resource === 'tenants'
          ? `tenant/${ref.name}`
          : ref.resource === 'namespaces'
            ? `ns/${ref.name}`
            : `ns/${ref.namespace}`;
      const owner = owners.get(key);
      if (owner) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
  } finally {
    await handle.close();
  }
  return counts;
}

export async function runFuzz(options: {
  cases: number;
  seed: number;
  concurrency?: number;
  answerTimeoutMs?: number;
  log?: (line: string) => void;
}): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const cluster = await useCluster();
  await installCrd(cluster);
  const { caCert, adminCert, adminKey } = cluster.cluster.state.tls;
  const api = createApiClient({
    server: cluster.server,
    tls: { caCert, cert: adminCert, key: adminKey },
    agent: new Agent({ keepAlive: true, maxSockets: 8 }),
    userAgent: 'hostile-input-test',
    timeoutMs: 30_000,
  });
  const peer: AuthPeer = await startAuthPeer({});
  const auditOffset = (await stat(cluster.auditLogPath)).size;
  const operator: OperatorProcess = await startOperator({ cluster, authUrl: peer.url, name: 'fuzz' });
  const cases = hostileTenants({ seed: options.seed, count: options.cases, prefix: uniqueName('fz') });
  const report: FuzzReport = {
    seed: options.seed,
    cases: cases.length,
    outcomes: { refused: 0, provisioned: 0, reported: 0, unanswered: 0, 'server error': 0 },
    reasons: {},
    kinds: {},
    disagreements: [],
    knownDisagreements: [],
    unnamedRefusals: [],
    unanswered: [],
    badConfigs: [],
    tooManyWrites: [],
    maxWrites: 0,
    medianWrites: 0,
    operatorExited: undefined,
    problems: [],
  };
  const owners = new Map<string, string>();
  const created: string[] = [];
  const deadline = options.answerTimeoutMs ?? 180_000;

  const disagree = (c: HostileCase, line: string) => {
    const known = KNOWN_DISAGREEMENTS.find((k) => k.matches(c));
    if (known) report.knownDisagreements.push(`${known.what}: ${line}`);
    else report.disagreements.push(line);
  };

  const runCase = async (c: HostileCase) => {
    for (const kind of new Set(c.mutations.map((m) => m.kind)))
      report.kinds[kind] = (report.kinds[kind] ?? 0) + 1;
    const what = describeCase(c);
    const text = JSON.stringify(c.manifest);
    const offline = loadTenants(text, 'case.json')[0]!.result;
    const res = await api.request('POST', `${TENANTS}?fieldValidation=Strict`, text);
    if (res.status === 201 || res.status === 200) {
      created.push(c.name);
      const reported = await answer(api, c, deadline);
      const id = reported.live ? tenantIdOf(c, reported.live) : c.name;
      owners.set(`tenant/${c.name}`, c.name);
      if (!owners.has(`ns/tenant-${id}`)) owners.set(`ns/tenant-${id}`, c.name);
      report.outcomes[reported.outcome] += 1;
      if (reported.reason) report.reasons[reported.reason] = (report.reasons[reported.reason] ?? 0) + 1;
      if (!offline.ok)
        disagree(
          c,
          `${what} → API server accepted (${reported.outcome}: ${reported.detail.slice(0, 200)}), validate refused: ${offline.issues.map(formatIssue).join('; ').slice(0, 400)}`,
        );
      if (reported.outcome === 'unanswered')
        report.unanswered.push(`${what} → neither provisioned nor reported: ${reported.detail}`);
      if (reported.outcome === 'provisioned' && reported.live) {
        const bad = await inspectRedisConfig(api, id, reported.live);
        if (bad.length > 0) report.badConfigs.push(`${what} → ${bad.join('; ')}`);
      }
      const del = await api.request('DELETE', `${TENANTS}/${encodeURIComponent(c.name)}`);
      if (del.status >= 300 && del.status !== 404)
        report.problems.push(`${what} → DELETE answered ${del.status}: ${del.body.slice(0, 200)}`);
    } else if (res.status === 422 || res.status === 400) {
      report.outcomes.refused += 1;
      const message = refusalMessage(res.body);
      if (offline.ok)
        disagree(c, `${what} → validate accepted, API server refused: ${message.slice(0, 400)}`);
      else if (!namesAField(message, c)) report.unnamedRefusals.push(`${what} → ${message.slice(0, 300)}`);
    } else {
      report.outcomes['server error'] += 1;
      report.problems.push(`${what} → API server answered ${res.status}: ${res.body.slice(0, 300)}`);
    }
  };

  const concurrency = options.concurrency ?? 8;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      await runCase(c);
      if (++done % 50 === 0) log(`${done}/${cases.length} cases; ${JSON.stringify(report.outcomes)}`);
      if (operator.child.exitCode !== null || operator.child.signalCode !== null) return;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  // Every created tenant is deleted; wait for them all to be gone before counting writes.
  await waitFor(
    async () => {
      const left: string[] = [];
      for (const name of created)
        if (await api.getJson(`${TENANTS}/${encodeURIComponent(name)}`)) left.push(name);
      return left.length === 0 || notYet(`${left.length} tenants left: ${left.slice(0, 3).join(', ')}`);
    },
    {
      timeoutMs: 120_000 + 2_000 * created.length,
      intervalMs: 2_000,
      description: 'every fuzzed tenant deleted',
    },
  ).catch((error: unknown) => report.problems.push(`deletion: ${(error as Error).message.slice(0, 400)}`));

  const writes = await operatorWrites(cluster, auditOffset, owners);
  const counts = [...writes.values()].sort((a, b) => a - b);
  report.maxWrites = counts.at(-1) ?? 0;
  report.medianWrites = counts[Math.floor((counts.length - 1) / 2)] ?? 0;
  for (const [name, n] of writes)
    if (n > WRITE_BOUND) report.tooManyWrites.push(`${name}: ${n} operator writes (bound ${WRITE_BOUND})`);

  if (operator.child.exitCode !== null || operator.child.signalCode !== null)
    report.operatorExited = `operator exited (${operator.child.exitCode ?? operator.child.signalCode}); log ${operator.logFile}`;
  await operator.stop();
  await peer.close();

  const repeat = `(repeat: npm run reliability -- --only fuzz --seed ${options.seed})`;
  report.problems = [
    ...(report.operatorExited ? [report.operatorExited] : []),
    ...report.disagreements.map((p) => `disagreement: ${p}`),
    ...report.unnamedRefusals.map((p) => `refusal names no field: ${p}`),
    ...report.unanswered.map((p) => `unanswered: ${p}`),
    ...report.badConfigs.map((p) => `redis.conf: ${p}`),
    ...report.tooManyWrites.map((p) => `hot loop: ${p}`),
    ...report.problems,
  ].map((p) => `seed ${options.seed} ${p} ${repeat}`);
  return report;
}
