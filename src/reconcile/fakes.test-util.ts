/**
 * Test helpers: in-memory stand-ins for what the reconciler talks to. `FakeApiServer` keeps
 * objects the way an API server does where the controller's correctness depends on it:
 * - uids, resourceVersions, generations, status kept apart from what the operator applies;
 * - empty fields dropped as the API server's `omitempty` drops them (`""`, `[]`, empty maps);
 * - server-side apply that keeps list entries another manager added and prunes what the applier
 *   stopped sending (unless a create or update of its own still co-owns it), and a managedFields
 *   list with one entry per (manager, operation);
 * - 403 for every verb the shipped ClusterRole (config/rbac/role.yaml) does not grant — including
 *   the list/watch of every cached kind, `update` on `tenants/finalizers` for children whose owner
 *   reference blocks owner deletion (OwnerReferencesPermissionEnforcement), and a Role granting
 *   more than the operator holds (RBAC escalation prevention);
 * - 409 for a create of what exists, a stale resourceVersion or a uid precondition; 422 for a
 *   Service with two ports of one name or a ClusterIP Service without ports; 404 for what is gone.
 * Its `observed` view reads the same store, so a second reconcile sees what the first one wrote.
 * Not part of the shipped code paths.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { pino } from 'pino';
import { parse } from 'yaml';
import type { EventRecorder, EventType, TenantRef } from '../kube/events.ts';
import type {
  DeleteOptions,
  JsonPatchOperation,
  KubeObject,
  KubeWriter,
  ListOptions,
  ObjectRef,
} from '../kube/objects.ts';
import { KubeApiError } from '../kube/rest.ts';
import { CHILD_TYPES, objectKey, resourceType } from '../kube/resources.ts';
import { FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../render/meta.ts';
import type { AuthPort, ObservedCluster, ReconcilerMetrics, TenantCluster, TenantObject } from './ports.ts';

export const silentLogger = pino({ level: 'silent' });

export interface WriteRecord {
  verb: 'apply' | 'jsonPatch' | 'create' | 'delete' | 'patchStatus' | 'setFinalizers';
  key: string;
}

type Json = Record<string, unknown>;

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a JSON round trip through the API server leaves (undefined values dropped). */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Map-valued fields Kubernetes declares `omitempty` (an empty map is not stored). */
const OMITTED_WHEN_EMPTY_MAPS = new Set([
  'labels',
  'annotations',
  'nodeSelector',
  'matchLabels',
  'data',
  'stringData',
  'selector',
]);

/** Drops `""`, `[]` and the empty maps of omitempty map fields, as the API server's JSON does. */
function omitEmpty(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => omitEmpty(v));
  if (!isPlainObject(value)) return value;
  // A string map keeps its empty values (a label `team: ""` is stored).
  const stringMap = key !== undefined && OMITTED_WHEN_EMPTY_MAPS.has(key);
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const inner = omitEmpty(v, k);
    if ((inner === '' && !stringMap) || (Array.isArray(inner) && inner.length === 0)) continue;
    if (isPlainObject(inner) && Object.keys(inner).length === 0 && OMITTED_WHEN_EMPTY_MAPS.has(k)) continue;
    out[k] = inner;
  }
  return out;
}

/** The key a list entry is merged by (as the Kubernetes types declare for these lists). */
function entryKey(entry: unknown): string | undefined {
  if (!isPlainObject(entry)) return undefined;
  if (entry.containerPort !== undefined)
    return `containerPort=${String(entry.containerPort)}/${String(entry.protocol ?? 'TCP')}`;
  if (entry.port !== undefined && entry.targetPort !== undefined)
    return `port=${String(entry.port)}/${String(entry.protocol ?? 'TCP')}`;
  if (entry.mountPath !== undefined) return `mountPath=${String(entry.mountPath)}`;
  if (typeof entry.name === 'string') return `name=${entry.name}`;
  return undefined;
}

const isKeyedList = (list: unknown[]): boolean =>
  list.length > 0 && list.every((e) => entryKey(e) !== undefined);

/**
 * Server-side apply of `applied` onto `live`: what is applied wins; what the same manager applied
 * before and no longer sends is removed unless another write co-owns it (`coOwned`); everything
 * else (server defaults, other managers' fields and list entries) stays.
 */
function mergeApplied(live: unknown, applied: unknown, previous: unknown, coOwned: unknown): unknown {
  if (Array.isArray(applied)) {
    if (!Array.isArray(live) || !isKeyedList(applied)) return applied;
    const prevList = Array.isArray(previous) ? previous : [];
    const coList = Array.isArray(coOwned) ? coOwned : [];
    const byKey = (list: unknown[], key: string | undefined) => list.find((e) => entryKey(e) === key);
    const out = applied.map((entry) => {
      const key = entryKey(entry);
      return mergeApplied(byKey(live, key), entry, byKey(prevList, key), byKey(coList, key));
    });
    for (const entry of live) {
      const key = entryKey(entry);
      if (applied.some((a) => entryKey(a) === key)) continue;
      const wasOurs = byKey(prevList, key) !== undefined && byKey(coList, key) === undefined;
      if (!wasOurs) out.push(entry);
    }
    return out;
  }
  if (!isPlainObject(applied)) return applied;
  const base: Json = isPlainObject(live) ? { ...live } : {};
  const prev = isPlainObject(previous) ? previous : {};
  const co = isPlainObject(coOwned) ? coOwned : {};
  for (const key of Object.keys(prev)) {
    if (!(key in applied) && !(key in co)) delete base[key];
  }
  for (const [key, value] of Object.entries(applied))
    base[key] = mergeApplied(base[key], value, prev[key], co[key]);
  return base;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Json = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function pointer(path: string): string[] {
  return path
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** RFC 6902 JSON patch; a failed `test` or a missing path throws. */
function applyJsonPatch(doc: unknown, ops: JsonPatchOperation[]): unknown {
  const out = jsonCopy(doc);
  for (const op of ops) {
    const parts = pointer(op.path);
    const last = parts.pop()!;
    let parent: unknown = out;
    for (const part of parts) parent = (parent as Record<string, unknown>)[part];
    if (parent === undefined || parent === null) throw new Error(`path ${op.path} does not exist`);
    const container = parent as Record<string, unknown> & unknown[];
    if (op.op === 'test') {
      if (!isDeepStrictEqual(container[last as never], op.value))
        throw new Error(`test failed at ${op.path}`);
    } else if (op.op === 'remove') {
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else if (op.op === 'replace' || op.op === 'add') {
      if (Array.isArray(container) && op.op === 'add')
        container.splice(last === '-' ? container.length : Number(last), 0, op.value);
      else (container as Record<string, unknown>)[last] = op.value;
    }
  }
  return out;
}

const tenantKey = (name: string) => objectKey({ kind: 'Tenant', metadata: { name } });
const refKey = (ref: ObjectRef) =>
  objectKey({ kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });

function apiError(method: string, key: string, status: number, reason: string, message: string) {
  return new KubeApiError({
    method,
    path: key,
    status,
    body: { kind: 'Status', reason, message, code: status },
  });
}

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The rules of the shipped ClusterRole, config/rbac/role.yaml. */
export function shippedRules(): RbacRule[] {
  const path = new URL('../../config/rbac/role.yaml', import.meta.url);
  return (parse(readFileSync(path, 'utf8')) as { rules: RbacRule[] }).rules;
}

/** The verbs `rules` grant, by `group/resource`. */
export function grantsOf(rules: readonly RbacRule[]): Map<string, Set<string>> {
  const grants = new Map<string, Set<string>>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources) {
        const key = `${group}/${resource}`;
        const verbs = grants.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) verbs.add(verb);
        grants.set(key, verbs);
      }
  return grants;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

interface Stored {
  obj: KubeObject;
  /** What tenant-operator last server-side applied (its field set, roughly). */
  applied?: unknown;
  /** What a create or update by tenant-operator set (co-owned by that Update entry forever). */
  updatedByUs?: unknown;
}

export class FakeApiServer implements KubeWriter {
  readonly stored = new Map<string, Stored>();
  readonly writes: WriteRecord[] = [];
  /** Every direct read (get/list), as `verb key`. */
  readonly reads: string[] = [];
  /** Requests refused with 403, as `verb group/resource`. */
  readonly forbidden: string[] = [];
  #grants: Map<string, Set<string>>;
  /**
   * Called for every change of the store, as a watch would deliver it. Tests that play a cache
   * which has not caught up set `watchPaused`.
   */
  readonly watchers: Array<{ changed(obj: KubeObject): void; deleted(obj: KubeObject): void }> = [];
  watchPaused = false;
  #version = 100;
  #uids = 0;
  #now: () => Date;

  constructor(options: { now?: () => Date; rules?: readonly RbacRule[] } = {}) {
    this.#now = options.now ?? (() => new Date('2030-01-01T00:00:00Z'));
    this.#grants = grantsOf(options.rules ?? shippedRules());
  }

  get objects(): ReadonlyMap<string, KubeObject> {
    return new Map([...this.stored].map(([k, v]) => [k, v.obj]));
  }

  #nextVersion(): string {
    this.#version += 1;
    return String(this.#version);
  }

  #timestamp(): string {
    return this.#now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  #authorize(verb: string, kind: string, subresource?: string): void {
    const type = resourceType(kind);
    this.#authorizeResource(
      verb,
      `${groupOf(type.apiVersion)}/${type.plural}${subresource ? `/${subresource}` : ''}`,
    );
  }

  /** An Event write by the recorder: refused ones are recorded in `forbidden`, never thrown. */
  authorizeEventWrite(verb: 'create' | 'patch'): void {
    try {
      this.#authorize(verb, 'Event');
    } catch {
      // The recorder only logs a refused event.
    }
  }

  /** What the watch caches need before anything is reconciled. */
  authorizeWatch(kind: string): void {
    this.#authorize('list', kind);
    this.#authorize('watch', kind);
  }

  /** The admission checks a write of `obj` meets besides its own verb. */
  #admit(obj: KubeObject): void {
    if ((obj.metadata.ownerReferences ?? []).some((o) => o.blockOwnerDeletion && o.kind === 'Tenant'))
      this.#authorize('update', 'Tenant', 'finalizers');
    if (obj.kind === 'Role') {
      for (const rule of (obj.rules as RbacRule[] | undefined) ?? [])
        for (const group of rule.apiGroups)
          for (const resource of rule.resources)
            for (const verb of rule.verbs) {
              if (this.#grants.get(`${group}/${resource}`)?.has(verb)) continue;
              this.forbidden.push(`escalate ${group}/${resource} ${verb}`);
              throw apiError(
                'PATCH',
                objectKey(obj),
                403,
                'Forbidden',
                `roles.rbac.authorization.k8s.io "${obj.metadata.name}" is forbidden: user is attempting to grant RBAC permissions not currently held: ${verb} ${group}/${resource}`,
              );
            }
    }
  }

  #authorizeResource(verb: string, resource: string): void {
    if (this.#grants.get(resource)?.has(verb)) return;
    this.forbidden.push(`${verb} ${resource}`);
    throw apiError(
      verb.toUpperCase(),
      resource,
      403,
      'Forbidden',
      `${resource} is forbidden: User "system:serviceaccount:neurallog-system:neurallog-operator-controller-manager" cannot ${verb} resource "${resource}"`,
    );
  }

  #validate(obj: KubeObject, method: string): void {
    if (obj.kind !== 'Service') return;
    const spec = (obj.spec ?? {}) as { ports?: Array<{ name?: string }>; clusterIP?: string };
    const ports = spec.ports ?? [];
    const names = ports.map((p) => p.name);
    if (new Set(names).size !== names.length)
      throw apiError(method, objectKey(obj), 422, 'Invalid', 'spec.ports[1].name: Duplicate value');
    if (ports.length === 0 && spec.clusterIP !== 'None')
      throw apiError(method, objectKey(obj), 422, 'Invalid', 'spec.ports: Required value');
  }

  #managedFields(obj: KubeObject, manager: string, operation: 'Apply' | 'Update'): void {
    const entries = ((obj.metadata.managedFields as Json[] | undefined) ?? []).filter(
      (e) => !(e.manager === manager && e.operation === operation),
    );
    entries.push({ manager, operation, time: this.#timestamp() });
    obj.metadata.managedFields = entries;
  }

  #store(key: string, stored: Stored, method: string): KubeObject {
    // Custom resources are stored as sent (no Go struct with omitempty behind them).
    const custom = stored.obj.apiVersion.startsWith('neurallog.io/');
    const obj = custom ? stored.obj : (omitEmpty(stored.obj) as KubeObject);
    this.#validate(obj, method);
    this.stored.set(key, { ...stored, obj });
    this.#notify(obj, false);
    return jsonCopy(obj);
  }

  #drop(key: string): void {
    const stored = this.stored.get(key);
    if (!stored) return;
    this.stored.delete(key);
    this.#notify(stored.obj, true);
  }

  #notify(obj: KubeObject, deleted: boolean): void {
    if (this.watchPaused) return;
    for (const w of this.watchers) {
      if (deleted) w.deleted(jsonCopy(obj));
      else w.changed(jsonCopy(obj));
    }
  }

  /** Bump an object's version after an in-place change, and tell the watchers. */
  #touched(obj: KubeObject): void {
    obj.metadata.resourceVersion = this.#nextVersion();
    this.#notify(obj, false);
  }

  /** Store an object as if it already existed (not counted as a write). Returns the stored copy. */
  seed<T extends KubeObject>(obj: T): T {
    const stored = jsonCopy(obj);
    stored.metadata.uid ??= `uid-${++this.#uids}`;
    stored.metadata.resourceVersion = this.#nextVersion();
    stored.metadata.generation ??= 1;
    stored.metadata.creationTimestamp ??= '2029-01-01T00:00:00Z';
    return this.#store(objectKey(stored), { obj: stored }, 'SEED') as T;
  }

  /** A Tenant as the API server holds it after `kubectl apply`. */
  seedTenant(tenant: { metadata: { name: string }; spec?: unknown }): TenantObject {
    return this.seed({ apiVersion: 'neurallog.io/v1', kind: 'Tenant', ...jsonCopy(tenant) } as TenantObject);
  }

  tenant(name: string): TenantObject | undefined {
    const t = this.stored.get(tenantKey(name))?.obj;
    return t ? (jsonCopy(t) as TenantObject) : undefined;
  }

  object(kind: string, name: string, namespace?: string): KubeObject | undefined {
    const obj = this.stored.get(refKey({ kind, name, namespace }))?.obj;
    return obj ? jsonCopy(obj) : undefined;
  }

  #live(key: string): Stored {
    const stored = this.stored.get(key);
    if (!stored) throw new Error(`no object ${key}`);
    return stored;
  }

  /** A person edits a Tenant's spec: the generation goes up. */
  editTenantSpec(name: string, spec: unknown): void {
    const { obj } = this.#live(tenantKey(name));
    obj.spec = jsonCopy(spec);
    obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
    this.#touched(obj);
  }

  /**
   * A person edits an object with another field manager (`kubectl edit`, `kubectl set env`): what
   * they add is theirs, so apply keeps it.
   */
  editByHand(
    kind: string,
    name: string,
    namespace: string | undefined,
    edit: (obj: KubeObject) => void,
  ): void {
    const key = refKey({ kind, name, namespace });
    const stored = this.#live(key);
    const obj = jsonCopy(stored.obj);
    edit(obj);
    const specChanged = !isDeepStrictEqual(obj.spec, stored.obj.spec);
    obj.metadata.resourceVersion = this.#nextVersion();
    if (specChanged) obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
    this.#managedFields(obj, 'kubectl-edit', 'Update');
    this.#store(key, { ...stored, obj }, 'EDIT');
  }

  /** `kubectl delete tenant`: with finalizers present, only a deletionTimestamp is set. */
  deleteTenant(name: string, at: Date): void {
    const { obj } = this.#live(tenantKey(name));
    if ((obj.metadata.finalizers ?? []).length === 0) {
      this.#drop(tenantKey(name));
      return;
    }
    obj.metadata.deletionTimestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.#touched(obj);
  }

  /** What a workload controller writes to `/status`. */
  setWorkloadStatus(kind: string, name: string, namespace: string, status: Json): void {
    const { obj } = this.#live(refKey({ kind, name, namespace }));
    obj.status = jsonCopy(status);
    this.#touched(obj);
  }

  /** Make the StatefulSet and Deployment of tenant `id` report every desired replica ready. */
  makeWorkloadsReady(id: string, ready?: { redis?: number; server?: number }): void {
    const ns = `tenant-${id}`;
    const sts = this.#live(refKey({ kind: 'StatefulSet', name: `${id}-redis`, namespace: ns })).obj;
    const dep = this.#live(refKey({ kind: 'Deployment', name: `${id}-server`, namespace: ns })).obj;
    const stsReplicas = (sts.spec as { replicas: number }).replicas;
    const depReplicas = (dep.spec as { replicas: number }).replicas;
    this.setWorkloadStatus('StatefulSet', `${id}-redis`, ns, {
      observedGeneration: sts.metadata.generation,
      replicas: stsReplicas,
      readyReplicas: ready?.redis ?? stsReplicas,
      updatedReplicas: stsReplicas,
      currentRevision: `${id}-redis-1`,
      updateRevision: `${id}-redis-1`,
    });
    this.setWorkloadStatus('Deployment', `${id}-server`, ns, {
      observedGeneration: dep.metadata.generation,
      replicas: depReplicas,
      readyReplicas: ready?.server ?? depReplicas,
      updatedReplicas: depReplicas,
      availableReplicas: ready?.server ?? depReplicas,
    });
  }

  /** Remove an object behind the operator's back (not counted as an operator write). */
  remove(kind: string, name: string, namespace?: string): void {
    this.#drop(refKey({ kind, name, namespace }));
  }

  /** The namespace controller finishes: the namespace and everything in it are gone. */
  finishNamespaceDeletion(name: string): void {
    this.#drop(refKey({ kind: 'Namespace', name }));
    for (const [key, { obj }] of this.stored) if (obj.metadata.namespace === name) this.#drop(key);
  }

  writesTo(kind: string): WriteRecord[] {
    return this.writes.filter((w) => w.key.startsWith(`${kind}/`));
  }

  /** The managedFields entries of an object, as `manager/operation`. */
  managers(kind: string, name: string, namespace?: string): string[] {
    const obj = this.object(kind, name, namespace);
    return ((obj?.metadata.managedFields as Json[] | undefined) ?? []).map(
      (e) => `${String(e.manager)}/${String(e.operation)}`,
    );
  }

  // --- KubeWriter ---

  async apply<T extends KubeObject>(obj: T): Promise<T> {
    const key = objectKey(obj);
    this.writes.push({ verb: 'apply', key });
    this.#authorize('patch', obj.kind);
    this.#admit(obj);
    const existing = this.stored.get(key);
    const applied = jsonCopy(obj);
    if (!existing) {
      this.#authorize('create', obj.kind);
      const created: KubeObject = {
        ...applied,
        metadata: {
          ...applied.metadata,
          uid: `uid-${++this.#uids}`,
          resourceVersion: this.#nextVersion(),
          generation: 1,
          creationTimestamp: this.#timestamp(),
        },
      };
      this.#managedFields(created, FIELD_MANAGER, 'Apply');
      return this.#store(key, { obj: created, applied }, 'PATCH') as T;
    }
    const live = existing.obj;
    const merged = mergeApplied(live, applied, existing.applied, existing.updatedByUs) as KubeObject;
    const specChanged = !isDeepStrictEqual(omitEmpty(live.spec), omitEmpty(merged.spec));
    const changed = !isDeepStrictEqual(
      omitEmpty({ ...live, metadata: { ...live.metadata, managedFields: undefined } }),
      omitEmpty({ ...merged, metadata: { ...merged.metadata, managedFields: undefined } }),
    );
    merged.metadata = {
      ...merged.metadata,
      uid: live.metadata.uid,
      resourceVersion: changed ? this.#nextVersion() : live.metadata.resourceVersion,
      generation: (live.metadata.generation ?? 1) + (specChanged ? 1 : 0),
    };
    if (live.status !== undefined) merged.status = live.status;
    this.#managedFields(merged, FIELD_MANAGER, 'Apply');
    return this.#store(key, { ...existing, obj: merged, applied }, 'PATCH') as T;
  }

  async jsonPatch<T extends KubeObject>(ref: ObjectRef, operations: JsonPatchOperation[]): Promise<T> {
    const key = refKey(ref);
    this.writes.push({ verb: 'jsonPatch', key });
    this.#authorize('patch', ref.kind);
    const existing = this.stored.get(key);
    if (!existing) throw apiError('PATCH', key, 404, 'NotFound', `${ref.kind} "${ref.name}" not found`);
    let patched: KubeObject;
    try {
      patched = applyJsonPatch(existing.obj, operations) as KubeObject;
    } catch (error) {
      throw apiError('PATCH', key, 422, 'Invalid', (error as Error).message);
    }
    patched.metadata.resourceVersion = this.#nextVersion();
    if (!isDeepStrictEqual(existing.obj.spec, patched.spec))
      patched.metadata.generation = (existing.obj.metadata.generation ?? 1) + 1;
    // Removing fields takes no ownership; setting them does (an Update entry of ours). Removing
    // that entry from managedFields gives up what it owned.
    const sets = operations.some(
      (o) => (o.op === 'add' || o.op === 'replace') && !o.path.startsWith('/metadata/managedFields'),
    );
    if (sets) this.#managedFields(patched, FIELD_MANAGER, 'Update');
    const ownUpdate = ((patched.metadata.managedFields as Json[] | undefined) ?? []).some(
      (e) => e.manager === FIELD_MANAGER && e.operation === 'Update',
    );
    const updatedByUs = !ownUpdate ? undefined : sets ? jsonCopy(patched) : existing.updatedByUs;
    return this.#store(key, { ...existing, obj: patched, updatedByUs }, 'PATCH') as T;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const key = objectKey(obj);
    this.writes.push({ verb: 'create', key });
    this.#authorize('create', obj.kind);
    this.#admit(obj);
    if (this.stored.has(key)) {
      throw apiError('POST', key, 409, 'AlreadyExists', `${obj.kind} "${obj.metadata.name}" already exists`);
    }
    const stored: KubeObject = jsonCopy(obj);
    if (obj.kind === 'Secret' && isPlainObject(stored.stringData)) {
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(stored.stringData))
        data[k] = Buffer.from(String(v)).toString('base64');
      stored.data = data;
      delete stored.stringData;
    }
    stored.metadata.uid = `uid-${++this.#uids}`;
    stored.metadata.resourceVersion = this.#nextVersion();
    stored.metadata.generation = 1;
    stored.metadata.creationTimestamp = this.#timestamp();
    this.#managedFields(stored, FIELD_MANAGER, 'Update');
    return this.#store(key, { obj: stored, updatedByUs: jsonCopy(obj) }, 'POST') as T;
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<KubeObject | undefined> {
    const key = refKey(ref);
    this.writes.push({ verb: 'delete', key });
    this.#authorize('delete', ref.kind);
    const live = this.stored.get(key)?.obj;
    if (!live) return undefined;
    if (options.uid !== undefined && live.metadata.uid !== options.uid) {
      throw apiError(
        'DELETE',
        key,
        409,
        'Conflict',
        'Precondition failed: UID in precondition does not match',
      );
    }
    // A namespace is only marked terminating; `finishNamespaceDeletion` plays the namespace controller.
    if (ref.kind === 'Namespace') {
      live.metadata.deletionTimestamp ??= this.#now().toISOString();
      this.#touched(live);
      return jsonCopy(live);
    }
    this.#drop(key);
    return undefined;
  }

  async get<T extends KubeObject>(
    ref: ObjectRef,
    options: { metadataOnly?: boolean } = {},
  ): Promise<T | undefined> {
    const key = refKey(ref);
    this.reads.push(`get ${key}`);
    this.#authorize('get', ref.kind);
    const obj = this.stored.get(key)?.obj;
    if (!obj) return undefined;
    if (options.metadataOnly)
      return {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'PartialObjectMetadata',
        metadata: jsonCopy(obj.metadata),
      } as T;
    return jsonCopy(obj) as T;
  }

  async list<T extends KubeObject>(kind: string, namespace: string, options: ListOptions = {}): Promise<T[]> {
    this.reads.push(`list ${kind}/${namespace}`);
    this.#authorize('list', kind);
    const wanted = (options.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((term) => term.split('=') as [string, string]);
    const fields = (options.fieldSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((term) => term.split('=') as [string, string]);
    const field = (obj: KubeObject, path: string): unknown =>
      path.split('.').reduce<unknown>((v, p) => (isPlainObject(v) ? v[p] : undefined), obj);
    return [...this.stored.values()]
      .map((s) => s.obj)
      .filter((obj) => obj.kind === kind && obj.metadata.namespace === namespace)
      .filter((obj) => wanted.every(([k, v]) => obj.metadata.labels?.[k] === v))
      .filter((obj) => fields.every(([k, v]) => String(field(obj, k)) === v))
      .map((obj) => jsonCopy(obj) as T);
  }

  async patchTenantStatus(name: string, status: Record<string, unknown>): Promise<KubeObject> {
    const key = tenantKey(name);
    this.writes.push({ verb: 'patchStatus', key });
    this.#authorize('patch', 'Tenant', 'status');
    const stored = this.stored.get(key);
    if (!stored) throw apiError('PATCH', key, 404, 'NotFound', `tenants "${name}" not found`);
    stored.obj.status = jsonCopy(mergePatch(stored.obj.status, status));
    this.#touched(stored.obj);
    return jsonCopy(stored.obj);
  }

  async setTenantFinalizers(
    name: string,
    finalizers: string[],
    resourceVersion: string,
  ): Promise<KubeObject> {
    const key = tenantKey(name);
    this.writes.push({ verb: 'setFinalizers', key });
    this.#authorize('patch', 'Tenant');
    const stored = this.stored.get(key);
    if (!stored) throw apiError('PATCH', key, 404, 'NotFound', `tenants "${name}" not found`);
    const t = stored.obj;
    if (resourceVersion !== t.metadata.resourceVersion) {
      throw apiError(
        'PATCH',
        key,
        409,
        'Conflict',
        'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    t.metadata.finalizers = [...finalizers];
    if (finalizers.length === 0 && t.metadata.deletionTimestamp) {
      this.#drop(key);
      return jsonCopy(t);
    }
    this.#touched(t);
    return jsonCopy(t);
  }
}

/**
 * The watch caches over a `FakeApiServer`: the Tenant, every object labelled managed-by the
 * operator (indexed by tenant label), and only operator-labelled namespaces — as the real caches
 * do. Objects handed out are frozen, so a reconciler that mutates its cache fails loudly.
 */
export function observedCluster(server: FakeApiServer): ObservedCluster {
  const managed = (obj: KubeObject) => obj.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY;
  for (const kind of ['Tenant', ...CHILD_TYPES.map((t) => t.kind)]) server.authorizeWatch(kind);
  return {
    tenant(name) {
      return deepFreeze(server.tenant(name));
    },
    children(id) {
      return [...server.objects.values()]
        .filter((obj) => managed(obj) && obj.metadata.labels?.[LABEL_TENANT] === id)
        .map((obj) => deepFreeze(jsonCopy(obj)));
    },
    namespace(name) {
      const ns = server.object('Namespace', name);
      return ns && managed(ns) ? deepFreeze(ns) : undefined;
    },
  };
}

/** A frozen snapshot of what the caches held at one moment (a cache that has not caught up yet). */
export function snapshotOf(observed: ObservedCluster, tenantName: string, id: string): ObservedCluster {
  const tenant = observed.tenant(tenantName);
  const children = observed.children(id);
  const namespace = observed.namespace(`tenant-${id}`);
  return {
    tenant: (name) => (name === tenantName ? tenant : undefined),
    children: (wanted) => (wanted === id ? children : []),
    namespace: (name) => (name === `tenant-${id}` ? namespace : undefined),
  };
}

/** The operator's own cluster over a fake: caches and writer as the reconciler is handed them. */
export function localCluster(observed: ObservedCluster, writer: KubeWriter): TenantCluster {
  return { name: 'local', observed, writer, ownership: 'ownerReference' };
}

export interface RecordedEvent {
  tenant: string;
  type: EventType;
  reason: string;
  message: string;
}

/**
 * The event recorder's side of the API server: an Event is created, and a repeat of the same one
 * patched (aggregated), each needing its verb — refused requests are recorded on the server but, as
 * with the real recorder, never fail the caller.
 */
export class FakeEvents implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  readonly #server: FakeApiServer | undefined;
  readonly #seen = new Set<string>();
  constructor(server?: FakeApiServer) {
    this.#server = server;
  }
  async record(tenant: TenantRef, type: EventType, reason: string, message: string): Promise<void> {
    const key = `${tenant.name}\u0000${type}\u0000${reason}\u0000${message}`;
    this.#server?.authorizeEventWrite(this.#seen.has(key) ? 'patch' : 'create');
    this.#seen.add(key);
    this.events.push({ tenant: tenant.name, type, reason, message });
  }
  withReason(reason: string): RecordedEvent[] {
    return this.events.filter((e) => e.reason === reason);
  }
  clear(): void {
    this.events.length = 0;
  }
}

export class FakeAuth implements AuthPort {
  readonly registered = new Set<string>();
  readonly calls: Array<{ op: 'register' | 'deregister'; tenantId: string }> = [];
  /** While set, every call fails with this error. */
  failWith: Error | undefined;

  async register(tenantId: string): Promise<unknown> {
    this.calls.push({ op: 'register', tenantId });
    if (this.failWith) throw this.failWith;
    this.registered.add(tenantId);
    return { tenantId };
  }

  async deregister(tenantId: string): Promise<unknown> {
    this.calls.push({ op: 'deregister', tenantId });
    if (this.failWith) throw this.failWith;
    this.registered.delete(tenantId);
    return undefined;
  }

  callsOf(op: 'register' | 'deregister'): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

export class FakeMetrics implements ReconcilerMetrics {
  created = 0;
  deleted = 0;
  readonly drift: string[] = [];
  tenantCreated(): void {
    this.created += 1;
  }
  tenantDeleted(): void {
    this.deleted += 1;
  }
  driftCorrected(kind: string): void {
    this.drift.push(kind);
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  #ms: number;
  constructor(start = '2030-01-01T00:00:00Z') {
    this.#ms = Date.parse(start);
  }
  now = (): Date => new Date(this.#ms);
  advance(ms: number): void {
    this.#ms += ms;
  }
}
