/**
 * `tenant-operator cluster join` and `leave` (SPEC §10.5), as `argocd cluster add` or `karmadactl
 * join` work: config/member/ is applied to the member with the user's own credentials there, the
 * member's token controller mints a long-lived token for the member ServiceAccount, and a
 * self-contained kubeconfig with that token goes into a Secret of the management cluster beside
 * the MemberCluster that names it. Every write is a server-side apply, so joining again refreshes
 * the credential and changes nothing else.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { DEFAULT_KUBECONFIG_KEY, type MemberCluster, memberCluster } from '../api/member-cluster.ts';
import { labelMap } from '../api/kube-shapes.ts';
import { formatIssue, formatPath } from '../api/validate.ts';
import type { KubeTls } from '../kube/connection.ts';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { type KubeRest, isConflict } from '../kube/rest.ts';
import { TENANT_TYPE, collectionPath } from '../kube/resources.ts';
import { joinedKey, managementIdentity, markJoined, unmarkJoined } from './joined-marks.ts';
import {
  MEMBER_NAMESPACE,
  MEMBER_SERVICE_ACCOUNT,
  MEMBER_TOKEN_SECRET,
  memberManifests,
} from './member-manifests.ts';

/** Marks the kubeconfig Secret `cluster join` wrote, so `leave` deletes only that one. */
export const LABEL_MEMBER_CLUSTER = 'neurallog.io/member-cluster';

export class JoinError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JoinError';
  }
}

export interface MemberSide {
  writer: KubeWriter;
  /** The member's API server as the operator will reach it, and the TLS settings to trust it. */
  server: string;
  tls: KubeTls;
}

export interface JoinOptions {
  name: string;
  maxTenants?: number;
  labels: Record<string, string>;
  operatorNamespace: string;
  /** The management cluster's API server URL (its identity when its kube-system namespace cannot be read). */
  managementServer: string;
  tokenTimeoutMs: number;
  log(line: string): void;
}

const MEMBER_LABELS = labelMap('Labels of the MemberCluster.');

export const kubeconfigSecretName = (member: string) => `${member}-kubeconfig`;

/** The MemberCluster `join` writes, checked against the API's own schema first. */
export function memberClusterFor(options: JoinOptions): MemberCluster {
  const mc = {
    apiVersion: 'neurallog.io/v1',
    kind: 'MemberCluster',
    metadata: {
      name: options.name,
      ...(Object.keys(options.labels).length > 0 ? { labels: options.labels } : {}),
    },
    spec: {
      kubeconfigSecretRef: { name: kubeconfigSecretName(options.name), namespace: options.operatorNamespace },
      ...(options.maxTenants !== undefined ? { maxTenants: options.maxTenants } : {}),
    },
  };
  const parsed = memberCluster.safeParse(mc);
  const labels = MEMBER_LABELS.safeParse(options.labels);
  const nameOk = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.name) && options.name.length <= 63;
  const issues = [
    ...(nameOk
      ? []
      : [
          {
            path: 'NAME',
            message:
              'must be 1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit',
          },
        ]),
    ...(parsed.success
      ? []
      : parsed.error.issues
          .map((i) => ({ path: formatPath(i.path), message: i.message }))
          // A bad NAME is said once, not again for the names made from it.
          .filter((i) => nameOk || !['metadata.name', 'spec.kubeconfigSecretRef.name'].includes(i.path))),
    ...(labels.success
      ? []
      : labels.error.issues.map((i) => ({ path: `--label ${formatPath(i.path)}`, message: i.message }))),
  ];
  if (issues.length > 0) {
    throw new JoinError(
      `cannot join ${options.name}:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
    );
  }
  return parsed.data!;
}

const SERVICE_ACCOUNT_UID = 'kubernetes.io/service-account.uid';

/**
 * The token the member's token controller put into the token Secret for the ServiceAccount as it
 * is now. Right after a `leave`, the ServiceAccount is new while the controller may still fill the
 * Secret for the one just deleted (its cache is behind) and then remove it: a token is taken only
 * from a Secret that names the current ServiceAccount's uid, and a Secret made for another one is
 * made again.
 */
async function memberToken(
  member: MemberSide,
  tokenSecret: KubeObject,
  options: JoinOptions,
): Promise<string> {
  const ref = { kind: 'Secret', name: MEMBER_TOKEN_SECRET, namespace: MEMBER_NAMESPACE };
  const deadline = Date.now() + options.tokenTimeoutMs;
  for (;;) {
    const account = await member.writer.get({
      kind: 'ServiceAccount',
      name: MEMBER_SERVICE_ACCOUNT,
      namespace: MEMBER_NAMESPACE,
    });
    const secret = await member.writer.get<KubeObject & { data?: Record<string, string> }>(ref);
    const forUid = secret?.metadata.annotations?.[SERVICE_ACCOUNT_UID];
    const token = secret?.data?.token;
    if (token && account?.metadata.uid && forUid === account.metadata.uid)
      return Buffer.from(token, 'base64').toString('utf8');
    if (!secret) {
      await member.writer.apply(tokenSecret);
    } else if (forUid && account?.metadata.uid && forUid !== account.metadata.uid) {
      await member.writer.delete(ref, secret.metadata.uid ? { uid: secret.metadata.uid } : {});
      await member.writer.apply(tokenSecret);
    }
    if (Date.now() > deadline) {
      throw new JoinError(
        `the member's token controller did not fill Secret ${MEMBER_NAMESPACE}/${MEMBER_TOKEN_SECRET} for ServiceAccount ${MEMBER_NAMESPACE}/${MEMBER_SERVICE_ACCOUNT} within ${options.tokenTimeoutMs / 1000} s: is kube-controller-manager running there (with --service-account-private-key-file)?`,
      );
    }
    await sleep(250);
  }
}

/** A kubeconfig that needs nothing but itself: inline CA, a bearer token (design.md, "Kubeconfigs from Secrets"). */
export function memberKubeconfig(
  name: string,
  member: Pick<MemberSide, 'server' | 'tls'>,
  token: string,
): string {
  const cluster: Record<string, unknown> = { server: member.server };
  if (member.tls.ca) cluster['certificate-authority-data'] = Buffer.from(member.tls.ca).toString('base64');
  if (member.tls.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  if (member.tls.serverName) cluster['tls-server-name'] = member.tls.serverName;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name: MEMBER_SERVICE_ACCOUNT, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: MEMBER_SERVICE_ACCOUNT } }],
    'current-context': name,
  });
}

export async function joinMember(
  member: MemberSide,
  management: { writer: KubeWriter },
  options: JoinOptions,
) {
  const mc = memberClusterFor(options);
  const manifests = await memberManifests();
  for (const obj of manifests) {
    await member.writer.apply(obj);
    options.log(
      `member ${options.name}: applied ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`,
    );
  }
  const managementId = await managementIdentity(management.writer, options.managementServer);
  await markJoined(
    member.writer,
    joinedKey(managementId, options.name),
    `MemberCluster ${options.name} of management cluster ${managementId}`,
  );
  const tokenSecret = manifests.find((o) => o.kind === 'Secret' && o.metadata.name === MEMBER_TOKEN_SECRET);
  if (!tokenSecret)
    throw new JoinError(
      `config/member/ has no Secret ${MEMBER_TOKEN_SECRET}: reinstall the operator's files`,
    );
  const token = await memberToken(member, tokenSecret, options);
  options.log(
    `member ${options.name}: read the token of ServiceAccount ${MEMBER_NAMESPACE}/${MEMBER_SERVICE_ACCOUNT}`,
  );
  const secretName = kubeconfigSecretName(options.name);
  await management.writer.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: secretName,
      namespace: options.operatorNamespace,
      labels: { 'app.kubernetes.io/part-of': 'neurallog', [LABEL_MEMBER_CLUSTER]: options.name },
    },
    data: {
      [DEFAULT_KUBECONFIG_KEY]: Buffer.from(memberKubeconfig(options.name, member, token)).toString('base64'),
    },
  } as KubeObject);
  options.log(`management: wrote Secret ${options.operatorNamespace}/${secretName}`);
  await management.writer.apply(mc as KubeObject);
  options.log(
    `management: wrote MemberCluster ${options.name}; \`kubectl get membercluster ${options.name}\` shows it Ready once the operator has probed it`,
  );
}

export interface LeaveOptions {
  name: string;
  /** How long to wait for the operator to release the MemberCluster. Default 60 s. */
  releaseTimeoutMs?: number;
  operatorNamespace: string;
  /** As for join: the management cluster's API server URL. */
  managementServer: string;
  log(line: string): void;
}

/**
 * Undoes `join` when no Tenant is placed on the member: the MemberCluster, the kubeconfig Secret
 * `join` wrote (never another one), and — given the member — its ServiceAccount, token and
 * binding, unless another join still uses them (joined-marks.ts). The Namespace and the
 * ClusterRole stay: the member may be the management cluster itself, where both belong to the
 * running operator.
 */
export async function leaveMember(
  management: { rest: KubeRest; writer: KubeWriter },
  member: { writer: KubeWriter } | undefined,
  options: LeaveOptions,
) {
  const { name } = options;
  const mc = await management.writer.get<KubeObject & Pick<MemberCluster, 'spec'>>({
    kind: 'MemberCluster',
    name,
  });
  const tenants = await management.rest.request<{
    items?: Array<KubeObject & { status?: { placement?: { clusterName?: string } } }>;
  }>('GET', collectionPath(TENANT_TYPE));
  const placed = (tenants.items ?? [])
    .filter((t) => t.status?.placement?.clusterName === name)
    .map((t) => t.metadata.name);
  if (placed.length > 0) {
    throw new JoinError(
      `${placed.length} tenant${placed.length === 1 ? ' is' : 's are'} placed on ${name} (${placed.slice(0, 10).join(', ')}${placed.length > 10 ? ', ...' : ''}): delete ${placed.length === 1 ? 'it' : 'them'} first; moving a tenant with its data to another member is not offered`,
    );
  }
  if (mc) {
    await management.writer.delete(
      { kind: 'MemberCluster', name },
      { ...(mc.metadata.uid ? { uid: mc.metadata.uid } : {}) },
    );
    // The operator's finalizer goes once no tenant is placed there: wait for it, within reason.
    const deadline = Date.now() + (options.releaseTimeoutMs ?? 60_000);
    while (await management.writer.get({ kind: 'MemberCluster', name })) {
      if (Date.now() > deadline) {
        throw new JoinError(
          `MemberCluster ${name} is being deleted but was not released within ${Math.round((options.releaseTimeoutMs ?? 60_000) / 1000)} s: the operator releases it once no tenant is placed there and no cleanup is pending (is the operator running? see kubectl describe membercluster ${name})`,
        );
      }
      await sleep(500);
    }
    options.log(`management: deleted MemberCluster ${name}`);
  } else {
    options.log(`management: no MemberCluster ${name}`);
  }
  const secretName = mc?.spec?.kubeconfigSecretRef?.name ?? kubeconfigSecretName(name);
  const secretNamespace = mc?.spec?.kubeconfigSecretRef?.namespace ?? options.operatorNamespace;
  const secret = await management.writer.get(
    { kind: 'Secret', name: secretName, namespace: secretNamespace },
    { metadataOnly: true },
  );
  if (secret && secret.metadata.labels?.[LABEL_MEMBER_CLUSTER] === name) {
    await management.writer.delete(
      { kind: 'Secret', name: secretName, namespace: secretNamespace },
      { ...(secret.metadata.uid ? { uid: secret.metadata.uid } : {}) },
    );
    options.log(`management: deleted Secret ${secretNamespace}/${secretName}`);
  } else if (secret) {
    options.log(`management: kept Secret ${secretNamespace}/${secretName} (cluster join did not write it)`);
  }
  if (!member) {
    options.log(
      `member ${name}: not touched (pass --kubeconfig-of-member to remove its ServiceAccount, token and binding)`,
    );
    return;
  }
  const managementId = await managementIdentity(management.writer, options.managementServer);
  const { others, account } = await unmarkJoined(member.writer, joinedKey(managementId, name));
  if (others.length > 0) {
    options.log(
      `member ${name}: kept ServiceAccount ${MEMBER_NAMESPACE}/${MEMBER_SERVICE_ACCOUNT}, its token and binding: still used by ${others.join('; ')}`,
    );
    return;
  }
  // The ServiceAccount first, only as this leave left it: a join that marked it meanwhile keeps it.
  const objects = (await memberManifests())
    .filter((o) => o.kind !== 'Namespace' && o.kind !== 'ClusterRole')
    .sort((a, b) => Number(b.kind === 'ServiceAccount') - Number(a.kind === 'ServiceAccount'));
  for (const obj of objects) {
    const isAccount = obj.kind === 'ServiceAccount';
    try {
      await member.writer.delete(
        {
          kind: obj.kind,
          name: obj.metadata.name,
          ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        },
        isAccount && account
          ? {
              ...(account.uid ? { uid: account.uid } : {}),
              ...(account.resourceVersion ? { unchangedSince: account.resourceVersion } : {}),
            }
          : {},
      );
    } catch (error) {
      if (!isAccount || !isConflict(error)) throw error;
      throw new JoinError(
        `member ${name}: ServiceAccount ${MEMBER_NAMESPACE}/${MEMBER_SERVICE_ACCOUNT} changed while leaving (another join?); it and its token and binding were kept: run leave again if no other MemberCluster uses this member`,
        { cause: error },
      );
    }
    options.log(
      `member ${name}: deleted ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`,
    );
  }
}
