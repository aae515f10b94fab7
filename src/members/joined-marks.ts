/**
 * Who has joined a member cluster. Every `cluster join` shares the member's one ServiceAccount,
 * token and binding (config/member/), whether the same member is joined under two names or by two
 * management clusters; so each join leaves a mark on that ServiceAccount — an annotation keyed by
 * the management cluster and the MemberCluster name — and `leave` removes only its own mark, and
 * the ServiceAccount, token and binding only when no other mark is left.
 */
import { createHash } from 'node:crypto';
import type { KubeObject, KubeWriter } from '../kube/objects.ts';
import { isConflict, isInvalid } from '../kube/rest.ts';
import { MEMBER_NAMESPACE, MEMBER_SERVICE_ACCOUNT } from './member-manifests.ts';

export const JOINED_PREFIX = 'joined.neurallog.io/';

const SERVICE_ACCOUNT = { kind: 'ServiceAccount', name: MEMBER_SERVICE_ACCOUNT, namespace: MEMBER_NAMESPACE };

/**
 * The management cluster's identity: the uid of its kube-system namespace (stable for the
 * cluster's life, the usual cluster id), else — without the right to read it — its API server URL.
 */
export async function managementIdentity(writer: Pick<KubeWriter, 'get'>, server: string): Promise<string> {
  try {
    const ns = await writer.get({ kind: 'Namespace', name: 'kube-system' }, { metadataOnly: true });
    if (ns?.metadata.uid) return ns.metadata.uid;
  } catch {
    // Not allowed to read it: the URL identifies the management cluster well enough.
  }
  return server;
}

/** The annotation one join writes: the same management cluster and name always give the same key. */
export function joinedKey(managementId: string, name: string): string {
  return `${JOINED_PREFIX}${createHash('sha256').update(`${managementId}\n${name}`).digest('hex').slice(0, 20)}`;
}

const pointer = (key: string) => `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

function marks(sa: KubeObject | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sa?.metadata.annotations ?? {}).filter(([k]) => k.startsWith(JOINED_PREFIX)),
  );
}

const ATTEMPTS = 5;

/**
 * Leaves this join's mark on the member ServiceAccount (applied just before). Adding a key to an
 * existing map never loses another join's key; creating the map is guarded by the
 * resourceVersion, so two first joins at once cannot both create it, and the loser tries again.
 */
export async function markJoined(
  member: Pick<KubeWriter, 'get' | 'jsonPatch'>,
  key: string,
  description: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const sa = await member.get(SERVICE_ACCOUNT);
    if (sa?.metadata.annotations?.[key] === description) return;
    try {
      await member.jsonPatch(
        SERVICE_ACCOUNT,
        sa?.metadata.annotations
          ? [{ op: 'add', path: pointer(key), value: description }]
          : [
              { op: 'test', path: '/metadata/resourceVersion', value: sa?.metadata.resourceVersion },
              { op: 'add', path: '/metadata/annotations', value: { [key]: description } },
            ],
      );
      return;
    } catch (error) {
      if (attempt >= ATTEMPTS || !(isConflict(error) || isInvalid(error))) throw error;
    }
  }
}

export interface Unmarked {
  /** The descriptions of the other joins that still use the ServiceAccount. */
  others: string[];
  /** The ServiceAccount as this leave left it, for a guarded delete; undefined when there is none. */
  account?: { uid: string | undefined; resourceVersion: string | undefined };
}

/**
 * Removes this join's mark and says who else has joined the member. A ServiceAccount without any
 * mark (joined before marks existed) has nobody else.
 */
export async function unmarkJoined(
  member: Pick<KubeWriter, 'get' | 'jsonPatch'>,
  key: string,
): Promise<Unmarked> {
  const sa = await member.get(SERVICE_ACCOUNT);
  if (!sa) return { others: [] };
  const all = marks(sa);
  const after =
    key in all
      ? await member.jsonPatch(SERVICE_ACCOUNT, [
          { op: 'test', path: pointer(key), value: all[key] },
          { op: 'remove', path: pointer(key) },
        ])
      : sa;
  return {
    others: Object.values(marks(after)),
    account: { uid: after.metadata.uid, resourceVersion: after.metadata.resourceVersion },
  };
}
