/**
 * Pod-level pieces shared by the Redis and server workloads: security contexts meeting the Pod
 * Security Standards "restricted" profile, which the tenant namespace enforces
 * (`pod-security.kubernetes.io/enforce: restricted`, SPEC §2 and §2.5), and the pod template's
 * labels and placement.
 */
import type { ResolvedPlacement, ResolvedTenant } from '../api/resolve.ts';
import { tenantLabels } from './meta.ts';

/** uid/gid of the `redis` user in the official Redis images. */
export const REDIS_UID = 999;
/** uid/gid the NeuralLog server runs as (the `node` user of the Node.js images). */
export const SERVER_UID = 1000;

export interface PodSecurityContext {
  runAsNonRoot: true;
  runAsUser: number;
  runAsGroup: number;
  fsGroup: number;
  fsGroupChangePolicy: 'OnRootMismatch';
  seccompProfile: { type: 'RuntimeDefault' };
}

export interface ContainerSecurityContext {
  allowPrivilegeEscalation: false;
  capabilities: { drop: ['ALL'] };
  readOnlyRootFilesystem: true;
  runAsNonRoot: true;
}

/**
 * Pod-level context: a fixed non-root uid/gid, volumes group-owned by the same gid (ownership is
 * only changed when the volume root does not match yet, so large volumes mount quickly) and the
 * runtime's default seccomp profile.
 */
export function restrictedPodSecurityContext(uid: number): PodSecurityContext {
  if (!Number.isInteger(uid) || uid <= 0)
    throw new RangeError(`a restricted pod needs a non-root uid, got ${uid}`);
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level context: no privilege escalation, no capabilities, read-only root filesystem. */
export function restrictedContainerSecurityContext(): ContainerSecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
  };
}

/** Pod template labels: the user's podLabels, with the operator's labels winning. */
export function podTemplateLabels(
  t: ResolvedTenant,
  component: 'redis' | 'server',
  placement: ResolvedPlacement,
): Record<string, string> {
  return { ...placement.podLabels, ...tenantLabels(t, component) };
}

/** Pod template annotations: the user's podAnnotations plus the operator's (which win); undefined when none. */
export function podTemplateAnnotations(
  placement: ResolvedPlacement,
  ours: Record<string, string> = {},
): Record<string, string> | undefined {
  const annotations = { ...placement.podAnnotations, ...ours };
  return Object.keys(annotations).length > 0 ? annotations : undefined;
}

/** nodeSelector, tolerations and affinity, copied (not shared) when set and not empty (the API server drops empties). */
export function podPlacement(placement: ResolvedPlacement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (placement.nodeSelector && Object.keys(placement.nodeSelector).length > 0)
    out.nodeSelector = structuredClone(placement.nodeSelector);
  if (placement.tolerations && placement.tolerations.length > 0)
    out.tolerations = structuredClone(placement.tolerations);
  if (placement.affinity && Object.keys(placement.affinity).length > 0)
    out.affinity = structuredClone(placement.affinity);
  return out;
}

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Ways a pod spec breaks the "restricted" Pod Security Standard (empty when it complies). Covers
 * the checks relevant to what the operator renders: host namespaces, privileged containers,
 * capabilities, privilege escalation, non-root, seccomp, volume types and host ports. Used by
 * tests and by anyone wanting to check a rendered workload offline.
 */
export function restrictedProfileViolations(podSpec: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (podSpec[host] === true) problems.push(`${host} must not be true`);
  }
  const pod = isRecord(podSpec.securityContext) ? podSpec.securityContext : {};
  const podSeccomp = isRecord(pod.seccompProfile) ? pod.seccompProfile.type : undefined;
  if (pod.runAsUser === 0) problems.push('securityContext.runAsUser must not be 0');
  for (const volume of Array.isArray(podSpec.volumes) ? podSpec.volumes : []) {
    const v = isRecord(volume) ? volume : {};
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(type))
        problems.push(`volume ${String(v.name)}: type ${type} is not allowed`);
    }
  }
  const containers = [
    ...(Array.isArray(podSpec.initContainers) ? podSpec.initContainers : []),
    ...(Array.isArray(podSpec.containers) ? podSpec.containers : []),
  ];
  for (const item of containers) {
    const c = isRecord(item) ? item : {};
    const where = `container ${String(c.name)}`;
    const sc = isRecord(c.securityContext) ? c.securityContext : {};
    if (sc.privileged === true) problems.push(`${where}: privileged must not be true`);
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation must be false`);
    const caps = isRecord(sc.capabilities) ? sc.capabilities : {};
    const drop = Array.isArray(caps.drop) ? caps.drop : [];
    if (!drop.includes('ALL')) problems.push(`${where}: capabilities.drop must include ALL`);
    const add = Array.isArray(caps.add) ? caps.add : [];
    for (const cap of add) {
      if (cap !== 'NET_BIND_SERVICE') problems.push(`${where}: capability ${String(cap)} must not be added`);
    }
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true) problems.push(`${where}: runAsNonRoot must be true`);
    if (sc.runAsUser === 0) problems.push(`${where}: runAsUser must not be 0`);
    const seccomp = isRecord(sc.seccompProfile) ? sc.seccompProfile.type : podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      problems.push(`${where}: seccompProfile.type must be RuntimeDefault or Localhost`);
    }
    for (const port of Array.isArray(c.ports) ? c.ports : []) {
      if (isRecord(port) && port.hostPort !== undefined && port.hostPort !== 0) {
        problems.push(`${where}: hostPort must not be set`);
      }
    }
  }
  return problems;
}
