// Helpers for tests that drive Tenants through a running operator.
import { join } from 'node:path';
import { repoRoot } from '../cluster/config.ts';
import type { TestCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';

export interface TenantJson {
  metadata: {
    name: string;
    uid: string;
    generation: number;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    namespace?: string;
    observedGeneration?: number;
    serverStatus?: { phase?: string; message?: string; readyReplicas?: number; totalReplicas?: number };
    redisStatus?: { phase?: string; message?: string; readyReplicas?: number; totalReplicas?: number };
    endpoints?: { server?: string; redis?: string };
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

export const CRD_FILE = join(repoRoot, 'config', 'crd', 'bases', 'neurallog.io_tenants.yaml');
export const MEMBER_CLUSTER_CRD_FILE = join(
  repoRoot,
  'config',
  'crd',
  'bases',
  'neurallog.io_memberclusters.yaml',
);

/** Both CRDs of the operator, as `config/crd` installs them, waited for until Established. */
export async function installCrd(cluster: TestCluster): Promise<void> {
  for (const [file, name] of [
    [CRD_FILE, 'tenants.neurallog.io'],
    [MEMBER_CLUSTER_CRD_FILE, 'memberclusters.neurallog.io'],
  ] as const) {
    await cluster.kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', file]);
    // Polled rather than `kubectl wait`, which fails outright while a new CRD has no conditions yet.
    await waitFor(
      async () => {
        const crd = await cluster.getJson<{
          status?: { conditions?: Array<{ type: string; status: string }> };
        }>(['crd', name]);
        const established = crd?.status?.conditions?.some(
          (c) => c.type === 'Established' && c.status === 'True',
        );
        return established || notYet(`the CRD ${name} is not Established yet`);
      },
      { timeoutMs: 60_000, description: `the CRD ${name} to be Established` },
    );
  }
}

/**
 * A Tenant manifest for `kubectl apply -f -`, written as JSON (valid YAML): kubectl reads YAML 1.1,
 * where an unquoted `on`, `y` or `no` is a boolean, and a YAML 1.2 writer leaves them unquoted.
 */
export function tenantManifest(name: string, spec: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ apiVersion: 'neurallog.io/v1', kind: 'Tenant', metadata: { name }, spec })}\n`;
}

export async function applyTenant(cluster: TestCluster, name: string, spec: Record<string, unknown> = {}) {
  await cluster.kubectlOk(['apply', '-f', '-'], { input: tenantManifest(name, spec) });
}

export function getTenant(cluster: TestCluster, name: string): Promise<TenantJson | undefined> {
  return cluster.getJson<TenantJson>(['tenant', name]);
}

export function condition(t: TenantJson | undefined, type: string) {
  return t?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the tenant's status satisfies `accept` for the current generation. */
export function waitForTenant(
  cluster: TestCluster,
  name: string,
  description: string,
  accept: (t: TenantJson) => boolean,
  timeoutMs = 120_000,
): Promise<TenantJson> {
  return waitFor(
    async () => {
      const t = await getTenant(cluster, name);
      if (!t) return notYet('tenant not found');
      const current = t.status?.observedGeneration === t.metadata.generation;
      return current && accept(t) ? t : notYet(t.status);
    },
    { timeoutMs, intervalMs: 300, description: `tenant ${name}: ${description}` },
  );
}

export function waitForRunning(cluster: TestCluster, name: string, timeoutMs = 120_000): Promise<TenantJson> {
  return waitForTenant(cluster, name, 'phase Running', (t) => t.status?.phase === 'Running', timeoutMs);
}

export function waitForReady(cluster: TestCluster, name: string, timeoutMs = 120_000): Promise<TenantJson> {
  return waitForTenant(
    cluster,
    name,
    'Running and Ready',
    (t) => t.status?.phase === 'Running' && condition(t, 'Ready')?.status === 'True',
    timeoutMs,
  );
}

export async function waitForGone(cluster: TestCluster, args: string[], timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => ((await cluster.getJson(args)) === undefined ? true : notYet(`${args.join(' ')} exists`)),
    {
      timeoutMs,
      intervalMs: 300,
      description: `${args.join(' ')} to be gone`,
    },
  );
}

export interface ListJson<T> {
  items: T[];
}

export interface ObjectJson {
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

export async function listKind(cluster: TestCluster, kind: string, namespace: string): Promise<ObjectJson[]> {
  const list = await cluster.getJson<ListJson<ObjectJson>>([kind, '-n', namespace]);
  return list?.items ?? [];
}
