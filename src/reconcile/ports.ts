/**
 * What the reconciler is handed: the cluster a tenant lives on (its caches and its writer), the
 * Auth service, events and metrics. Plain interfaces, so tests hand it fakes.
 */
import type { TenantStatus } from '../api/status.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import type { OwnershipMode } from './ownership.ts';

export interface TenantObject extends KubeObject {
  spec?: unknown;
  status?: TenantStatus;
}

export interface ObservedCluster {
  tenant(name: string): TenantObject | undefined;
  /** Every cached object labelled as belonging to tenant `id` (ours or a look-alike). */
  children(id: string): KubeObject[];
  /** The namespace from the cache (only operator-labelled ones are cached). */
  namespace(name: string): KubeObject | undefined;
}

/**
 * A cluster tenants are placed on: what is known of it (watch caches) and how to write to it.
 * With one cluster, it is the operator's own.
 */
export interface TenantCluster {
  name: string;
  observed: ObservedCluster;
  writer: KubeWriter;
  /** How children point at their Tenant there. */
  ownership: OwnershipMode;
}

/** Where a placed tenant's objects can be written now. */
export type ClusterChoice =
  | { kind: 'ready'; cluster: TenantCluster }
  /** Its probe found it not Ready (since `since`, RFC 3339): nothing is sent to it. */
  | { kind: 'unreachable'; message: string; since?: string }
  /** Not known yet (not probed, caches loading, MemberClusters not loaded): look again shortly. */
  | { kind: 'unknown' }
  /** No MemberCluster of that name. */
  | { kind: 'missing' };

export interface AuthPort {
  register(tenantId: string): Promise<unknown>;
  deregister(tenantId: string): Promise<unknown>;
}

export interface ReconcilerMetrics {
  tenantCreated(): void;
  tenantDeleted(): void;
  driftCorrected(kind: string): void;
}

export interface ReconcileServices {
  events: EventRecorder;
  metrics: ReconcilerMetrics;
  auth: AuthPort;
  authUrl: string;
  authDeregisterTimeoutMs: number;
  now: () => Date;
  generatePassword: () => string;
}

/** When to look at a Tenant again (never, unless something changes, when absent). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}
