/**
 * Reads and writes of single objects: server-side apply, create, guarded JSON patches, delete,
 * status and finalizer patches, and the few direct reads the controller needs beside its caches.
 */
import { FIELD_MANAGER } from '../render/meta.ts';
import { type KubeRest, isNotFound } from './rest.ts';
import { MEMBER_CLUSTER_TYPE, TENANT_TYPE, objectPath, collectionPath, resourceType } from './resources.ts';

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
    ownerReferences?: Array<{
      apiVersion?: string;
      uid: string;
      controller?: boolean;
      kind: string;
      name: string;
      blockOwnerDeletion?: boolean;
    }>;
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

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** At most this many items (one page; the controller's direct lists are small). */
  limit?: number;
}

export interface DeleteOptions {
  /** Precondition: delete only the object with this uid. */
  uid?: string;
  /** The version last seen (not sent: lets a cache of recent writes hide the deleted copy). */
  resourceVersion?: string;
  /** Precondition: delete only while the object is still at this resourceVersion (409 otherwise). */
  unchangedSince?: string;
}

export interface KubeWriter {
  /** Server-side apply (field manager tenant-operator, force). */
  apply<T extends KubeObject>(obj: T): Promise<T>;
  /** RFC 6902 JSON patch (field manager tenant-operator); `test` operations guard it. */
  jsonPatch<T extends KubeObject>(ref: ObjectRef, operations: JsonPatchOperation[]): Promise<T>;
  /** Create; fails with 409 AlreadyExists when the object exists (never adopts). */
  create<T extends KubeObject>(obj: T): Promise<T>;
  /**
   * Delete, only if the object still has `uid` (when given). Missing objects are not an error.
   * Resolves with the object when the API server still holds it (finalizers pending), else undefined.
   */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<KubeObject | undefined>;
  /** One object; with `metadataOnly` only its metadata (a Secret's data never travels). */
  get<T extends KubeObject>(ref: ObjectRef, options?: { metadataOnly?: boolean }): Promise<T | undefined>;
  /** Objects of a namespaced kind in one namespace. */
  list<T extends KubeObject>(kind: string, namespace: string, options?: ListOptions): Promise<T[]>;
  /**
   * JSON merge patch of `/status` of a Tenant; with `resourceVersion`, it fails with 409 if the
   * Tenant changed since.
   */
  patchTenantStatus(
    name: string,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<KubeObject>;
  /** Sets a Tenant's finalizers, failing with 409 if the Tenant changed since `resourceVersion`. */
  setTenantFinalizers(name: string, finalizers: string[], resourceVersion: string): Promise<KubeObject>;
}

/** Asks for `PartialObjectMetadata`: the object's metadata and nothing else. */
const METADATA_ONLY = { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' };

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
    jsonPatch(ref, operations) {
      return rest.request('PATCH', refPath(ref), {
        body: operations,
        contentType: 'application/json-patch+json',
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
        const answer = await rest.request<KubeObject | { kind?: string }>('DELETE', refPath(ref), {
          body: {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            propagationPolicy: 'Background',
            ...(options.uid || options.unchangedSince
              ? {
                  preconditions: {
                    ...(options.uid ? { uid: options.uid } : {}),
                    ...(options.unchangedSince ? { resourceVersion: options.unchangedSince } : {}),
                  },
                }
              : {}),
          },
        });
        // 200 with the object while finalizers hold it; a Status (or the object, gone) otherwise.
        const obj = answer as KubeObject | undefined;
        return obj?.kind === ref.kind && obj.metadata?.deletionTimestamp ? obj : undefined;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        return undefined;
      }
    },
    async get(ref, options = {}) {
      try {
        return await rest.request('GET', refPath(ref), options.metadataOnly ? METADATA_ONLY : {});
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async list(kind, namespace, options = {}) {
      const type = resourceType(kind);
      const body = await rest.request<{ items?: KubeObject[] }>('GET', collectionPath(type, namespace), {
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          limit: options.limit,
        },
      });
      return (body.items ?? []).map((item) => ({ ...item, kind, apiVersion: type.apiVersion })) as never;
    },
    patchTenantStatus(name, status, resourceVersion) {
      return rest.request('PATCH', `${objectPath(TENANT_TYPE, name)}/status`, {
        body: resourceVersion ? { metadata: { resourceVersion }, status } : { status },
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

/** Writes the status and finalizers of MemberClusters (the management cluster's own objects). */
export interface MemberStatusWriter {
  /** JSON merge patch of `/status` of a MemberCluster; with `resourceVersion`, 409 if it changed since. */
  patchMemberClusterStatus(
    name: string,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<KubeObject>;
  /** Sets a MemberCluster's finalizers, failing with 409 if it changed since `resourceVersion`. */
  setMemberClusterFinalizers(
    name: string,
    finalizers: string[],
    resourceVersion: string,
  ): Promise<KubeObject>;
}

export function createMemberStatusWriter(rest: KubeRest): MemberStatusWriter {
  return {
    patchMemberClusterStatus(name, status, resourceVersion) {
      return rest.request('PATCH', `${objectPath(MEMBER_CLUSTER_TYPE, name)}/status`, {
        body: resourceVersion ? { metadata: { resourceVersion }, status } : { status },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: FIELD_MANAGER },
      });
    },
    setMemberClusterFinalizers(name, finalizers, resourceVersion) {
      return rest.request('PATCH', objectPath(MEMBER_CLUSTER_TYPE, name), {
        body: { metadata: { finalizers, resourceVersion } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: FIELD_MANAGER },
      });
    },
  };
}
