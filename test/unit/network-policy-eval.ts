/**
 * A small evaluator of Kubernetes NetworkPolicy semantics (networking.k8s.io/v1), for tests: given
 * namespaces, pods with their container ports and the policies, may a connection from one pod (or
 * from outside the cluster) reach a port of another? It follows the API documentation:
 *
 * - A pod no policy selects for a direction is open in that direction. Once any policy selects it
 *   for Ingress (Egress), only what some rule of those policies allows gets in (out).
 * - `policyTypes` absent means Ingress, plus Egress when the policy has egress rules.
 * - A rule with no peers matches every source/destination (inside the cluster and out); with no
 *   ports, every port. A peer with only `podSelector` selects pods of the policy's own namespace;
 *   with only `namespaceSelector`, every pod of the selected namespaces; with both, the pods
 *   matching the first in the namespaces matching the second.
 * - A port is a number or a name; a name is resolved against the destination pod's container
 *   ports (for egress too), and the protocol (default TCP) must match.
 * - Both sides must allow a connection: egress of the source, ingress of the destination.
 *
 * `ipBlock` and `endPort` are not used by the operator; the evaluator refuses them rather than
 * guess.
 */

import { type LabelSelector, matchesSelector } from '../../src/placement/selector.ts';

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}

export interface PolicyPort {
  protocol?: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: Array<'Ingress' | 'Egress'>;
    ingress?: Array<{ from?: PolicyPeer[]; ports?: PolicyPort[] }>;
    egress?: Array<{ to?: PolicyPeer[]; ports?: PolicyPort[] }>;
  };
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
}

export interface Pod {
  /** A name for reports. */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
}

/** Outside the cluster (the internet): matched only by rules without peers. */
export const EXTERNAL = { name: 'external' } as const;
export type Endpoint = Pod | typeof EXTERNAL;

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: Protocol;
}

export interface Cluster {
  /** Namespace name → its labels (`kubernetes.io/metadata.name` is added as the API server does). */
  namespaces: Record<string, Record<string, string>>;
  policies: NetworkPolicy[];
}

const isPod = (e: Endpoint): e is Pod => 'namespace' in e;

function namespaceLabels(cluster: Cluster, name: string): Record<string, string> {
  const labels = cluster.namespaces[name];
  if (!labels) throw new Error(`namespace ${name} is not in the model`);
  return { ...labels, 'kubernetes.io/metadata.name': name };
}

function policyTypes(policy: NetworkPolicy): Array<'Ingress' | 'Egress'> {
  if (policy.spec.policyTypes) return policy.spec.policyTypes;
  return policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

function policyNamespace(policy: NetworkPolicy): string {
  if (!policy.metadata.namespace) throw new Error(`NetworkPolicy ${policy.metadata.name} has no namespace`);
  return policy.metadata.namespace;
}

function peerMatches(cluster: Cluster, policy: NetworkPolicy, peer: PolicyPeer, other: Endpoint): boolean {
  if (peer.ipBlock !== undefined) throw new Error('ipBlock peers are not modelled');
  if (!isPod(other)) return false;
  if (peer.namespaceSelector === undefined) {
    if (other.namespace !== policyNamespace(policy)) return false;
  } else if (!matchesSelector(namespaceLabels(cluster, other.namespace), peer.namespaceSelector)) {
    return false;
  }
  return peer.podSelector === undefined || matchesSelector(other.labels, peer.podSelector);
}

function peersMatch(
  cluster: Cluster,
  policy: NetworkPolicy,
  peers: PolicyPeer[] | undefined,
  other: Endpoint,
): boolean {
  if (!peers || peers.length === 0) return true;
  return peers.some((peer) => peerMatches(cluster, policy, peer, other));
}

/** Whether `ports` admit `port`/`protocol` on `destination` (named ports resolve there). */
function portsMatch(ports: PolicyPort[] | undefined, c: Connection): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if (p.endPort !== undefined) throw new Error('endPort is not modelled');
    if ((p.protocol ?? 'TCP') !== c.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return p.port === c.port;
    if (!isPod(c.to)) return false;
    return c.to.ports.some(
      (cp) => cp.name === p.port && cp.containerPort === c.port && (cp.protocol ?? 'TCP') === c.protocol,
    );
  });
}

function selecting(cluster: Cluster, pod: Pod, type: 'Ingress' | 'Egress'): NetworkPolicy[] {
  return cluster.policies.filter(
    (p) =>
      policyNamespace(p) === pod.namespace &&
      policyTypes(p).includes(type) &&
      matchesSelector(pod.labels, p.spec.podSelector),
  );
}

function egressAllows(cluster: Cluster, c: Connection): boolean {
  if (!isPod(c.from)) return true;
  const policies = selecting(cluster, c.from, 'Egress');
  if (policies.length === 0) return true;
  return policies.some((p) =>
    (p.spec.egress ?? []).some((rule) => peersMatch(cluster, p, rule.to, c.to) && portsMatch(rule.ports, c)),
  );
}

function ingressAllows(cluster: Cluster, c: Connection): boolean {
  if (!isPod(c.to)) return true;
  const policies = selecting(cluster, c.to, 'Ingress');
  if (policies.length === 0) return true;
  return policies.some((p) =>
    (p.spec.ingress ?? []).some(
      (rule) => peersMatch(cluster, p, rule.from, c.from) && portsMatch(rule.ports, c),
    ),
  );
}

/** Whether the connection is allowed: the source may send it and the destination may receive it. */
export function allows(cluster: Cluster, c: Connection): boolean {
  if (
    isPod(c.to) &&
    !c.to.ports.some((p) => p.containerPort === c.port && (p.protocol ?? 'TCP') === c.protocol)
  ) {
    throw new Error(`${c.to.name} does not listen on ${c.protocol} ${c.port}`);
  }
  return egressAllows(cluster, c) && ingressAllows(cluster, c);
}
