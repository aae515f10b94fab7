/**
 * Where the tenant namespace stands (SPEC §2.1): absent, ready (ours), terminating (ours or left
 * by an earlier Tenant of the same id — waited for, never a conflict), or a conflict (someone
 * else's: never adopted, changed or deleted).
 */
import type { KubeObject } from '../kube/objects.ts';
import { type OwnershipMode, type TenantIdentity, isOwnedNamespace } from './ownership.ts';
import type { TenantCluster } from './ports.ts';
import type { NamespaceState } from './status.ts';

export function namespaceState(
  ns: KubeObject | undefined,
  tenant: TenantIdentity,
  mode: OwnershipMode,
): NamespaceState {
  if (!ns) return 'absent';
  if (ns.metadata.deletionTimestamp) return 'terminating';
  return isOwnedNamespace(ns, tenant, mode) ? 'ready' : 'conflict';
}

interface NamespaceCondition {
  type?: string;
  status?: string;
  message?: string;
}

/** What holds a terminating namespace up, from its own conditions ("" when it says nothing). */
export function terminationDetail(ns: KubeObject | undefined): string {
  const conditions = ((ns?.status as { conditions?: NamespaceCondition[] } | undefined)?.conditions ??
    []) as NamespaceCondition[];
  return conditions
    .filter((c) => c.status === 'True' && c.message)
    .map((c) => `${c.type}: ${c.message!.replace(/\s+/g, ' ').trim()}`)
    .join('; ');
}

/** The tenant namespace from the cache, or from the API server when the cache does not hold it. */
export async function lookupNamespace(cluster: TenantCluster, name: string): Promise<KubeObject | undefined> {
  return cluster.observed.namespace(name) ?? (await cluster.writer.get({ kind: 'Namespace', name }));
}
