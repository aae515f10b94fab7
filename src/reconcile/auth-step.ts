/**
 * Registration with the Auth service (SPEC §5): once, remembered in status (a registered tenant
 * makes no further calls), described in words that stay the same while the cause does.
 */
import type { ResolvedTenant } from '../api/resolve.ts';
import type { TenantStatus } from '../api/status.ts';
import { AuthServiceError, AuthServiceRejectedError } from '../auth/errors.ts';
import type { AuthPort } from './ports.ts';
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
