/**
 * One health probe of a member cluster (SPEC §10.1): does its API server answer and say it is ready
 * (`/readyz`), which version is it (`/version`), and — when asked — does it grant the operator the
 * permissions it needs there (one SelfSubjectAccessReview per permission, sent together). Every
 * request has the member's own deadline, so a member that does not answer costs one timeout.
 */
import type { MemberNotReadyReason } from '../api/member-cluster.ts';
import { CHILD_TYPES } from '../kube/resources.ts';
import { KubeApiError, KubeConnectionError, type KubeRest } from '../kube/rest.ts';

export type MemberHealth =
  { ready: true; version: string } | { ready: false; reason: MemberNotReadyReason; message: string };

export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/**
 * What the operator must be able to do on a member: one write of each kind it makes, and list and
 * watch of every kind its caches hold there (without those the caches never load, and the
 * member's tenants would wait with no word of why). Not every rule of the ClusterRole, so that a
 * probe stays cheap; a rule missing beyond these shows as a 403 on the tenant that needs it.
 */
export const REQUIRED_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'namespaces', verb: 'create' },
  { group: '', resource: 'namespaces', verb: 'delete' },
  { group: '', resource: 'secrets', verb: 'create' },
  { group: '', resource: 'resourcequotas', verb: 'patch' },
  { group: 'rbac.authorization.k8s.io', resource: 'roles', verb: 'create' },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verb: 'patch' },
  { group: 'apps', resource: 'statefulsets', verb: 'patch' },
  { group: 'apps', resource: 'deployments', verb: 'patch' },
  ...CHILD_TYPES.flatMap((t) =>
    (['list', 'watch'] as const).map((verb) => ({ group: groupOf(t.apiVersion), resource: t.plural, verb })),
  ),
];

const SSAR_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

export interface ProbeOptions {
  /** Name of the member, for messages. */
  member: string;
  /** Also verify REQUIRED_PERMISSIONS (costs one request each). */
  checkPermissions: boolean;
  /** Deadline of the `/readyz` request (the others use the client's own). */
  timeoutMs: number;
}

/** `create, delete namespaces; patch deployments.apps`: the verbs missing, by resource. */
function describeMissing(missing: readonly Permission[]): string {
  const byResource = new Map<string, string[]>();
  for (const p of missing) {
    const resource = `${p.resource}${p.group ? `.${p.group}` : ''}`;
    byResource.set(resource, [...(byResource.get(resource) ?? []), p.verb]);
  }
  return [...byResource].map(([resource, verbs]) => `${verbs.join(', ')} ${resource}`).join('; ');
}

function failed(error: unknown, options: ProbeOptions): MemberHealth {
  if (error instanceof KubeConnectionError || (error instanceof Error && error.name === 'TimeoutError')) {
    return {
      ready: false,
      reason: 'Unreachable',
      message: `${options.member} does not answer: ${error.message}`,
    };
  }
  if (error instanceof KubeApiError && error.status === 401) {
    return {
      ready: false,
      reason: 'Unauthorized',
      message: `${options.member} refused the credential of its kubeconfig Secret (401): replace the token or certificate in the Secret (tenant-operator cluster join writes a fresh one)`,
    };
  }
  if (error instanceof KubeApiError && error.status === 403) {
    return {
      ready: false,
      reason: 'Forbidden',
      message: `${options.member} refused the probe (403 on ${error.path}): apply config/member/ there`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { ready: false, reason: 'Unreachable', message: `${options.member} is not usable: ${message}` };
}

async function readyz(rest: KubeRest, options: ProbeOptions): Promise<void> {
  const response = await rest.send('/readyz', { signal: AbortSignal.timeout(options.timeoutMs) });
  const body = (await response.text()).trim();
  if (response.status === 200) return;
  throw new KubeApiError({
    method: 'GET',
    path: '/readyz',
    status: response.status,
    body: { message: body.slice(0, 300) || `HTTP ${response.status}` },
  });
}

async function missingPermissions(rest: KubeRest): Promise<Permission[]> {
  const answers = await Promise.all(
    REQUIRED_PERMISSIONS.map(async (p) => {
      const review = await rest.request<{ status?: { allowed?: boolean } }>('POST', SSAR_PATH, {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { group: p.group, resource: p.resource, verb: p.verb } },
        },
      });
      return review.status?.allowed === true ? undefined : p;
    }),
  );
  return answers.filter((p): p is Permission => p !== undefined);
}

export async function probeMember(rest: KubeRest, options: ProbeOptions): Promise<MemberHealth> {
  try {
    await readyz(rest, options);
    const version = await rest.request<{ gitVersion?: string }>('GET', '/version');
    if (options.checkPermissions) {
      const missing = await missingPermissions(rest);
      if (missing.length > 0) {
        return {
          ready: false,
          reason: 'Forbidden',
          message: `the operator's identity on ${options.member} cannot ${describeMissing(missing)}: apply config/member/ there (tenant-operator cluster join does)`,
        };
      }
    }
    return { ready: true, version: version.gitVersion ?? 'unknown' };
  } catch (error) {
    return failed(error, options);
  }
}
