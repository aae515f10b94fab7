/**
 * Read-your-writes over the watch caches, as client-go's mutation cache does: what the operator
 * wrote is remembered until the watch delivers it (or something newer), so a reconcile that starts
 * before the caches caught up with the previous one sees its own writes — it does not apply them
 * again, announce a second `Created`, or POST a Secret that exists.
 *
 * Entries are short-lived: the watch usually delivers within milliseconds and drops the entry;
 * an entry the watch never confirms (a broken watch) is forgotten after `ttlMs`, and the cache is
 * trusted again. Resource versions are compared as integers, as client-go's integer mutation cache
 * does; where one is not an integer only equality counts.
 */
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import type { ObservedCluster, TenantObject } from '../reconcile/ports.ts';
import { LABEL_TENANT } from '../render/meta.ts';

const DEFAULT_TTL_MS = 30_000;

interface Entry {
  /** The object as written; undefined for a delete. */
  obj: KubeObject | undefined;
  resourceVersion: string;
  tenantId: string | undefined;
  at: number;
}

export interface RecentWrites {
  /** The API server answered a write with `obj` (its state now). */
  wrote(obj: KubeObject): void;
  /** The object last seen at `resourceVersion` was deleted. */
  deleted(obj: Pick<KubeObject, 'kind' | 'metadata'>): void;
  /** The watch delivered `obj` (added or changed): forget a write it confirms or supersedes. */
  observed(obj: KubeObject): void;
  /** The watch delivered the deletion of `obj`. */
  observedDeleted(obj: KubeObject): void;
  /** The freshest known state of `key`, given what the cache holds. */
  resolve(key: string, cached: KubeObject | undefined): KubeObject | undefined;
  /** Objects written for tenant `id` that the cache does not hold at all yet. */
  unseen(id: string, cachedKeys: ReadonlySet<string>): KubeObject[];
  /** Entries remembered now (for tests and metrics). */
  size(): number;
}

/** a − b as integers; undefined when either is not an integer. */
function compareVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x === y ? 0 : x > y ? 1 : -1;
}

/** What is worth remembering of a write: no managedFields, and of a Secret only its metadata. */
function trimmed(obj: KubeObject): KubeObject {
  let kept = obj;
  if (obj.kind === 'Secret') {
    const { data: _data, stringData: _stringData, ...rest } = obj as KubeObject & Record<string, unknown>;
    kept = rest as KubeObject;
  }
  if (!('managedFields' in kept.metadata)) return kept;
  const { managedFields: _large, ...metadata } = kept.metadata;
  return { ...kept, metadata };
}

export function createRecentWrites(options: { ttlMs?: number; now?: () => number } = {}): RecentWrites {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  function sweep(): void {
    const cutoff = now() - ttlMs;
    for (const [key, entry] of entries) {
      if (entry.at > cutoff) break; // insertion order is age order
      entries.delete(key);
    }
  }

  function remember(key: string, entry: Entry): void {
    entries.delete(key); // re-insert: keep the map in age order
    entries.set(key, entry);
    sweep();
  }

  /** At least as new as what was written (or deleted)? */
  function catchesUp(version: string | undefined, entry: Entry): boolean {
    const order = compareVersions(version, entry.resourceVersion);
    return order === undefined ? version === entry.resourceVersion : order >= 0;
  }

  return {
    wrote(obj) {
      const rv = obj.metadata.resourceVersion;
      if (!rv) return;
      remember(objectKey(obj), {
        obj: trimmed(obj),
        resourceVersion: rv,
        tenantId: obj.metadata.labels?.[LABEL_TENANT],
        at: now(),
      });
    },
    deleted(obj) {
      remember(objectKey(obj), {
        obj: undefined,
        resourceVersion: obj.metadata.resourceVersion ?? '',
        tenantId: obj.metadata.labels?.[LABEL_TENANT],
        at: now(),
      });
    },
    observed(obj) {
      const key = objectKey(obj);
      const entry = entries.get(key);
      // A write of ours is confirmed by its own version; a delete of ours only by a newer object.
      if (entry?.obj && catchesUp(obj.metadata.resourceVersion, entry)) entries.delete(key);
    },
    observedDeleted(obj) {
      const key = objectKey(obj);
      const entry = entries.get(key);
      if (!entry) return;
      // A deletion the watch reports ends whatever we wrote before it.
      const order = compareVersions(obj.metadata.resourceVersion, entry.resourceVersion);
      if (entry.obj === undefined || order === undefined || order >= 0) entries.delete(key);
    },
    resolve(key, cached) {
      const entry = entries.get(key);
      if (!entry) return cached;
      if (now() - entry.at > ttlMs) {
        entries.delete(key);
        return cached;
      }
      if (entry.obj === undefined) {
        // Deleted by us: hide the cached copy unless it is newer than what we deleted (re-made).
        if (!cached) return undefined;
        const order = compareVersions(cached.metadata.resourceVersion, entry.resourceVersion);
        if (order !== undefined && order > 0) {
          entries.delete(key);
          return cached;
        }
        return undefined;
      }
      if (!cached) return entry.obj;
      if (catchesUp(cached.metadata.resourceVersion, entry)) {
        entries.delete(key);
        return cached;
      }
      return entry.obj;
    },
    unseen(id, cachedKeys) {
      const out: KubeObject[] = [];
      const cutoff = now() - ttlMs;
      for (const [key, entry] of entries) {
        if (entry.tenantId === id && entry.obj && entry.at > cutoff && !cachedKeys.has(key))
          out.push(entry.obj);
      }
      return out;
    },
    size: () => entries.size,
  };
}

/**
 * The caches and the writer as one consistent view: every write's answer is remembered, and
 * reads give the freshest of the cache and what was written.
 */
export function withRecentWrites(
  observed: ObservedCluster,
  writer: KubeWriter,
  recent: RecentWrites,
): { observed: ObservedCluster; writer: KubeWriter } {
  const remembered = async <T extends KubeObject>(write: Promise<T>): Promise<T> => {
    const obj = await write;
    recent.wrote(obj);
    return obj;
  };
  return {
    observed: {
      tenant(name) {
        const key = objectKey({ kind: 'Tenant', metadata: { name } });
        return recent.resolve(key, observed.tenant(name)) as TenantObject | undefined;
      },
      namespace(name) {
        const key = objectKey({ kind: 'Namespace', metadata: { name } });
        return recent.resolve(key, observed.namespace(name));
      },
      children(id) {
        const out: KubeObject[] = [];
        const keys = new Set<string>();
        for (const cached of observed.children(id)) {
          const key = objectKey(cached);
          keys.add(key);
          const fresh = recent.resolve(key, cached);
          if (fresh) out.push(fresh);
        }
        out.push(...recent.unseen(id, keys));
        return out;
      },
    },
    writer: {
      get: (ref, options) => writer.get(ref, options),
      list: (kind, namespace, options) => writer.list(kind, namespace, options),
      apply: (obj) => remembered(writer.apply(obj)),
      jsonPatch: (ref, ops) => remembered(writer.jsonPatch(ref, ops)),
      create: (obj) => remembered(writer.create(obj)),
      patchTenantStatus: (name, status, resourceVersion) =>
        remembered(writer.patchTenantStatus(name, status, resourceVersion)),
      setTenantFinalizers: (name, finalizers, rv) =>
        remembered(writer.setTenantFinalizers(name, finalizers, rv)),
      async delete(ref, options) {
        const left = await writer.delete(ref, options);
        if (left) recent.wrote(left);
        else
          recent.deleted({
            kind: ref.kind,
            metadata: {
              name: ref.name,
              ...(ref.namespace ? { namespace: ref.namespace } : {}),
              ...(options?.resourceVersion ? { resourceVersion: options.resourceVersion } : {}),
            },
          });
        return left;
      },
    },
  };
}
