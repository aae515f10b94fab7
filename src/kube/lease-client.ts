/**
 * `LeaseClient` over a `coordination.k8s.io/v1` Lease, on the HTTP edge in rest.ts (so renewals
 * every 2 s reuse the pooled connection).
 *
 * Lease times are MicroTime: RFC 3339 with exactly six fractional digits; a plain `Date` would
 * serialise with milliseconds.
 */
import { LeaseConflictError } from '../runtime/leader.ts';
import type { LeaseClient, LeaseRecord, LeaseSnapshot } from '../runtime/leader.ts';
import { KubeApiError, type KubeRest } from './rest.ts';

export interface KubeLeaseClientOptions {
  rest: KubeRest;
  namespace: string;
  /** Lease name, e.g. `neurallog-operator.neurallog.io`. */
  name: string;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** A Lease request failed for a reason other than "not found" or a write conflict. */
export class LeaseRequestError extends Error {
  override readonly name = 'LeaseRequestError';
  readonly statusCode: number | undefined;

  constructor(operation: string, lease: string, statusCode: number | undefined, options: { cause: unknown }) {
    super(
      `could not ${operation} ${lease}${statusCode ? ` (HTTP ${statusCode})` : ''}: ${messageOf(options.cause)}. ${hint(statusCode, lease)}`,
      options,
    );
    this.statusCode = statusCode;
  }
}

export class KubeLeaseClient implements LeaseClient {
  readonly description: string;
  readonly #rest: KubeRest;
  readonly #namespace: string;
  readonly #name: string;

  constructor(options: KubeLeaseClientOptions) {
    if (!options.namespace || !options.name) {
      throw new TypeError('KubeLeaseClient needs a namespace and a name for the Lease');
    }
    this.#rest = options.rest;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.description = `lease ${options.namespace}/${options.name}`;
  }

  get #collection(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases`;
  }

  get #item(): string {
    return `${this.#collection}/${encodeURIComponent(this.#name)}`;
  }

  async get(signal: AbortSignal): Promise<LeaseSnapshot | undefined> {
    try {
      return toSnapshot(await this.#rest.request<LeaseObject>('GET', this.#item, { signal }));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new LeaseRequestError('read', this.description, statusOf(err), { cause: err });
    }
  }

  async create(record: LeaseRecord, signal: AbortSignal): Promise<LeaseSnapshot> {
    try {
      const lease = await this.#rest.request<LeaseObject>('POST', this.#collection, {
        body: this.#object(record, undefined),
        signal,
      });
      return toSnapshot(lease);
    } catch (err) {
      if (statusOf(err) === 409) throw new LeaseConflictError(this.description, { cause: err });
      throw new LeaseRequestError('create', this.description, statusOf(err), { cause: err });
    }
  }

  async update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<LeaseSnapshot> {
    try {
      const lease = await this.#rest.request<LeaseObject>('PUT', this.#item, {
        body: this.#object(record, resourceVersion),
        signal,
      });
      return toSnapshot(lease);
    } catch (err) {
      if (statusOf(err) === 409) throw new LeaseConflictError(this.description, { cause: err });
      throw new LeaseRequestError('update', this.description, statusOf(err), { cause: err });
    }
  }

  /** Nothing of its own to release: the connection pool belongs to the `KubeRest` it was given. */
  async close(): Promise<void> {}

  #object(record: LeaseRecord, resourceVersion: string | undefined): LeaseObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#name,
        namespace: this.#namespace,
        ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      },
      spec: toSpec(record),
    };
  }
}

/** RFC 3339 with microseconds, as the API server's MicroTime wants it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function toSpec(record: LeaseRecord): LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    ...(record.acquireTime === undefined ? {} : { acquireTime: microTime(record.acquireTime) }),
    ...(record.renewTime === undefined ? {} : { renewTime: microTime(record.renewTime) }),
    leaseTransitions: record.leaseTransitions,
  };
}

function toSnapshot(lease: LeaseObject): LeaseSnapshot {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: toMillis(spec.acquireTime),
      renewTime: toMillis(spec.renewTime),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}

function toMillis(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function statusOf(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.status : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof KubeApiError) return err.body?.message ?? `HTTP ${err.status}`;
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message.split('\n')[0]}${cause}`;
}

function hint(statusCode: number | undefined, lease: string): string {
  if (statusCode === 403) {
    return `Grant the operator get/create/update on leases.coordination.k8s.io for ${lease} (the leader-election Role in config/rbac).`;
  }
  if (statusCode === 401)
    return 'The API server rejected the credentials: check the kubeconfig or service account token.';
  if (statusCode === undefined) return 'The API server may be unreachable; leader election retries.';
  return 'Leader election retries.';
}
