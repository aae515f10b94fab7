/**
 * Where a new tenant goes (SPEC §10.2), as a pure function of the request and the members as they
 * are: candidates are `Ready`, not cordoned, not being deleted, match the pin or the selector, and
 * have fewer tenants than `maxTenants` (counting every decision already made, so two tenants
 * placed at once never overfill a member). The lowest fill ratio wins (a member without
 * `maxTenants` is never full: its ratio is 0), then the fewest tenants, then the name. When there
 * is no candidate, every member says why not.
 */
import { type LabelSelector, matchesSelector } from './selector.ts';

export interface MemberView {
  name: string;
  labels: Readonly<Record<string, string>>;
  ready: boolean;
  /** Why it is not ready (the reason of its Ready condition), when it is not. */
  notReadyReason?: string;
  unschedulable: boolean;
  /** Being deleted: it takes no new tenants. */
  deleting: boolean;
  maxTenants?: number;
  /** Tenants placed on it, decisions not yet visible in the caches included. */
  placed: number;
}

export interface PlacementRequest {
  clusterName?: string;
  clusterSelector?: LabelSelector;
}

export type PlacementDecision =
  { placed: true; clusterName: string; reason: string } | { placed: false; message: string };

/** Why `m` cannot take the tenant, or undefined when it can. */
function refusal(m: MemberView, request: PlacementRequest): string | undefined {
  if (request.clusterName !== undefined && request.clusterName !== m.name) return 'not the pinned cluster';
  if (request.clusterSelector && !matchesSelector(m.labels, request.clusterSelector))
    return 'labels do not match';
  if (m.deleting) return 'being deleted';
  if (!m.ready) return `not Ready (${m.notReadyReason ?? 'Unknown'})`;
  if (m.unschedulable) return 'cordoned (spec.unschedulable)';
  if (m.maxTenants !== undefined && m.placed >= m.maxTenants) return `full (${m.placed}/${m.maxTenants})`;
  return undefined;
}

const fill = (m: MemberView) => (m.maxTenants ? m.placed / m.maxTenants : 0);

export function place(request: PlacementRequest, members: readonly MemberView[]): PlacementDecision {
  const candidates = members.filter((m) => refusal(m, request) === undefined);
  if (candidates.length > 0) {
    const [best] = [...candidates].sort(
      (a, b) => fill(a) - fill(b) || a.placed - b.placed || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    const why =
      request.clusterName !== undefined
        ? 'pinned by spec.placement.clusterName'
        : `lowest fill of ${candidates.length} candidate${candidates.length === 1 ? '' : 's'} (${best!.placed}${best!.maxTenants ? `/${best!.maxTenants}` : ''} before this tenant)`;
    return { placed: true, clusterName: best!.name, reason: why };
  }
  const sorted = [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts = sorted.map((m) => `${m.name}: ${refusal(m, request)}`);
  if (request.clusterName !== undefined && !members.some((m) => m.name === request.clusterName))
    parts.unshift(`no MemberCluster named ${request.clusterName}`);
  return {
    placed: false,
    message: parts.length > 0 ? parts.join('; ') : 'no MemberCluster exists',
  };
}
