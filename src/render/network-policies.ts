/**
 * The tenant namespace's NetworkPolicies (SPEC §1.4, §2.4), present only while
 * `spec.networkPolicy.enabled`.
 *
 * `default-deny` closes the namespace in both directions; every other policy opens one kind of
 * traffic again. NetworkPolicies are additive, so the order does not change their effect; it is
 * fixed only so that the output is stable. Namespaces are selected by the label the API server puts
 * on every namespace, `kubernetes.io/metadata.name`.
 */
import type { EgressRule, IngressRule, ResolvedTenant } from '../api/resolve.ts';
import {
  type ObjectMeta,
  type RenderedObject,
  SERVER_PORT_NAME,
  objectMeta,
  selectorLabels,
} from './meta.ts';

export const NETWORK_POLICY_API_VERSION = 'networking.k8s.io/v1';
/** Set by the API server on every namespace (Kubernetes ≥ 1.21). */
export const LABEL_NAMESPACE_NAME = 'kubernetes.io/metadata.name';
/** Where the operator and the NeuralLog Auth service run. */
export const SYSTEM_NAMESPACE = 'neurallog-system';
/** Where the cluster's ingress controller runs. */
export const INGRESS_NAMESPACE = 'ingress-nginx';
/** Annotation carrying a custom rule's `description`. */
export const ANNOTATION_DESCRIPTION = 'neurallog.io/description';

export const POLICY_NAMES = {
  defaultDeny: 'default-deny',
  sameNamespace: 'allow-same-namespace',
  systemIngress: 'allow-system-ingress',
  apiAccess: 'allow-api-access',
  dnsEgress: 'allow-dns-egress',
  systemEgress: 'allow-system-egress',
  webEgress: 'allow-web-egress',
  customIngress: (i: number) => `custom-ingress-${i}`,
  customEgress: (i: number) => `custom-egress-${i}`,
};

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
}

export interface NetworkPolicyPort {
  protocol: Protocol;
  port: number | string;
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
}

export interface NetworkPolicyObject extends RenderedObject {
  apiVersion: typeof NETWORK_POLICY_API_VERSION;
  kind: 'NetworkPolicy';
  metadata: ObjectMeta;
  spec: NetworkPolicySpec;
}

/** Ingress and egress rules differ only in the name of their peer field; one view serves both. */
export interface CustomRule {
  description?: string;
  from?: Record<string, string>;
  to?: Record<string, string>;
  ports?: { protocol?: Protocol; port: number | string }[];
}

const customRule = (rule: IngressRule | EgressRule): CustomRule => rule as CustomRule;

function policy(
  t: ResolvedTenant,
  name: string,
  spec: NetworkPolicySpec,
  annotations: Record<string, string> = {},
): NetworkPolicyObject {
  return {
    apiVersion: NETWORK_POLICY_API_VERSION,
    kind: 'NetworkPolicy',
    metadata: objectMeta(t, 'network-policy', name, { annotations }),
    spec,
  };
}

const inNamespace = (name: string): NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { [LABEL_NAMESPACE_NAME]: name } },
});

/** Every pod of the policy's own namespace (a peer with only a podSelector). */
const samePodsPeer = (): NetworkPolicyPeer => ({ podSelector: {} });

/** Pods of the tenant namespace carrying `labels` (all pods when there are none); keys sorted. */
function podsWithLabels(labels: Record<string, string> | undefined): NetworkPolicyPeer {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return samePodsPeer();
  const matchLabels: Record<string, string> = {};
  for (const key of keys) matchLabels[key] = labels![key]!;
  return { podSelector: { matchLabels } };
}

function rulePorts(ports: CustomRule['ports']): { ports?: NetworkPolicyPort[] } {
  if (!ports || ports.length === 0) return {};
  return { ports: ports.map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port })) };
}

function descriptionAnnotation(description: string | undefined): Record<string, string> {
  return description ? { [ANNOTATION_DESCRIPTION]: description } : {};
}

/** Namespaces in first-seen order, each once. */
function uniqueNamespaces(list: readonly string[]): string[] {
  return [...new Set(list)];
}

function customIngress(t: ResolvedTenant, given: IngressRule, i: number): NetworkPolicyObject {
  const rule = customRule(given);
  return policy(
    t,
    POLICY_NAMES.customIngress(i),
    {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [podsWithLabels(rule.from)], ...rulePorts(rule.ports) }],
    },
    descriptionAnnotation(rule.description),
  );
}

function customEgress(t: ResolvedTenant, given: EgressRule, i: number): NetworkPolicyObject {
  const rule = customRule(given);
  return policy(
    t,
    POLICY_NAMES.customEgress(i),
    {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [podsWithLabels(rule.to)], ...rulePorts(rule.ports) }],
    },
    descriptionAnnotation(rule.description),
  );
}

/** The NetworkPolicies the tenant should have, in apply order; none while disabled. */
export function renderNetworkPolicies(t: ResolvedTenant): NetworkPolicyObject[] {
  const np = t.networkPolicy;
  if (!np.enabled) return [];
  const out: NetworkPolicyObject[] = [
    policy(t, POLICY_NAMES.defaultDeny, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy(t, POLICY_NAMES.sameNamespace, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [samePodsPeer()] }],
      egress: [{ to: [samePodsPeer()] }],
    }),
    // Only the server's HTTP port: Redis is reachable from inside the tenant namespace alone.
    policy(t, POLICY_NAMES.systemIngress, {
      podSelector: { matchLabels: selectorLabels(t, 'server') },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [inNamespace(SYSTEM_NAMESPACE), inNamespace(INGRESS_NAMESPACE)],
          ports: [{ protocol: 'TCP', port: SERVER_PORT_NAME }],
        },
      ],
    }),
  ];
  const allowed = uniqueNamespaces(np.allowedNamespaces);
  if (allowed.length > 0) {
    out.push(
      policy(t, POLICY_NAMES.apiAccess, {
        podSelector: { matchLabels: selectorLabels(t, 'server') },
        policyTypes: ['Ingress'],
        ingress: [{ from: allowed.map(inNamespace), ports: [{ protocol: 'TCP', port: SERVER_PORT_NAME }] }],
      }),
    );
  }
  out.push(
    policy(t, POLICY_NAMES.dnsEgress, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
    policy(t, POLICY_NAMES.systemEgress, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [inNamespace(SYSTEM_NAMESPACE)] }],
    }),
  );
  if (np.allowWebEgress) {
    out.push(
      policy(t, POLICY_NAMES.webEgress, {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            ports: [
              { protocol: 'TCP', port: 80 },
              { protocol: 'TCP', port: 443 },
            ],
          },
        ],
      }),
    );
  }
  np.ingressRules.forEach((rule, i) => out.push(customIngress(t, rule, i)));
  np.egressRules.forEach((rule, i) => out.push(customEgress(t, rule, i)));
  return out;
}

/**
 * Names of the NetworkPolicies that should exist now. The controller deletes any other policy
 * carrying this tenant's labels (a removed custom rule, `allowedNamespaces` emptied, web egress
 * turned off, or every policy when disabled).
 */
export function networkPolicyNames(t: ResolvedTenant): string[] {
  return renderNetworkPolicies(t).map((p) => p.metadata.name);
}
