/** Writes to the API server: server-side apply, create, delete, status and finalizer patches. */
import { FIELD_MANAGER } from '../render/meta.ts';
import { type KubeRest, isNotFound } from './rest.ts';
import { TENANT_TYPE, objectPath, collectionPath, resourceType } from './resources.ts';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ uid: string; controller?: boolean; kind: string; name: string }>;
    finalizers?: string[];
    deletionTimestamp?: string;
    generation?: number;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export interface ObjectRef {
  kind: string;
  name: string;
  namespace?: string;
}

export interface KubeWriter {
  /** Server-side apply (field manager tenant-operator, force). */
  apply<T extends KubeObject>(obj: T): Promise<T>;
  /**
   * JSON merge patch with the whole desired object: lists are replaced as a whole, so entries
   * someone else added to a list the operator owns are dropped (server-side apply keeps them).
   */
  replaceLists<T extends KubeObject>(obj: T): Promise<T>;
  /** Create; fails with 409 AlreadyExists when the object exists (never adopts). */
  create<T extends KubeObject>(obj: T): Promise<T>;
  /** Delete, only if the object still has `uid` (when given). Missing objects are not an error. */
  delete(ref: ObjectRef, options?: { uid?: string }): Promise<void>;
  get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  /** JSON merge patch of `/status` of a Tenant. */
  patchTenantStatus(name: string, status: Record<string, unknown>): Promise<KubeObject>;
  /** Sets a Tenant's finalizers, failing with 409 if the Tenant changed since `resourceVersion`. */
  setTenantFinalizers(name: string, finalizers: string[], resourceVersion: string): Promise<KubeObject>;
}

function refPath(ref: ObjectRef): string {
  return objectPath(resourceType(ref.kind), ref.name, ref.namespace);
}

export function createKubeWriter(rest: KubeRest): KubeWriter {
  return {
    apply(obj) {
      return rest.request('PATCH', refPath({ kind: obj.kind, ...obj.metadata }), {
        body: obj,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: FIELD_MANAGER, force: true },
      });
    },
    replaceLists(obj) {
      return rest.request('PATCH', refPath({ kind: obj.kind, ...obj.metadata }), {
        body: obj,
        contentType: 'application/merge-patch+json',
        query: { fieldManager: FIELD_MANAGER },
      });
    },
    create(obj) {
      const type = resourceType(obj.kind);
      return rest.request('POST', collectionPath(type, obj.metadata.namespace), {
        body: obj,
        query: { fieldManager: FIELD_MANAGER },
      });
    },
    async delete(ref, options = {}) {
      try {
        await rest.request('DELETE', refPath(ref), {
          body: {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            propagationPolicy: 'Background',
            ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
          },
        });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
    async get(ref) {
      try {
        return await rest.request('GET', refPath(ref));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    patchTenantStatus(name, status) {
      return rest.request('PATCH', `${objectPath(TENANT_TYPE, name)}/status`, {
        body: { status },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: FIELD_MANAGER },
      });
    },
    setTenantFinalizers(name, finalizers, resourceVersion) {
      return rest.request('PATCH', objectPath(TENANT_TYPE, name), {
        body: { metadata: { finalizers, resourceVersion } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: FIELD_MANAGER },
      });
    },
  };
}
