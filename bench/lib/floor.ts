// The floor: what provisioning N tenants costs with no operator at all. The same objects `render`
// makes, written by a minimal client — one server-side apply per object, namespaces first, at the
// operator's concurrency, no reads, no status, no events — timed until every Deployment and
// StatefulSet reports its ready replicas.
import { loadTenants } from '../../src/api/load.ts';
import { render } from '../../src/render/index.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../src/render/meta.ts';
import type { BenchKube } from './kube.ts';

interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ResourceQuota: 'resourcequotas',
  LimitRange: 'limitranges',
  NetworkPolicy: 'networkpolicies',
  ServiceAccount: 'serviceaccounts',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Service: 'services',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

export function objectPath(o: RenderedObject): string {
  const plural = PLURALS[o.kind];
  if (!plural) throw new Error(`the floor does not know the resource of kind ${o.kind}`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  return o.metadata.namespace
    ? `${base}/namespaces/${o.metadata.namespace}/${plural}/${o.metadata.name}`
    : `${base}/${plural}/${o.metadata.name}`;
}

/** The objects of one tenant, namespace first, exactly as the operator renders them. */
export function renderTenant(name: string, index: number, authUrl: string): RenderedObject[] {
  const text = JSON.stringify({
    apiVersion: 'neurallog.io/v1',
    kind: 'Tenant',
    metadata: { name },
    spec: { displayName: `Bench tenant ${index}`, description: 'floor of bench/run.ts' },
  });
  const [doc] = loadTenants(text, name);
  if (!doc?.result.ok) throw new Error(`the bench tenant ${name} does not validate`);
  const objects = render(doc.result.tenant, { authUrl }) as unknown as RenderedObject[];
  return [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
}

export interface FloorResult {
  objectsPerTenant: number;
  writes: number;
  wallSeconds: number;
  writesDoneSeconds: number;
  /** Per tenant: from its first write to its workloads ready. */
  perTenantSeconds: number[];
  /** Per tenant: from the start of the burst (the first write of all) to its workloads ready. */
  readySinceStartSeconds: number[];
  deleteSeconds: number;
}

interface WorkloadList {
  items: Array<{
    metadata: { namespace: string; name: string };
    spec?: { replicas?: number };
    status?: { readyReplicas?: number };
  }>;
}

export async function runFloor(options: {
  kube: BenchKube;
  names: string[];
  concurrency: number;
  authUrl: string;
  pollMs: number;
  timeoutMs: number;
  log: (line: string) => void;
}): Promise<FloorResult> {
  const { kube, names, concurrency, log } = options;
  const perTenant = names.map((n, i) => renderTenant(n, i, options.authUrl));
  const namespaceOf = new Map<string, string>();
  const workloadsOf = new Map<string, number>();
  for (const [i, objects] of perTenant.entries()) {
    const ns = objects.find((o) => o.kind === 'Namespace')!.metadata.name;
    namespaceOf.set(ns, names[i]!);
    workloadsOf.set(
      names[i]!,
      objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet').length,
    );
  }
  const started = new Map<string, number>();
  const ready = new Map<string, number>();
  let writes = 0;
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= perTenant.length) return;
      started.set(names[i]!, Date.now());
      for (const object of perTenant[i]!) {
        const path = `${objectPath(object)}?fieldManager=bench-floor&force=true`;
        const res = await kube.request('PATCH', path, object, 'application/apply-patch+yaml');
        writes++;
        if (res.status >= 300)
          throw new Error(`floor apply ${path}: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      }
    }
  };
  const writing = Promise.all(Array.from({ length: concurrency }, worker)).then(() => Date.now());
  const selector = encodeURIComponent(`${LABEL_MANAGED_BY}=${MANAGED_BY}`);
  const deadline = t0 + options.timeoutMs;
  let lastLog = 0;
  while (ready.size < names.length) {
    if (Date.now() > deadline) throw new Error(`floor timed out: ${ready.size}/${names.length} ready`);
    const pollStart = Date.now();
    const [deployments, statefulSets] = await Promise.all([
      kube.getJson<WorkloadList>(`/apis/apps/v1/deployments?labelSelector=${selector}`),
      kube.getJson<WorkloadList>(`/apis/apps/v1/statefulsets?labelSelector=${selector}`),
    ]);
    const seen = Date.now();
    const readyWorkloads = new Map<string, number>();
    for (const w of [...deployments.items, ...statefulSets.items]) {
      const tenant = namespaceOf.get(w.metadata.namespace);
      if (!tenant) continue;
      if ((w.status?.readyReplicas ?? 0) >= (w.spec?.replicas ?? 1))
        readyWorkloads.set(tenant, (readyWorkloads.get(tenant) ?? 0) + 1);
    }
    for (const [tenant, count] of readyWorkloads)
      if (count >= workloadsOf.get(tenant)! && !ready.has(tenant)) ready.set(tenant, seen);
    if (seen - lastLog > 5000) {
      log(`floor: ${started.size} started, ${ready.size} ready`);
      lastLog = seen;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, pollStart + options.pollMs - Date.now())));
  }
  const writesDoneAt = await writing;
  const allReadyAt = Date.now();
  log(`floor: all ${names.length} ready after ${(allReadyAt - t0) / 1000} s; deleting`);

  const tDelete = Date.now();
  const namespaces = [...namespaceOf.keys()];
  await Promise.all(namespaces.map((ns) => kube.request('DELETE', `/api/v1/namespaces/${ns}`)));
  for (;;) {
    if (Date.now() > tDelete + options.timeoutMs) throw new Error('floor namespaces did not go away in time');
    const list = await kube.getJson<{ items: Array<{ metadata: { name: string } }> }>('/api/v1/namespaces');
    if (!list.items.some((n) => namespaceOf.has(n.metadata.name))) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return {
    objectsPerTenant: perTenant[0]?.length ?? 0,
    writes,
    wallSeconds: (allReadyAt - t0) / 1000,
    writesDoneSeconds: (writesDoneAt - t0) / 1000,
    perTenantSeconds: names.map((n) => (ready.get(n)! - started.get(n)!) / 1000),
    readySinceStartSeconds: names.map((n) => (ready.get(n)! - t0) / 1000),
    deleteSeconds: (Date.now() - tDelete) / 1000,
  };
}
