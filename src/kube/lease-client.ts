/**
 * `LeaseClient` over a `coordination.k8s.io/v1` Lease, with client-node's
 * typed `CoordinationV1Api`.
 *
 * Two client-node details handled here:
 * - Lease times must be sent as RFC 3339 with microseconds; a plain `Date`
 *   serialises with milliseconds, so we send `V1MicroTime`. On the way back
 *   the generated deserializer leaves MicroTime fields as *strings*, despite
 *   the `Date` type.
 * - Each generated API call builds a fresh undici dispatcher (a new TLS
 *   connection per request). Renewing every 2 s would churn connections, so
 *   this client swaps in one dispatcher it keeps, and `close()` releases it.
 */
import { CoordinationV1Api, Observable, V1MicroTime } from '@kubernetes/client-node';
import type {
  ConfigurationOptions,
  KubeConfig,
  RequestContext,
  ResponseContext,
  V1Lease,
} from '@kubernetes/client-node';
import { LeaseConflictError } from '../runtime/leader.ts';
import type { LeaseClient, LeaseRecord, LeaseSnapshot } from '../runtime/leader.ts';

export interface KubeLeaseClientOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Lease name, e.g. `neurallog-operator.neurallog.io`. */
  name: string;
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

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class KubeLeaseClient implements LeaseClient {
  readonly description: string;
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;
  #dispatcher: Dispatcher | undefined;

  constructor(options: KubeLeaseClientOptions) {
    if (!options.namespace || !options.name) {
      throw new TypeError('KubeLeaseClient needs a namespace and a name for the Lease');
    }
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.description = `lease ${options.namespace}/${options.name}`;
  }

  async get(signal: AbortSignal): Promise<LeaseSnapshot | undefined> {
    try {
      const lease = await this.#api.readNamespacedLease(
        { name: this.#name, namespace: this.#namespace },
        this.#options(signal),
      );
      return toSnapshot(lease);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new LeaseRequestError('read', this.description, statusOf(err), { cause: err });
    }
  }

  async create(record: LeaseRecord, signal: AbortSignal): Promise<LeaseSnapshot> {
    try {
      const lease = await this.#api.createNamespacedLease(
        {
          namespace: this.#namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#name, namespace: this.#namespace },
            spec: toSpec(record),
          },
        },
        this.#options(signal),
      );
      return toSnapshot(lease);
    } catch (err) {
      if (statusOf(err) === 409) throw new LeaseConflictError(this.description, { cause: err });
      throw new LeaseRequestError('create', this.description, statusOf(err), { cause: err });
    }
  }

  async update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<LeaseSnapshot> {
    try {
      const lease = await this.#api.replaceNamespacedLease(
        {
          name: this.#name,
          namespace: this.#namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.#name, namespace: this.#namespace, resourceVersion },
            spec: toSpec(record),
          },
        },
        this.#options(signal),
      );
      return toSnapshot(lease);
    } catch (err) {
      if (statusOf(err) === 409) throw new LeaseConflictError(this.description, { cause: err });
      throw new LeaseRequestError('update', this.description, statusOf(err), { cause: err });
    }
  }

  /** Close the kept connection (on shutdown, after the last `update`). */
  async close(): Promise<void> {
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    await dispatcher?.close();
  }

  /** Per-call options: abort with `signal`, and reuse one dispatcher across calls. */
  #options(signal: AbortSignal): ConfigurationOptions {
    return {
      middleware: [
        {
          pre: (ctx: RequestContext) => {
            ctx.setSignal(signal);
            const fresh = ctx.getDispatcher();
            if (fresh) {
              this.#dispatcher ??= fresh;
              // The fresh one has opened nothing yet; dropping it costs nothing.
              if (fresh !== this.#dispatcher) ctx.setDispatcher(this.#dispatcher);
            }
            return new Observable(Promise.resolve(ctx));
          },
          post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }
}

function toSpec(record: LeaseRecord): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime === undefined ? undefined : new V1MicroTime(record.acquireTime),
    renewTime: record.renewTime === undefined ? undefined : new V1MicroTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

function toSnapshot(lease: V1Lease): LeaseSnapshot {
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

/** MicroTime arrives as a string (client-node does not revive it) or, defensively, a Date. */
function toMillis(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' && value !== '') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number')
    return err.code;
  return undefined;
}

function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not a Status
    }
  }
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
