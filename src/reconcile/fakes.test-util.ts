/**
 * Test helpers: in-memory stand-ins for what the reconciler talks to. `FakeApiServer` keeps
 * objects the way an API server does (uids, resourceVersions, generations, status kept apart from
 * what the operator applies) and counts every write; its `observed` view reads the same store, so
 * a second reconcile sees what the first one wrote. Not part of the shipped code paths.
 */
import { isDeepStrictEqual } from 'node:util';
import { pino } from 'pino';
import type { EventRecorder, EventType, TenantRef } from '../kube/events.ts';
import type { KubeObject, KubeWriter, ObjectRef } from '../kube/objects.ts';
import { KubeApiError } from '../kube/rest.ts';
import { objectKey } from '../kube/resources.ts';
import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../render/meta.ts';
import type { AuthPort, ObservedCluster, ReconcilerMetrics, TenantObject } from './reconciler.ts';

export const silentLogger = pino({ level: 'silent' });

export interface WriteRecord {
  verb: 'apply' | 'replaceLists' | 'create' | 'delete' | 'patchStatus' | 'setFinalizers';
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

/** Applied fields replace live ones; fields only the live object has (server defaults) stay. */
function mergeApplied(live: unknown, applied: unknown): unknown {
  if (!isPlainObject(live) || !isPlainObject(applied)) return applied;
  const out: Json = { ...live };
  for (const [key, value] of Object.entries(applied)) out[key] = mergeApplied(live[key], value);
  return out;
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

export class FakeApiServer implements KubeWriter {
  readonly objects = new Map<string, KubeObject>();
  readonly writes: WriteRecord[] = [];
  /** Every call to `get` (reads are allowed; they are not writes). */
  readonly reads: string[] = [];
  #version = 100;
  #uids = 0;
  #now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date('2030-01-01T00:00:00Z'));
  }

  #nextVersion(): string {
    this.#version += 1;
    return String(this.#version);
  }

  /** Store an object as if it already existed (not counted as a write). Returns the stored copy. */
  seed<T extends KubeObject>(obj: T): T {
    const stored = jsonCopy(obj);
    stored.metadata.uid ??= `uid-${++this.#uids}`;
    stored.metadata.resourceVersion = this.#nextVersion();
    stored.metadata.generation ??= 1;
    this.objects.set(objectKey(stored), stored);
    return jsonCopy(stored);
  }

  /** A Tenant as the API server holds it after `kubectl apply`. */
  seedTenant(tenant: { metadata: { name: string }; spec?: unknown }): TenantObject {
    return this.seed({
      apiVersion: 'neurallog.io/v1',
      kind: 'Tenant',
      ...jsonCopy(tenant),
    } as TenantObject);
  }

  tenant(name: string): TenantObject | undefined {
    const t = this.objects.get(tenantKey(name));
    return t ? (jsonCopy(t) as TenantObject) : undefined;
  }

  object(kind: string, name: string, namespace?: string): KubeObject | undefined {
    const obj = this.objects.get(refKey({ kind, name, namespace }));
    return obj ? jsonCopy(obj) : undefined;
  }

  /** A person edits a Tenant's spec: the generation goes up. */
  editTenantSpec(name: string, spec: unknown): void {
    const t = this.objects.get(tenantKey(name));
    if (!t) throw new Error(`no tenant ${name}`);
    t.spec = jsonCopy(spec);
    t.metadata.generation = (t.metadata.generation ?? 1) + 1;
    t.metadata.resourceVersion = this.#nextVersion();
  }

  /** `kubectl delete tenant`: with finalizers present, only a deletionTimestamp is set. */
  deleteTenant(name: string, at: Date): void {
    const t = this.objects.get(tenantKey(name));
    if (!t) throw new Error(`no tenant ${name}`);
    if ((t.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(tenantKey(name));
      return;
    }
    t.metadata.deletionTimestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    t.metadata.resourceVersion = this.#nextVersion();
  }

  /** What a workload controller writes to `/status`. */
  setWorkloadStatus(kind: string, name: string, namespace: string, status: Json): void {
    const obj = this.objects.get(refKey({ kind, name, namespace }));
    if (!obj) throw new Error(`no ${kind} ${namespace}/${name}`);
    obj.status = jsonCopy(status);
    obj.metadata.resourceVersion = this.#nextVersion();
  }

  /** Make the StatefulSet and Deployment of tenant `id` report every desired replica ready. */
  makeWorkloadsReady(id: string, ready?: { redis?: number; server?: number }): void {
    const ns = `tenant-${id}`;
    const sts = this.objects.get(refKey({ kind: 'StatefulSet', name: `${id}-redis`, namespace: ns }));
    const dep = this.objects.get(refKey({ kind: 'Deployment', name: `${id}-server`, namespace: ns }));
    if (!sts || !dep) throw new Error(`workloads of ${id} do not exist`);
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
    this.objects.delete(refKey({ kind, name, namespace }));
  }

  /** The namespace controller finishes: the namespace and everything in it are gone. */
  finishNamespaceDeletion(name: string): void {
    this.objects.delete(refKey({ kind: 'Namespace', name }));
    for (const [key, obj] of this.objects) if (obj.metadata.namespace === name) this.objects.delete(key);
  }

  writesTo(kind: string): WriteRecord[] {
    return this.writes.filter((w) => w.key.startsWith(`${kind}/`));
  }

  // --- KubeWriter ---

  async apply<T extends KubeObject>(obj: T): Promise<T> {
    const key = objectKey(obj);
    this.writes.push({ verb: 'apply', key });
    const live = this.objects.get(key);
    const applied = jsonCopy(obj);
    if (!live) {
      this.objects.set(key, {
        ...applied,
        metadata: {
          ...applied.metadata,
          uid: `uid-${++this.#uids}`,
          resourceVersion: this.#nextVersion(),
          generation: 1,
        },
      });
    } else {
      const merged = mergeApplied(live, applied) as KubeObject;
      const specChanged = !isDeepStrictEqual(live.spec, merged.spec);
      merged.metadata = {
        ...merged.metadata,
        uid: live.metadata.uid,
        resourceVersion: this.#nextVersion(),
        generation: (live.metadata.generation ?? 1) + (specChanged ? 1 : 0),
      };
      if (live.status !== undefined) merged.status = live.status;
      this.objects.set(key, merged);
    }
    return jsonCopy(this.objects.get(key)) as T;
  }

  /** JSON merge patch with the whole object: lists replaced, server-added fields kept. */
  async replaceLists<T extends KubeObject>(obj: T): Promise<T> {
    const key = objectKey(obj);
    this.writes.push({ verb: 'replaceLists', key });
    const live = this.objects.get(key);
    if (!live) throw apiError('PATCH', key, 404, 'NotFound', `${obj.kind} "${obj.metadata.name}" not found`);
    const merged = mergePatch(live, jsonCopy(obj)) as KubeObject;
    merged.metadata = {
      ...merged.metadata,
      uid: live.metadata.uid,
      resourceVersion: this.#nextVersion(),
      generation: (live.metadata.generation ?? 1) + (isDeepStrictEqual(live.spec, merged.spec) ? 0 : 1),
    };
    if (live.status !== undefined) merged.status = live.status;
    this.objects.set(key, merged);
    return jsonCopy(merged) as T;
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const key = objectKey(obj);
    this.writes.push({ verb: 'create', key });
    if (this.objects.has(key)) {
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
    this.objects.set(key, stored);
    return jsonCopy(stored) as T;
  }

  async delete(ref: ObjectRef, options: { uid?: string } = {}): Promise<void> {
    const key = refKey(ref);
    this.writes.push({ verb: 'delete', key });
    const live = this.objects.get(key);
    if (!live) return;
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
      live.metadata.resourceVersion = this.#nextVersion();
      return;
    }
    this.objects.delete(key);
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const key = refKey(ref);
    this.reads.push(key);
    const obj = this.objects.get(key);
    return obj ? (jsonCopy(obj) as T) : undefined;
  }

  async patchTenantStatus(name: string, status: Record<string, unknown>): Promise<KubeObject> {
    const key = tenantKey(name);
    this.writes.push({ verb: 'patchStatus', key });
    const t = this.objects.get(key);
    if (!t) throw apiError('PATCH', key, 404, 'NotFound', `tenants "${name}" not found`);
    t.status = jsonCopy(mergePatch(t.status, status));
    t.metadata.resourceVersion = this.#nextVersion();
    return jsonCopy(t);
  }

  async setTenantFinalizers(
    name: string,
    finalizers: string[],
    resourceVersion: string,
  ): Promise<KubeObject> {
    const key = tenantKey(name);
    this.writes.push({ verb: 'setFinalizers', key });
    const t = this.objects.get(key);
    if (!t) throw apiError('PATCH', key, 404, 'NotFound', `tenants "${name}" not found`);
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
      this.objects.delete(key);
      return jsonCopy(t);
    }
    t.metadata.resourceVersion = this.#nextVersion();
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

export interface RecordedEvent {
  tenant: string;
  type: EventType;
  reason: string;
  message: string;
}

export class FakeEvents implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  async record(tenant: TenantRef, type: EventType, reason: string, message: string): Promise<void> {
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
