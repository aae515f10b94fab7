/**
 * Rules the CRD schema cannot express for int-or-string quantities, or that hold only once
 * defaults are applied: a request against a limit the defaults supply, a volume of zero bytes.
 * The reconciler reports them as `InvalidSpec` before writing anything, instead of the API server
 * refusing the Deployment or StatefulSet later.
 */
import { parseQuantity, quantityToBytes } from './quantity.ts';
import type { ResolvedResources, ResolvedTenant } from './resolve.ts';

function requestsWithinLimits(field: string, resources: ResolvedResources): string[] {
  const problems: string[] = [];
  for (const kind of ['cpu', 'memory'] as const) {
    const request = resources.requests[kind];
    const limit = resources.limits[kind];
    if (parseQuantity(request) > parseQuantity(limit)) {
      problems.push(
        `${field}.${kind}: the request ${request} is more than the limit ${limit} (defaults applied); set both, or a request no larger than the limit`,
      );
    }
  }
  return problems;
}

/** A volume claim of zero bytes is refused by the API server. */
function storageAboveZero(t: ResolvedTenant): string[] {
  return quantityToBytes(t.redis.storage) > 0
    ? []
    : [`spec.redis.storage: ${t.redis.storage} is no size for a volume; give at least one byte, e.g. 1Gi`];
}

/** What is wrong with a resolved tenant; empty when it can be rendered and applied. */
export function resolvedProblems(t: ResolvedTenant): string[] {
  return [
    ...requestsWithinLimits('spec.server.resources', t.server.resources),
    ...requestsWithinLimits('spec.redis.resources', t.redis.resources),
    ...storageAboveZero(t),
  ];
}
