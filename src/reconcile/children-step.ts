/**
 * The children step (SPEC §2): the tenant's objects are rendered for the cluster it lives on,
 * compared with what is there, and only the differences are written; what the writes did is
 * announced as Events. The Redis password is drawn only when its Secret is really created, and
 * lives only in that request.
 */
import type { Logger } from 'pino';
import type { ResolvedTenant } from '../api/resolve.ts';
import type { KubeObject } from '../kube/objects.ts';
import { objectKey } from '../kube/resources.ts';
import { render } from '../render/index.ts';
import type { RenderedObject } from '../render/meta.ts';
import { isCreateOnly, renderRedisSecret } from '../render/redis.ts';
import { plannedEvents } from './announce.ts';
import { type ChildrenResult, writeChildren } from './children.ts';
import { type TenantIdentity, forOwnership } from './ownership.ts';
import { type ChildPlan, planChildren } from './plan.ts';
import type { ReconcileServices, TenantCluster, TenantObject } from './ports.ts';
import { tenantEvent } from './publish.ts';

export interface ChildrenStepInput {
  t: TenantObject;
  r: ResolvedTenant;
  identity: TenantIdentity;
  cluster: TenantCluster;
  /** The namespace as looked up before (the cache, else the API server). */
  liveNamespace: KubeObject | undefined;
  specChanged: boolean;
  startedAt: Date;
  services: ReconcileServices;
  log: Logger;
}

export async function childrenStep(
  input: ChildrenStepInput,
): Promise<{ plan: ChildPlan; written: ChildrenResult }> {
  const { t, r, identity, cluster, liveNamespace, services } = input;
  const uid = identity.uid;
  const desired = render(r, { authUrl: services.authUrl }).map((o) =>
    forOwnership(o as KubeObject, cluster.ownership, uid),
  ) as RenderedObject[];
  const live = new Map<string, KubeObject>();
  for (const child of cluster.observed.children(r.id)) live.set(objectKey(child), child);
  if (liveNamespace)
    live.set(objectKey({ ...liveNamespace, kind: 'Namespace' }), { ...liveNamespace, kind: 'Namespace' });
  const plan = planChildren({
    desired,
    live,
    specChanged: input.specChanged,
    isCreateOnly,
    tenant: identity,
    ownership: cluster.ownership,
  });
  for (const action of plan.actions) {
    if (action.type === 'create' && isCreateOnly(action.object))
      action.object = forOwnership(
        renderRedisSecret(r, { redisPassword: services.generatePassword() }) as KubeObject,
        cluster.ownership,
        uid,
      ) as RenderedObject;
  }
  const written = await writeChildren({
    plan,
    live,
    writer: cluster.writer,
    tenant: identity,
    ownership: cluster.ownership,
    startedAt: input.startedAt,
    log: input.log,
  });
  // Someone made the namespace between our read and our create: the caller looks again at once.
  if (written.namespaceRace) return { plan, written };
  if (written.namespaceCreated && input.specChanged) services.metrics.tenantCreated();
  for (const restored of written.restored) services.metrics.driftCorrected(restored.object.kind);
  for (const e of plannedEvents(written))
    await tenantEvent(services.events, t, 'Normal', e.reason, e.message);
  return { plan, written };
}
