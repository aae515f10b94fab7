/**
 * `render(tenant)`: every object one Tenant becomes (SPEC §2), in apply order. Pure and
 * deterministic; the offline `render` command and the controller both call it.
 */
import { type ResolvedTenant, resolveTenant } from '../api/resolve.ts';
import type { Tenant } from '../api/tenant.ts';
import { withDesiredHash } from './desired-hash.ts';
import { renderLimitRange } from './limits.ts';
import type { RenderedObject } from './meta.ts';
import { renderNamespace } from './namespace.ts';
import { renderNetworkPolicies } from './network-policies.ts';
import { renderResourceQuota } from './quota.ts';
import { renderRbac } from './rbac.ts';
import { renderRedis } from './redis.ts';
import { renderServer } from './server.ts';

/** Stands in for the Redis password wherever no real one is at hand (offline rendering). */
export const REDIS_PASSWORD_PLACEHOLDER = 'generated-when-the-secret-is-created';

export interface RenderOptions {
  /** Base URL of the Auth service, passed to the server as AUTH_URL. */
  authUrl: string;
  /** Password for a Secret being created now; the Secret is never rewritten afterwards. */
  redisPassword?: string;
}

export function render(tenant: Tenant | ResolvedTenant, options: RenderOptions): RenderedObject[] {
  const t = 'apiVersion' in tenant ? resolveTenant(tenant) : tenant;
  const objects = [
    renderNamespace(t),
    renderResourceQuota(t),
    renderLimitRange(t),
    ...renderRbac(t),
    ...renderNetworkPolicies(t),
    ...renderRedis(t, { redisPassword: options.redisPassword ?? REDIS_PASSWORD_PLACEHOLDER }),
    ...renderServer(t, { authUrl: options.authUrl }),
  ];
  return objects.map(withDesiredHash);
}
