/**
 * Deleting a Tenant whose member cluster does not answer (SPEC §10.4): it is deregistered from the
 * Auth service at once (that is the management side), waits up to `--member-cleanup-timeout` for
 * the member, and then lets the Tenant go with a Warning, leaving the namespace to the member's
 * `status.pendingCleanup`: the operator deletes it there — only if it still carries this Tenant's
 * uid — when the member answers again. Deletion never hangs for ever and nothing stays orphaned.
 */
import type { Logger } from 'pino';
import type { ResolvedTenant } from '../api/resolve.ts';
import type { KubeWriter } from '../kube/objects.ts';
import { FINALIZER } from '../render/meta.ts';
import { deregisterFromAuth } from './auth-step.ts';
import { terminatingStatus } from './deletion.ts';
import type { ReconcileServices, TenantObject } from './ports.ts';
import { publishStatus, tenantEvent } from './publish.ts';

export interface PendingCleanup {
  tenant: string;
  uid: string;
  namespace: string;
  since: string;
}

export interface UnreachableDeletionInput {
  t: TenantObject;
  resolved: ResolvedTenant | undefined;
  clusterName: string;
  /** Why the member cannot be reached. */
  why: string;
  /** Since when its probe has found it not Ready (RFC 3339); the wait counts from here or the deletion, the later. */
  unreachableSince?: string;
  home: Pick<KubeWriter, 'patchTenantStatus' | 'setTenantFinalizers'>;
  services: ReconcileServices;
  log: Logger;
  cleanupTimeoutMs: number;
  deferCleanup(entry: PendingCleanup): Promise<void>;
}

const RECHECK_MS = 15_000;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function finalizeOnUnreachableMember(
  input: UnreachableDeletionInput,
): Promise<{ requeueAfterMs?: number }> {
  const { t, resolved: r, clusterName, home, services, log } = input;
  const finalizers = t.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) return {};
  const now = services.now();

  const deletedAt = new Date(t.metadata.deletionTimestamp ?? now.toISOString()).getTime();
  // The id's namespace is on the member, out of sight: as on one cluster, the Tenant's own id is
  // deregistered (two Tenants with one id are refused at placement, SPEC §10.2).
  const deregistration = await deregisterFromAuth({ t, resolved: r, idOwnedElsewhere: false, services, log });

  const waitFrom = Math.max(
    deletedAt,
    input.unreachableSince ? new Date(input.unreachableSince).getTime() : deletedAt,
  );
  const deadline = waitFrom + input.cleanupTimeoutMs;
  const remaining = deadline - now.getTime();
  if (remaining > 0 || deregistration.state === 'failing') {
    const waitingOn = `member cluster ${clusterName} cannot be reached (${input.why}); waiting for it until ${iso(new Date(deadline))} (--member-cleanup-timeout), then its namespace is left to the member's status.pendingCleanup`;
    await publishStatus(
      home,
      services.events,
      t,
      terminatingStatus(t.status, deregistration, waitingOn, now),
    );
    return { requeueAfterMs: Math.max(1, Math.min(remaining > 0 ? remaining : RECHECK_MS, RECHECK_MS)) };
  }

  const namespace = r?.namespace;
  if (namespace && t.metadata.uid) {
    await input.deferCleanup({ tenant: t.metadata.name, uid: t.metadata.uid, namespace, since: iso(now) });
  }
  await tenantEvent(
    services.events,
    t,
    'Warning',
    'MemberCleanupDeferred',
    `Member cluster ${clusterName} did not answer within ${Math.round(input.cleanupTimeoutMs / 1000)} s (--member-cleanup-timeout); namespace ${namespace ?? '(unknown)'} is recorded in its status.pendingCleanup and deleted when it answers again`,
  );
  await home.setTenantFinalizers(
    t.metadata.name,
    finalizers.filter((f) => f !== FINALIZER),
    t.metadata.resourceVersion ?? '',
  );
  services.metrics.tenantDeleted();
  log.info({ cluster: clusterName }, 'tenant deleted; its namespace is left to the member pending cleanup');
  return {};
}
