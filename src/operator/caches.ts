/**
 * The watch caches the controller reads from: every Tenant, and every child kind filtered by the
 * managed-by label, so memory holds only what this operator made. Child events queue their tenant.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { cachedTenantId } from '../api/tenant.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { KubeRest } from '../kube/rest.ts';
import { CHILD_TYPES, type ResourceType, TENANT_TYPE, collectionPath, objectKey } from '../kube/resources.ts';
import { KubeWatchSource } from '../kube/watch-source.ts';
import { LABEL_MANAGED_BY, LABEL_TENANT, MANAGED_BY } from '../render/meta.ts';
import type { ObservedCluster, TenantObject } from '../reconcile/ports.ts';
import { Informer, type InformerHandlers } from '../runtime/informer.ts';
import type { Priority } from '../runtime/queue.ts';
import type { RecentWrites } from './recent-writes.ts';
import { StringPool } from './string-pool.ts';

export interface CacheEvents {
  /**
   * Reconcile `name`: at `high` when work under way needs it (a child changed, a person changed the
   * Tenant), `normal` for a new Tenant, `low` for the initial list and resyncs.
   */
  enqueue(tenantName: string, priority: Priority): void;
  /** A Tenant object was added (`before` undefined), changed or removed (`after` undefined). */
  tenantChanged?(before: TenantObject | undefined, after: TenantObject | undefined): void;
  /** A ResourceQuota of a tenant changed or went away. */
  quotaChanged?(tenantId: string, quota: KubeObject | undefined): void;
}

export interface OperatorCaches extends ObservedCluster {
  start(): void;
  stop(): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<void>;
  hasSynced(): boolean;
  tenants(): TenantObject[];
  /** The name of the Tenant whose (effective) tenant id is `id`. */
  tenantNameForId(id: string): string | undefined;
  /** Queue every cached tenant (periodic resync). */
  informers: ReadonlyArray<Informer<KubeObject>>;
}

export interface CacheOptions {
  rest: KubeRest;
  logger: Logger;
  events: CacheEvents;
  resyncPeriodMs: number;
  /** Told of every object the watches deliver, so it forgets writes they confirm. */
  recent?: RecentWrites;
  /** Sent with every list and watch. */
  userAgent?: string;
}

/** List items come without kind/apiVersion; the cache restores them so objects are self-describing. */
function withType(type: ResourceType, obj: KubeObject): KubeObject {
  if (obj.kind === type.kind && obj.apiVersion === type.apiVersion) return obj;
  return { ...obj, kind: type.kind, apiVersion: type.apiVersion };
}

/**
 * Whether a change of a Tenant calls for a reconcile. A change of its status alone does not: it is
 * the echo of the operator's own status write (controller-runtime's generation-changed predicate,
 * widened to what else the reconciler reads from the object itself).
 */
export function needsReconcile(old: TenantObject, next: TenantObject): boolean {
  const a = old.metadata;
  const b = next.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    !isDeepStrictEqual(a.finalizers ?? [], b.finalizers ?? []) ||
    !isDeepStrictEqual(a.labels ?? {}, b.labels ?? {}) ||
    !isDeepStrictEqual(a.annotations ?? {}, b.annotations ?? {}) ||
    (a.generation === undefined && !isDeepStrictEqual(old.spec, next.spec))
  );
}

function controllerTenant(obj: KubeObject): string | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Tenant')?.name;
}

/** The child kinds' caches of one cluster, filtered by the managed-by label. */
export interface ChildCaches extends Omit<ObservedCluster, 'tenant'> {
  informers: ReadonlyArray<Informer<KubeObject>>;
  start(): void;
  stop(): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<void>;
  hasSynced(): boolean;
}

export interface ChildCacheOptions {
  rest: KubeRest;
  logger: Logger;
  /** The Tenant (by name) an object of this cluster belongs to, if any. */
  tenantNameFor(obj: KubeObject): string | undefined;
  enqueue(tenantName: string, priority: Priority): void;
  quotaChanged?(tenantId: string, quota: KubeObject | undefined): void;
  recent?: RecentWrites;
  userAgent?: string;
  share?: <T>(obj: T) => T;
}

export function createChildCaches(options: ChildCacheOptions): ChildCaches {
  const { rest, logger, recent } = options;
  const byTenantId = new Map<string, Map<string, KubeObject>>();
  const managedSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;

  function index(obj: KubeObject, present: boolean): void {
    const id = obj.metadata.labels?.[LABEL_TENANT];
    if (!id) return;
    const key = objectKey(obj);
    let children = byTenantId.get(id);
    if (present) {
      if (!children) byTenantId.set(id, (children = new Map()));
      children.set(key, obj);
    } else if (children) {
      children.delete(key);
      if (children.size === 0) byTenantId.delete(id);
    }
  }

  function childHandlers(type: ResourceType, synced: () => boolean): InformerHandlers<KubeObject> {
    const changed = (obj: KubeObject, present: boolean) => {
      const typed = withType(type, obj);
      if (present) recent?.observed(typed);
      else recent?.observedDeleted(typed);
      index(typed, present);
      if (type.kind === 'ResourceQuota') {
        const id = typed.metadata.labels?.[LABEL_TENANT];
        if (id) options.quotaChanged?.(id, present ? typed : undefined);
      }
      const tenant = options.tenantNameFor(typed);
      if (tenant) options.enqueue(tenant, synced() ? 'high' : 'low');
    };
    return {
      onAdd: (obj) => changed(obj, true),
      onUpdate: (_old, obj) => changed(obj, true),
      onDelete: (obj) => changed(obj, false),
    };
  }

  const informers = CHILD_TYPES.map((type) => {
    const informer: Informer<KubeObject> = new Informer<KubeObject>({
      name: type.plural,
      logger,
      resyncPeriodMs: 0,
      ...(options.share ? { transform: options.share } : {}),
      source: new KubeWatchSource<KubeObject>({
        rest,
        path: collectionPath(type),
        labelSelector: managedSelector,
        // The reconciler needs to know only that a Secret exists and whose it is; its data (every
        // tenant's Redis password) stays out of the operator's memory.
        metadataOnly: type.kind === 'Secret',
        ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      }),
      handlers: childHandlers(type, () => informer.hasSynced()),
    });
    return informer;
  });
  const namespaceInformer = informers[CHILD_TYPES.findIndex((t) => t.kind === 'Namespace')]!;

  return {
    informers,
    start() {
      for (const informer of informers) informer.start();
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
    async waitForSync(signal) {
      await Promise.all(informers.map((i) => i.waitForSync(signal)));
    },
    hasSynced() {
      return informers.every((i) => i.hasSynced());
    },
    children(id) {
      return [...(byTenantId.get(id)?.values() ?? [])];
    },
    namespace(name) {
      const ns = namespaceInformer.get(name);
      return ns ? withType(CHILD_TYPES[0]!, ns) : undefined;
    },
  };
}

export function createOperatorCaches(options: CacheOptions): OperatorCaches {
  const { rest, logger, events, recent } = options;
  // One pool for every cache: tenants' objects repeat each other's strings (see string-pool.ts).
  const strings = new StringPool();
  const share = <T>(obj: T): T => strings.share(obj);

  const tenantInformer: Informer<TenantObject> = new Informer<TenantObject>({
    name: 'tenants',
    logger,
    transform: share,
    resyncPeriodMs: options.resyncPeriodMs,
    source: new KubeWatchSource<TenantObject>({
      rest,
      path: collectionPath(TENANT_TYPE),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    }),
    handlers: {
      onAdd: (t) => {
        recent?.observed(withType(TENANT_TYPE, t));
        events.enqueue(t.metadata.name, tenantInformer.hasSynced() ? 'normal' : 'low');
        events.tenantChanged?.(undefined, t);
      },
      onUpdate: (old, t) => {
        recent?.observed(withType(TENANT_TYPE, t));
        if (needsReconcile(old, t)) events.enqueue(t.metadata.name, 'high');
        events.tenantChanged?.(old, t);
      },
      onDelete: (t) => {
        recent?.observedDeleted(withType(TENANT_TYPE, t));
        events.tenantChanged?.(t, undefined);
      },
      onResync: (t: TenantObject) => {
        events.enqueue(t.metadata.name, 'low');
      },
    },
  });

  function tenantNameForId(id: string): string | undefined {
    return tenantInformer.list().find((t) => cachedTenantId(t) === id)?.metadata.name;
  }

  const children = createChildCaches({
    rest,
    logger,
    share,
    ...(recent ? { recent } : {}),
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    tenantNameFor: (obj) => {
      const owner = controllerTenant(obj);
      if (owner) return owner;
      const id = obj.metadata.labels?.[LABEL_TENANT];
      return id ? tenantNameForId(id) : undefined;
    },
    enqueue: events.enqueue,
    ...(events.quotaChanged ? { quotaChanged: events.quotaChanged } : {}),
  });
  const all = [tenantInformer as unknown as Informer<KubeObject>, ...children.informers];

  return {
    informers: all,
    start() {
      for (const informer of all) informer.start();
    },
    async stop() {
      await Promise.all(all.map((i) => i.stop()));
    },
    async waitForSync(signal) {
      await Promise.all(all.map((i) => i.waitForSync(signal)));
    },
    hasSynced() {
      return all.every((i) => i.hasSynced());
    },
    tenants() {
      return tenantInformer.list();
    },
    tenant(name) {
      return tenantInformer.get(name);
    },
    tenantNameForId,
    children: (id) => children.children(id),
    namespace: (name) => children.namespace(name),
  };
}
