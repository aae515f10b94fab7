/**
 * Deleting a Tenant (SPEC §6): Terminating → deregister from the Auth service (waiting at most
 * `--auth-deregister-timeout`) → delete the namespace when this Tenant owns it → wait until it is
 * gone, saying in the status what holds it up → remove the finalizer.
 */
import type { Logger } from 'pino';
import type { ResolvedTenant } from '../api/resolve.ts';
import type { Condition, TenantStatus } from '../api/status.ts';
import { FINALIZER } from '../render/meta.ts';
import { DEREGISTRATION_GAVE_UP, type Deregistration, deregisterFromAuth } from './auth-step.ts';
import { lookupNamespace, terminationDetail } from './namespace-state.ts';
import { type TenantIdentity, isOwnedNamespace } from './ownership.ts';
import type { ReconcileServices, TenantCluster, TenantObject } from './ports.ts';
import { publishStatus, tenantEvent } from './publish.ts';
import { nextCondition } from './status.ts';
import type { KubeWriter } from '../kube/objects.ts';

const NAMESPACE_RECHECK_MS = 5_000;

function setCondition(c: Condition, to: Condition['status'], reason: string, message: string, at: Date) {
  return nextCondition(c, c.type, { status: to, reason, message }, at, c.observedGeneration);
}

/** Status of a Tenant being deleted: Terminating, not Ready (saying on what it waits), and the Auth outcome. */
export function terminatingStatus(
  status: TenantStatus | undefined,
  deregistration: Deregistration,
  waitingOn: string | undefined,
  at: Date,
): TenantStatus {
  const ready = waitingOn ? `Tenant is being deleted: ${waitingOn}` : 'Tenant is being deleted';
  return {
    ...(status ?? {}),
    phase: 'Terminating',
    conditions: (status?.conditions ?? []).map((c) => {
      if (c.type === 'Ready') return setCondition(c, 'False', 'Terminating', ready, at);
      if (c.type !== 'AuthRegistered') return c;
      switch (deregistration.state) {
        case 'deregistered':
          return setCondition(c, 'False', 'Deregistered', 'Tenant was removed from the Auth service', at);
        case 'gaveUp':
          return setCondition(
            c,
            'Unknown',
            DEREGISTRATION_GAVE_UP,
            'Deregistration did not succeed before --auth-deregister-timeout; the tenant may still be registered with the Auth service',
            at,
          );
        case 'failing':
          return setCondition(c, 'False', 'AuthServiceUnavailable', deregistration.message, at);
        case 'pending':
          return c;
      }
    }),
  };
}

export interface DeletionInput {
  t: TenantObject;
  /** Undefined when the spec cannot be read any more (nothing to deregister or delete by id). */
  resolved: ResolvedTenant | undefined;
  cluster: TenantCluster;
  home: Pick<KubeWriter, 'patchTenantStatus' | 'setTenantFinalizers'>;
  services: ReconcileServices;
  log: Logger;
}

export async function finalizeTenant(input: DeletionInput): Promise<{ requeueAfterMs?: number }> {
  const { t, resolved: r, cluster, home, services, log } = input;
  const { events, now } = services;
  const finalizers = t.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) return {};
  const identity: TenantIdentity | undefined = r && {
    uid: t.metadata.uid,
    id: r.id,
    namespace: r.namespace,
  };
  const ns = identity ? await lookupNamespace(cluster, identity.namespace) : undefined;
  const owned =
    ns !== undefined && identity !== undefined && isOwnedNamespace(ns, identity, cluster.ownership);
  // A namespace someone else owns means the tenant id is theirs too (another Tenant with the same
  // spec.tenantId, say): deregistering it would cut them off from the Auth service.
  const deregistration = await deregisterFromAuth({
    t,
    resolved: r,
    idOwnedElsewhere: ns !== undefined && !owned,
    services,
    log,
  });
  if (deregistration.state === 'failing') {
    await publishStatus(home, events, t, terminatingStatus(t.status, deregistration, undefined, now()));
    return { requeueAfterMs: deregistration.retryInMs };
  }

  if (owned && identity) {
    const waitingOn = `waiting for namespace ${identity.namespace} to be removed${detail(terminationDetail(ns))}`;
    await publishStatus(home, events, t, terminatingStatus(t.status, deregistration, waitingOn, now()));
    if (!ns.metadata.deletionTimestamp) {
      await cluster.writer.delete(
        { kind: 'Namespace', name: identity.namespace },
        ns.metadata.uid ? { uid: ns.metadata.uid } : {},
      );
      await tenantEvent(events, t, 'Normal', 'Deleting', `Deleting namespace ${identity.namespace}`);
    }
    return { requeueAfterMs: NAMESPACE_RECHECK_MS };
  }
  // Nothing left to wait for: the Tenant goes away with this write, so its status is not written.
  await home.setTenantFinalizers(
    t.metadata.name,
    finalizers.filter((f) => f !== FINALIZER),
    t.metadata.resourceVersion ?? '',
  );
  services.metrics.tenantDeleted();
  log.info('tenant deleted');
  return {};
}

function detail(text: string): string {
  return text ? ` (${text})` : '';
}
