/**
 * The Auth service steps: registration (SPEC §5) once, remembered in status (a registered tenant
 * makes no further calls), and deregistration when the Tenant is deleted (SPEC §6), described in
 * words that stay the same while the cause does.
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import type { TenantStatus } from '../api/status.ts';
import { AuthServiceError, AuthServiceRejectedError } from '../auth/errors.ts';
import type { KubeWriter } from '../kube/objects.ts';
import { FINALIZER } from '../render/meta.ts';
import type { Logger } from 'pino';
import type { AuthPort, ReconcileServices, TenantObject } from './ports.ts';
import { tenantEvent } from './publish.ts';
import { type AuthState, authStateFromStatus } from './status.ts';

/** The failure in words stable for the same cause (no body excerpts). */
export function authFailure(error: unknown): string {
  if (error instanceof AuthServiceError) return error.summary;
  return error instanceof Error ? error.message : String(error);
}

/** Whether registering would call the Auth service: enabled, and not yet registered by status. */
export function registrationDue(r: ResolvedTenant, status: TenantStatus | undefined): boolean {
  return r.authEnabled && authStateFromStatus(status)?.state !== 'registered';
}

export async function registerWithAuth(
  auth: AuthPort,
  r: ResolvedTenant,
  status: TenantStatus | undefined,
): Promise<AuthState> {
  if (!r.authEnabled) return { state: 'disabled' };
  if (!registrationDue(r, status)) return { state: 'registered' };
  try {
    await auth.register(r.id);
    return { state: 'registered' };
  } catch (error) {
    const message = `Registration with the Auth service failed: ${authFailure(error)}`;
    return error instanceof AuthServiceRejectedError
      ? { state: 'rejected', message }
      : { state: 'unavailable', message };
  }
}

/** Where deregistration stands while a Tenant is deleted. */
export type Deregistration =
  | { state: 'pending' }
  | { state: 'deregistered' }
  | { state: 'gaveUp' }
  /** It failed; the deletion waits for it `retryInMs` more at most (--auth-deregister-timeout). */
  | { state: 'failing'; message: string; retryInMs: number };

export const DEREGISTRATION_GAVE_UP = 'DeregistrationTimedOut';
const DEREGISTER_RETRY_MS = 15_000;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface DeregistrationInput {
  t: TenantObject;
  /** Undefined when the spec cannot be read any more: there is no id to deregister. */
  resolved: ResolvedTenant | undefined;
  /** The id is someone else's too (their namespace): deregistering it would cut them off. */
  idOwnedElsewhere: boolean;
  services: Pick<ReconcileServices, 'auth' | 'events' | 'now' | 'authDeregisterTimeoutMs'>;
  log: Logger;
}

/**
 * Deregisters a Tenant being deleted (SPEC §6), once: what status already says (deregistered, or
 * given up) is not tried again. A failure is retried until `--auth-deregister-timeout` after the
 * deletion; past it the deletion goes on with a Warning `AuthDeregistrationTimedOut` and the state
 * `gaveUp`, which status keeps, so the Warning is sent once.
 */
export async function deregisterFromAuth(input: DeregistrationInput): Promise<Deregistration> {
  const { t, resolved: r, services, log } = input;
  const condition = t.status?.conditions?.find((c) => c.type === 'AuthRegistered');
  if (condition?.reason === DEREGISTRATION_GAVE_UP) return { state: 'gaveUp' };
  if (authStateFromStatus(t.status)?.state === 'deregistered' || r?.authEnabled === false)
    return { state: 'deregistered' };
  // No readable spec (no id), or the id is someone else's: nothing is called, nothing claimed.
  if (!r || input.idOwnedElsewhere) return { state: 'pending' };
  try {
    await services.auth.deregister(r.id);
    log.info({ tenantId: r.id }, 'deregistered from the Auth service');
    return { state: 'deregistered' };
  } catch (error) {
    const now = services.now();
    const deletedAt = new Date(t.metadata.deletionTimestamp ?? now.toISOString()).getTime();
    const deadline = deletedAt + services.authDeregisterTimeoutMs;
    const remaining = deadline - now.getTime();
    if (remaining > 0) {
      log.warn({ err: error }, 'deregistration failed; will retry');
      return {
        state: 'failing',
        message: `Deregistration from the Auth service failed: ${authFailure(error)}; deletion waits for it until ${iso(new Date(deadline))} (--auth-deregister-timeout)`,
        retryInMs: Math.min(remaining, DEREGISTER_RETRY_MS),
      };
    }
    await tenantEvent(
      services.events,
      t,
      'Warning',
      'AuthDeregistrationTimedOut',
      `Gave up deregistering from the Auth service after ${Math.round(services.authDeregisterTimeoutMs / 1000)} s (${authFailure(error)}); deleting anyway. Remove tenant ${r.id} from the Auth service by hand`,
    );
    return { state: 'gaveUp' };
  }
}

/**
 * Registering is safe only while the API server holds this very Tenant (same uid), not being
 * deleted, with our finalizer: then its deletion cannot finish without deregistering. The cache
 * can be behind a deletion (a Tenant created and deleted at once, seen by a process that just
 * started), and registering from it would leave the id registered with nobody to remove it.
 */
async function stillOursToRegister(home: Pick<KubeWriter, 'get'>, t: TenantObject): Promise<boolean> {
  const live = await home.get({ kind: 'Tenant', name: t.metadata.name });
  return (
    live !== undefined &&
    live.metadata.uid === t.metadata.uid &&
    !live.metadata.deletionTimestamp &&
    (live.metadata.finalizers ?? []).includes(FINALIZER)
  );
}

export interface AuthStepInput {
  t: TenantObject;
  r: ResolvedTenant;
  /** The tenant namespace is someone else's: then so is the id, and it is not ours to register. */
  idOwnedElsewhere: boolean;
  /** The finalizer was just confirmed by the API server (no need to read the Tenant again). */
  finalizerConfirmed: boolean;
  home: Pick<KubeWriter, 'get'>;
  auth: AuthPort;
  log: Logger;
}

/** The Auth state of a live Tenant, registering it when due; undefined when the cached Tenant is stale. */
export async function authStep(input: AuthStepInput): Promise<AuthState | undefined> {
  const { t, r, log } = input;
  if (input.idOwnedElsewhere)
    return r.authEnabled ? (authStateFromStatus(t.status) ?? { state: 'pending' }) : { state: 'disabled' };
  const registering = registrationDue(r, t.status);
  if (registering && !input.finalizerConfirmed && !(await stillOursToRegister(input.home, t))) {
    // The watch brings the deletion (or the new Tenant of this name); nothing is written before.
    log.debug('the Tenant changed since it was cached; waiting for the watch before registering');
    return undefined;
  }
  const auth = await registerWithAuth(input.auth, r, t.status);
  if (registering && auth.state === 'registered')
    log.info({ tenantId: r.id }, 'registered with the Auth service');
  return auth;
}
