/**
 * Deleting a Tenant (SPEC §6): Terminating → deregister from the Auth service (waiting at most
 * `--auth-deregister-timeout`) → delete the namespace when this Tenant owns it → wait until it is
 * gone, saying in the status what holds it up → remove the finalizer.
 */
import type { Logger } from 'pino';
import type { ResolvedTenant } from '../api/resolve.ts';
import type { Condition, TenantStatus } from '../api/status.ts';
import { FINALIZER } from '../render/meta.ts';
import { authFailure } from './auth-step.ts';
import { terminationDetail } from './namespace-state.ts';
import { type TenantIdentity, isOwnedNamespace } from './ownership.ts';
import type { ReconcileServices, TenantCluster, TenantObject } from './ports.ts';
import { publishStatus, tenantEvent } from './publish.ts';
import { authStateFromStatus, nextCondition } from './status.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';

const NAMESPACE_RECHECK_MS = 5_000;
const DEREGISTER_RETRY_MS = 15_000;
const DEREGISTRATION_GAVE_UP = 'DeregistrationTimedOut';

/** Where deregistration stands while a Tenant is deleted. */
export type Deregistration =
  | { state: 'pending' }
  | { state: 'deregistered' }
  | { state: 'gaveUp' }
  | { state: 'failing'; message: string };

function setCondition(c: Condition, to: Condition['status'], reason: string, message: string, at: Date) {
  return nextCondition(c, c.type, { status: to, reason, message }, at, c.observedGeneration);
}

function gaveUpDeregistering(status: TenantStatus | undefined): boolean {
  return (status?.conditions ?? []).some(
    (c) => c.type === 'AuthRegistered' && c.reason === DEREGISTRATION_GAVE_UP,
  );
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

async function lookupNamespace(cluster: TenantCluster, name: string): Promise<KubeObject | undefined> {
  return cluster.observed.namespace(name) ?? (await cluster.writer.get({ kind: 'Namespace', name }));
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
  const auth = r?.authEnabled === false ? undefined : authStateFromStatus(t.status);
  let deregistration: Deregistration = gaveUpDeregistering(t.status)
    ? { state: 'gaveUp' }
    : auth?.state === 'deregistered' || r?.authEnabled === false
      ? { state: 'deregistered' }
      : { state: 'pending' };
  const ns = identity ? await lookupNamespace(cluster, identity.namespace) : undefined;
  const owned =
    ns !== undefined && identity !== undefined && isOwnedNamespace(ns, identity, cluster.ownership);
  // A namespace someone else owns means the tenant id is theirs too (another Tenant with the same
  // spec.tenantId, say): deregistering it would cut them off from the Auth service.
  const idOwnedElsewhere = ns !== undefined && !owned;
  if (r && r.authEnabled && deregistration.state === 'pending' && !idOwnedElsewhere) {
    try {
      await services.auth.deregister(r.id);
      deregistration = { state: 'deregistered' };
      log.info({ tenantId: r.id }, 'deregistered from the Auth service');
    } catch (error) {
      const deletedAt = new Date(t.metadata.deletionTimestamp ?? now().toISOString()).getTime();
      const deadline = deletedAt + services.authDeregisterTimeoutMs;
      const remaining = deadline - now().getTime();
      if (remaining > 0) {
        const until = new Date(deadline).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const message = `Deregistration from the Auth service failed: ${authFailure(error)}; deletion waits for it until ${until} (--auth-deregister-timeout)`;
        await publishStatus(
          home,
          events,
          t,
          terminatingStatus(t.status, { state: 'failing', message }, undefined, now()),
        );
        log.warn({ err: error }, 'deregistration failed; will retry');
        return { requeueAfterMs: Math.min(remaining, DEREGISTER_RETRY_MS) };
      }
      await tenantEvent(
        events,
        t,
        'Warning',
        'AuthDeregistrationTimedOut',
        `Gave up deregistering from the Auth service after ${Math.round(services.authDeregisterTimeoutMs / 1000)} s (${authFailure(error)}); deleting anyway. Remove tenant ${r.id} from the Auth service by hand`,
      );
      deregistration = { state: 'gaveUp' };
    }
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
