/**
 * Rules that hold only once defaults are applied, so neither the CRD schema nor `validate` can
 * check them: a request the user set against a limit the defaults supply, or the other way round.
 * The reconciler reports them as `InvalidSpec` before writing anything, instead of the API server
 * refusing the Deployment or StatefulSet later.
 */
import { parseQuantity } from './quantity.ts';
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

/** What is wrong with a resolved tenant; empty when it can be rendered and applied. */
export function resolvedProblems(t: ResolvedTenant): string[] {
  return [
    ...requestsWithinLimits('spec.server.resources', t.server.resources),
    ...requestsWithinLimits('spec.redis.resources', t.redis.resources),
  ];
}
