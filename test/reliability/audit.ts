// Audits the cluster against the Tenants, after any fault: every live tenant is Running with
// exactly its desired objects (what `render` gives, field by field), nothing carries a tenant's
// labels without a live Tenant that owns it, what holds data (the Redis Secret, the volume claims)
// kept the uid it was first seen with, the Auth service knows exactly the live tenants, and every
// deleted tenant's namespace is gone. Read with the admin certificate: this is the test looking.
import { resolveTenant } from '../../src/api/resolve.ts';
import type { Tenant } from '../../src/api/tenant.ts';
import { validateTenant } from '../../src/api/validate.ts';
import { CHILD_TYPES } from '../../src/kube/resources.ts';
import { differences } from '../../src/reconcile/compare.ts';
import { render } from '../../src/render/index.ts';
import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../../src/render/meta.ts';
import type { TestCluster } from '../cluster/fixture.ts';

interface Item {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{ uid: string; controller?: boolean }>;
    deletionTimestamp?: string;
    generation?: number;
  };
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string }>;
  };
  [field: string]: unknown;
}

interface List {
  items: Item[];
}

const MANAGED = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

/** Every object the operator may have made, across all namespaces, by kind. */
async function managedObjects(cluster: TestCluster): Promise<Item[]> {
  const out: Item[] = [];
  for (const type of CHILD_TYPES) {
    const list = await cluster.getJson<List>([type.plural, '-A', '-l', MANAGED]);
    for (const item of list?.items ?? []) out.push({ ...item, kind: type.kind, apiVersion: type.apiVersion });
  }
  return out;
}

/** uids first seen of what holds a tenant's data: its Redis Secret and volume claims, by `ns/name`. */
export type DataUids = Map<string, string>;

/** Records, into `seen`, the uid of every Redis Secret and claim not seen before; returns `seen`. */
export async function recordDataUids(cluster: TestCluster, seen: DataUids = new Map()): Promise<DataUids> {
  for (const kind of ['secrets', 'persistentvolumeclaims']) {
    const list = await cluster.getJson<List>([kind, '-A', '-l', MANAGED]);
    for (const item of list?.items ?? []) {
      const key = `${kind}/${item.metadata.namespace}/${item.metadata.name}`;
      if (!seen.has(key)) seen.set(key, item.metadata.uid);
    }
  }
  return seen;
}

export interface AuditInput {
  cluster: TestCluster;
  /** The Auth URL the operator was given (it is in the server's environment). */
  authUrl: string;
  /** The ids the Auth service has registered. */
  registered: string[];
  /** Tenant names deleted during the run. */
  deleted: Iterable<string>;
  /** uids of data-holding objects as first seen (see `recordDataUids`). */
  dataUids?: DataUids;
  /** Which tenant ids this audit is about (a shared cluster holds other tests' tenants). Default: all. */
  scope?: (tenantId: string) => boolean;
}

function tenantIdOf(t: Item): string {
  return ((t.spec as { tenantId?: string } | undefined)?.tenantId ?? t.metadata.name) || '';
}

export interface AuditResult {
  tenants: number;
  objects: number;
  problems: string[];
}

const ready = (t: Item) =>
  t.status?.phase === 'Running' &&
  t.status.observedGeneration === t.metadata.generation &&
  (t.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function auditTenants(input: AuditInput): Promise<AuditResult> {
  const { cluster } = input;
  const problems: string[] = [];
  const inScope = input.scope ?? (() => true);
  const tenants = ((await cluster.getJson<List>(['tenants']))?.items ?? []).filter((t) =>
    inScope(tenantIdOf(t)),
  );
  const objects = (await managedObjects(cluster)).filter((o) =>
    inScope(o.metadata.labels?.[LABEL_TENANT] ?? ''),
  );
  const byTenantId = new Map<string, { tenant: Item; id: string; uid: string }>();
  const expectedAuth = new Set<string>();

  for (const t of tenants) {
    const validation = validateTenant(t);
    if (!validation.ok) {
      problems.push(`tenant ${t.metadata.name}: its spec does not validate`);
      continue;
    }
    const resolved = resolveTenant({
      ...(validation.tenant as Tenant),
      metadata: { ...validation.tenant.metadata, uid: t.metadata.uid },
    });
    byTenantId.set(resolved.id, { tenant: t, id: resolved.id, uid: t.metadata.uid });
    if (t.metadata.deletionTimestamp) {
      problems.push(`tenant ${t.metadata.name}: still being deleted`);
      continue;
    }
    if (!ready(t))
      problems.push(
        `tenant ${t.metadata.name}: not Running/Ready for its generation (${JSON.stringify(t.status?.phase)})`,
      );
    if (resolved.authEnabled) expectedAuth.add(resolved.id);

    const desired = render(resolved, { authUrl: input.authUrl });
    const mine = objects.filter(
      (o) =>
        o.metadata.labels?.[LABEL_TENANT] === resolved.id &&
        (o.kind === 'Namespace'
          ? o.metadata.name === resolved.namespace
          : o.metadata.namespace === resolved.namespace),
    );
    const key = (o: { kind?: string; metadata: { namespace?: string; name: string } }) =>
      `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const live = new Map(mine.map((o) => [key(o), o]));
    for (const want of desired) {
      const have = live.get(key(want));
      if (!have) {
        problems.push(`tenant ${t.metadata.name}: ${key(want)} is missing`);
        continue;
      }
      live.delete(key(want));
      if (!(have.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === t.metadata.uid))
        problems.push(`tenant ${t.metadata.name}: ${key(want)} is not owned by the Tenant's uid`);
      if (want.kind === 'Secret') continue; // never rewritten: its content is the password
      const changed = differences(want, have);
      if (changed.length > 0)
        problems.push(`tenant ${t.metadata.name}: ${key(want)} differs at ${changed.slice(0, 3).join(', ')}`);
    }
    for (const extra of live.keys())
      problems.push(`tenant ${t.metadata.name}: ${extra} is not desired (a duplicate or left over)`);
  }

  // Orphans: our labels, and no live Tenant of that id that owns them.
  for (const o of objects) {
    const id = o.metadata.labels?.[LABEL_TENANT];
    const owner = id === undefined ? undefined : byTenantId.get(id);
    const ownerUid = owner?.uid;
    const owned =
      ownerUid !== undefined &&
      (o.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === ownerUid);
    if (!owned && !o.metadata.deletionTimestamp)
      problems.push(
        `orphan: ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} (tenant ${id ?? '?'})`,
      );
  }

  // Data kept: the Secret and the claims of every live tenant still have the uid first seen.
  if (input.dataUids) {
    const now = await recordDataUids(cluster, new Map());
    for (const [key, uid] of input.dataUids) {
      const ns = key.split('/')[1] ?? '';
      const liveTenant = [...byTenantId.values()].find(
        (x) => `tenant-${x.id}` === ns && !x.tenant.metadata.deletionTimestamp,
      );
      if (!liveTenant) continue;
      const current = now.get(key);
      if (current === undefined) problems.push(`data lost: ${key} is gone`);
      else if (current !== uid)
        problems.push(`data regenerated: ${key} has uid ${current}, first seen as ${uid}`);
    }
  }

  // The Auth service knows exactly the live tenants.
  const registered = new Set(input.registered.filter(inScope));
  for (const id of expectedAuth) if (!registered.has(id)) problems.push(`auth: ${id} is not registered`);
  for (const id of registered)
    if (!expectedAuth.has(id)) problems.push(`auth: ${id} is registered but has no live Tenant`);

  // Deleted tenants: gone, with their namespaces.
  for (const name of input.deleted) {
    if (tenants.some((t) => t.metadata.name === name)) problems.push(`deleted tenant ${name} still exists`);
    if (await cluster.getJson(['namespace', `tenant-${name}`]))
      problems.push(`deleted tenant ${name}: namespace still exists`);
  }
  return { tenants: tenants.length, objects: objects.length, problems };
}
