/**
 * The status a probe result gives a MemberCluster, and whether it differs from what is stored. A
 * probe that finds nothing new writes nothing: `lastProbeTime` is the time of the probe that last
 * changed the status, so an idle fleet of members costs no writes (docs/design.md).
 */
import type { MemberClusterStatus } from '../api/member-cluster.ts';
import type { Condition } from '../api/status.ts';
import type { MemberHealth } from './probe.ts';

export interface MemberStatusInput {
  current: MemberClusterStatus | undefined;
  health: MemberHealth;
  generation: number | undefined;
  /** Tenants placed on the member, when counted. */
  tenants?: number;
  /** RFC 3339, without fractions. */
  now: string;
}

function readyCondition(health: MemberHealth): Pick<Condition, 'type' | 'status' | 'reason' | 'message'> {
  if (health.ready) {
    return {
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: `reachable, ready and granting the operator its permissions (${health.version})`,
    };
  }
  return { type: 'Ready', status: 'False', reason: health.reason, message: health.message };
}

/** The merge patch of `/status` to write, or undefined when the stored status already says it. */
export function memberStatusPatch(input: MemberStatusInput): MemberClusterStatus | undefined {
  const { current, health, generation, now } = input;
  const tenants = input.tenants ?? current?.tenants;
  const wanted = readyCondition(health);
  const stored = current?.conditions?.find((c) => c.type === 'Ready');
  const version = health.ready ? health.version : current?.kubernetesVersion;
  const same =
    stored !== undefined &&
    stored.status === wanted.status &&
    stored.reason === wanted.reason &&
    stored.message === wanted.message &&
    stored.observedGeneration === generation &&
    current?.kubernetesVersion === version &&
    current?.tenants === tenants &&
    current?.observedGeneration === generation;
  if (same) return undefined;
  const condition: Condition = {
    ...wanted,
    lastTransitionTime: stored && stored.status === wanted.status ? stored.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(version !== undefined ? { kubernetesVersion: version } : {}),
    ...(tenants !== undefined ? { tenants } : {}),
    lastProbeTime: now,
    conditions: [...(current?.conditions ?? []).filter((c) => c.type !== 'Ready'), condition],
  };
}

export function isMemberReady(status: MemberClusterStatus | undefined): boolean {
  return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}
