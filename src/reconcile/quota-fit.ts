/**
 * Would the tenant's own server and Redis fit its ResourceQuota? Answered up front so a
 * too-small quota is reported as `QuotaTooSmall` instead of pods silently failing to appear.
 */
import { parseQuantity } from '../api/quantity.ts';
import type { ResolvedTenant } from '../api/resolve.ts';

/** The rolling update adds one extra server pod while it runs (maxSurge 1). */
const SURGE = 1;

export function quotaProblem(t: ResolvedTenant): string | undefined {
  const serverPods = t.server.replicas > 0 ? t.server.replicas + SURGE : 0;
  const redisPods = t.redis.replicas;
  const need: Array<[key: string, amount: number, shown: (n: number) => string]> = [
    [
      'requests.cpu',
      serverPods * parseQuantity(t.server.resources.requests.cpu) +
        redisPods * parseQuantity(t.redis.resources.requests.cpu),
      cpu,
    ],
    [
      'limits.cpu',
      serverPods * parseQuantity(t.server.resources.limits.cpu) +
        redisPods * parseQuantity(t.redis.resources.limits.cpu),
      cpu,
    ],
    [
      'requests.memory',
      serverPods * parseQuantity(t.server.resources.requests.memory) +
        redisPods * parseQuantity(t.redis.resources.requests.memory),
      bytes,
    ],
    [
      'limits.memory',
      serverPods * parseQuantity(t.server.resources.limits.memory) +
        redisPods * parseQuantity(t.redis.resources.limits.memory),
      bytes,
    ],
    ['requests.storage', redisPods * parseQuantity(t.redis.storage), bytes],
    ['pods', serverPods + redisPods, String],
    ['persistentvolumeclaims', redisPods, String],
    ['services', 2, String],
  ];
  const problems: string[] = [];
  for (const [key, amount, shown] of need) {
    const hard = t.quota[key as keyof typeof t.quota];
    if (hard === undefined) continue;
    const limit = parseQuantity(hard);
    if (amount > limit + 1e-9) problems.push(`${key} needs ${shown(amount)} but the quota allows ${hard}`);
  }
  if (problems.length === 0) return undefined;
  return `The tenant's own server and Redis do not fit its ResourceQuota (plan ${t.plan}): ${problems.join('; ')}. Raise spec.resources, choose a larger spec.planId, or lower the replicas or resources`;
}

function cpu(n: number): string {
  return Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`;
}

function bytes(n: number): string {
  const units: Array<[string, number]> = [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ];
  for (const [unit, size] of units) if (n >= size && Number.isInteger(n / size)) return `${n / size}${unit}`;
  return String(n);
}
