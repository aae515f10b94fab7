/**
 * Standard Kubernetes shapes the Tenant API embeds (env vars, tolerations, resources), with the
 * descriptions `kubectl explain` shows. Each shape is a zod schema; CRD-only rules travel in `meta`.
 */
import { z } from 'zod';
import { QUANTITY_PATTERN } from './quantity.ts';

export const CEL = 'x-kubernetes-validations';

/** A CEL rule for the CRD, checked in TypeScript by the matching refinement beside it. */
export interface CelRule {
  rule: string;
  message: string;
  /** A CEL expression for the message, to name the offending key; `message` is the fallback. */
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** A StorageClass name (a lower-case DNS subdomain), or empty: no class, as on a claim. */
const STORAGE_CLASS_NAME = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$';

export const storageClassName = (description: string) =>
  z
    .string()
    .max(253)
    .regex(
      new RegExp(STORAGE_CLASS_NAME),
      "must be a StorageClass name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit), or empty for no class",
    )
    .meta({ description });

export const DNS_1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
export const DNS_1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';

export function quantity(description: string) {
  return z
    .union([
      z.int().nonnegative(),
      z
        .string()
        .regex(
          new RegExp(QUANTITY_PATTERN),
          'must be a Kubernetes quantity such as 500m, 2, 128Mi or 1Gi (a non-negative number with an optional suffix)',
        ),
    ])
    .meta({ description, 'x-kubernetes-int-or-string': true });
}

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of ≤ 63. */
export const QUALIFIED_NAME_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
export const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';
const PREFIX_MAX = 253;
/** Keys a label or annotation map may hold; bounds the CEL cost of checking every key. */
export const METADATA_MAP_MAX_KEYS = 64;
const QUALIFIED_NAME = new RegExp(QUALIFIED_NAME_PATTERN);
// No quotes: the text is also a CEL string literal.
const QUALIFIED_NAME_TEXT =
  'must be a qualified name: an optional DNS subdomain prefix of at most 253 characters and a slash, then at most 63 letters, digits, dashes, underscores or dots, starting and ending with a letter or digit';
const LABEL_VALUE_TEXT =
  'must be a label value: at most 63 letters, digits, dashes, underscores or dots, starting and ending with a letter or digit, or empty';

function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  return QUALIFIED_NAME.test(key) && slash <= PREFIX_MAX;
}

/** ASCII letters lower-cased, nothing else: what the API server does to an annotation key. */
const lowerAscii = (key: string) => key.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * Every key a qualified name. The API server checks label keys as they are and annotation keys
 * lower-cased (`Example.COM/x` is a valid annotation key, not a valid label key).
 */
function qualifiedKeysRule(lowerCased: boolean): CelRule {
  const key = lowerCased ? 'k.lowerAscii()' : 'k';
  const holds = `${key}.matches('${QUALIFIED_NAME_PATTERN}') && k.indexOf('/') <= ${PREFIX_MAX}`;
  return {
    rule: `self.all(k, ${holds})`,
    messageExpression: `'key ' + self.filter(k, !(${holds}))[0] + ' ${QUALIFIED_NAME_TEXT}'`,
    message: `every key ${QUALIFIED_NAME_TEXT}`,
  };
}

const TOO_MANY_KEYS = `may hold at most ${METADATA_MAP_MAX_KEYS} keys`;

/** A map whose keys go onto a Kubernetes object as label or annotation keys. */
function metadataMap(value: z.ZodString, description: string, lowerCased: boolean) {
  return z
    .record(z.string().max(317), value)
    .superRefine((map, ctx) => {
      const keys = Object.keys(map);
      if (keys.length > METADATA_MAP_MAX_KEYS) ctx.addIssue({ code: 'custom', message: TOO_MANY_KEYS });
      for (const key of keys) {
        if (!isQualifiedName(lowerCased ? lowerAscii(key) : key))
          ctx.addIssue({ code: 'custom', path: [key], message: QUALIFIED_NAME_TEXT });
      }
    })
    .meta({
      description,
      maxProperties: METADATA_MAP_MAX_KEYS,
      [CEL]: [qualifiedKeysRule(lowerCased)],
    });
}

const labelValue = () => z.string().max(63).regex(new RegExp(LABEL_VALUE_PATTERN), LABEL_VALUE_TEXT);
const qualifiedName = () => z.string().min(1).max(317).regex(QUALIFIED_NAME, QUALIFIED_NAME_TEXT);

/** Labels, a node selector or a pod selector: label keys with label values. */
export const labelMap = (description: string) => metadataMap(labelValue(), description, false);

/** Annotations: annotation keys with any value. */
export const annotationMap = (description: string) => metadataMap(z.string().max(4096), description, true);

const requestLimit = (what: string, defaults: string) =>
  z
    .strictObject({
      request: quantity(`Requested ${what} (scheduling guarantee).`).optional(),
      limit: quantity(`Maximum ${what} the container may use.`).optional(),
    })
    .meta({ description: `${what} request and limit. Defaults: ${defaults}.` });

/** The user-guide resource shape: `{cpu: {request, limit}, memory: {request, limit}}`. */
export function containerResources(defaults: { cpu: string; memory: string }) {
  return z
    .strictObject({
      cpu: requestLimit('CPU', defaults.cpu).optional(),
      memory: requestLimit('memory', defaults.memory).optional(),
    })
    .meta({ description: 'Container CPU and memory; unset values take the documented defaults.' });
}

const keyRef = (kind: string) =>
  z
    .strictObject({
      name: z
        .string()
        .min(1)
        .max(253)
        .meta({ description: `Name of the ${kind} in the tenant namespace.` }),
      key: z
        .string()
        .min(1)
        .max(253)
        .meta({ description: `Key within the ${kind}.` }),
      optional: z
        .boolean()
        .optional()
        .meta({ description: `Whether the ${kind} or its key may be absent.` }),
    })
    .meta({ description: `Selects a key of a ${kind}.` });

const VALUE_FROM_ONE_OF: CelRule = {
  rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
  message: 'valueFrom must set exactly one of secretKeyRef or configMapKeyRef',
};

const valueFrom = z
  .strictObject({
    secretKeyRef: keyRef('Secret').optional(),
    configMapKeyRef: keyRef('ConfigMap').optional(),
  })
  .superRefine((source, ctx) => {
    if ((source.secretKeyRef === undefined) === (source.configMapKeyRef === undefined)) {
      ctx.addIssue({ code: 'custom', message: VALUE_FROM_ONE_OF.message });
    }
  })
  .meta({ description: 'Source for the variable value.', [CEL]: [VALUE_FROM_ONE_OF] });

const ENV_VALUE_XOR: CelRule = {
  rule: '!(has(self.value) && has(self.valueFrom))',
  message: 'set either value or valueFrom, not both',
};

export const envVar = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(
        new RegExp(ENV_NAME),
        'must be a valid environment variable name (letters, digits, "_", "-", ".")',
      )
      .meta({ description: 'Environment variable name.' }),
    value: z.string().max(32768).optional().meta({ description: 'Literal value.' }),
    valueFrom: valueFrom.optional(),
  })
  .superRefine((item, ctx) => {
    if (item.value !== undefined && item.valueFrom !== undefined) {
      ctx.addIssue({ code: 'custom', message: ENV_VALUE_XOR.message });
    }
  })
  .meta({
    description: 'An environment variable: `name` with `value`, or `valueFrom` a Secret or ConfigMap key.',
    [CEL]: [ENV_VALUE_XOR],
  });

/** A CEL rule of the CRD and the same rule in TypeScript, so validate and the API server agree. */
interface PairedRule<T> {
  cel: CelRule;
  holds: (value: T) => boolean;
}

function refineBy<T>(rules: PairedRule<T>[]) {
  return (value: T, ctx: z.RefinementCtx) => {
    for (const { cel, holds } of rules) {
      if (!holds(value)) ctx.addIssue({ code: 'custom', message: cel.message });
    }
  };
}

interface TolerationFields {
  key?: string | undefined;
  operator?: string | undefined;
  value?: string | undefined;
  effect?: string | undefined;
  tolerationSeconds?: number | undefined;
}

// The checks the API server makes on a pod's tolerations (core/v1 validation), so a tenant it
// would refuse at the Deployment is refused at the Tenant instead.
const TOLERATION_RULES: PairedRule<TolerationFields>[] = [
  {
    cel: {
      rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
      message: 'operator must be Exists when key is empty',
    },
    holds: (t) => (t.key ?? '') !== '' || t.operator === 'Exists',
  },
  {
    cel: {
      rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
      message: 'value must be empty when operator is Exists',
    },
    holds: (t) => t.operator !== 'Exists' || (t.value ?? '') === '',
  },
  {
    cel: {
      rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
      message: 'effect must be NoExecute when tolerationSeconds is set',
    },
    holds: (t) => t.tolerationSeconds === undefined || t.effect === 'NoExecute',
  },
];

interface RequirementFields {
  operator: string;
  values?: string[] | undefined;
}

const valueCount = (r: RequirementFields) => r.values?.length ?? 0;

const VALUES_FOR_SET_OPERATORS: PairedRule<RequirementFields> = {
  cel: {
    rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
    message: 'values must be non-empty when operator is In or NotIn',
  },
  holds: (r) => !['In', 'NotIn'].includes(r.operator) || valueCount(r) > 0,
};

const NO_VALUES_FOR_EXISTS: PairedRule<RequirementFields> = {
  cel: {
    rule: "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
    message: 'values must be empty when operator is Exists or DoesNotExist',
  },
  holds: (r) => !['Exists', 'DoesNotExist'].includes(r.operator) || valueCount(r) === 0,
};

// The API server asks for one value only; the scheduler reads it as an integer when it matches.
const ONE_VALUE_FOR_COMPARISONS: PairedRule<RequirementFields> = {
  cel: {
    rule: "!(self.operator in ['Gt', 'Lt']) || (has(self.values) && size(self.values) == 1)",
    message: 'values must be exactly one value when operator is Gt or Lt',
  },
  holds: (r) => !['Gt', 'Lt'].includes(r.operator) || valueCount(r) === 1,
};

const NODE_REQUIREMENT_RULES = [VALUES_FOR_SET_OPERATORS, NO_VALUES_FOR_EXISTS, ONE_VALUE_FOR_COMPARISONS];
const LABEL_REQUIREMENT_RULES = [VALUES_FOR_SET_OPERATORS, NO_VALUES_FOR_EXISTS];

const MATCH_FIELDS_RULE: PairedRule<{ matchFields?: (RequirementFields & { key: string })[] | undefined }> = {
  cel: {
    rule: "!has(self.matchFields) || self.matchFields.all(r, r.key == 'metadata.name' && r.operator in ['In', 'NotIn'] && has(r.values) && size(r.values) == 1)",
    message: 'matchFields supports only key metadata.name with operator In or NotIn and exactly one value',
  },
  holds: (term) =>
    (term.matchFields ?? []).every(
      (r) => r.key === 'metadata.name' && ['In', 'NotIn'].includes(r.operator) && valueCount(r) === 1,
    ),
};

export const toleration = z
  .strictObject({
    key: z
      .string()
      .max(317)
      .regex(new RegExp(`(${QUALIFIED_NAME_PATTERN})|^$`), QUALIFIED_NAME_TEXT)
      .optional()
      .meta({ description: 'Taint key the toleration applies to (empty with Exists: every taint).' }),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .meta({ description: 'Relationship of key to value: Exists or Equal (default Equal).' }),
    value: labelValue().optional().meta({ description: 'Taint value the toleration matches.' }),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .meta({ description: 'Taint effect to match; empty matches all effects.' }),
    tolerationSeconds: z
      .int()
      .optional()
      .meta({ description: 'For NoExecute: how long the pod stays bound after the taint appears.' }),
  })
  .superRefine(refineBy(TOLERATION_RULES))
  .meta({ description: 'A Kubernetes toleration.', [CEL]: TOLERATION_RULES.map(({ cel }) => cel) });

const LABEL_KEY_MAX = 317;

const stringList = (description: string, max = 100, itemMax = LABEL_KEY_MAX) =>
  z
    .array(z.string().max(itemMax).meta({ description: 'One value.' }))
    .max(max)
    .meta({ description });

const labelValueList = (description: string) =>
  z
    .array(labelValue().meta({ description: 'One label value.' }))
    .max(100)
    .meta({ description });

const labelKeyList = (description: string) =>
  z
    .array(qualifiedName().meta({ description: 'One label key.' }))
    .max(100)
    .meta({ description });

const nodeSelectorRequirement = z
  .strictObject({
    key: qualifiedName().meta({ description: 'The node label key the selector applies to.' }),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).meta({
      description: 'Relationship of the key to the values: In, NotIn, Exists, DoesNotExist, Gt or Lt.',
    }),
    values: labelValueList(
      'Values for In and NotIn (non-empty), one integer for Gt and Lt, none for Exists and DoesNotExist.',
    ).optional(),
  })
  .superRefine(refineBy(NODE_REQUIREMENT_RULES))
  .meta({
    description: 'A node selector requirement: a key, an operator and values.',
    [CEL]: NODE_REQUIREMENT_RULES.map(({ cel }) => cel),
  });

const nodeFieldRequirement = z
  .strictObject({
    key: z.string().min(1).max(LABEL_KEY_MAX).meta({ description: 'The field: metadata.name.' }),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).meta({
      description: 'In or NotIn.',
    }),
    values: stringList('One node name.', 100, 253).optional(),
  })
  .meta({ description: "A requirement on a node's field." });

const nodeSelectorTerm = z
  .strictObject({
    matchExpressions: z
      .array(nodeSelectorRequirement)
      .max(50)
      .optional()
      .meta({ description: "Requirements on the node's labels." }),
    matchFields: z
      .array(nodeFieldRequirement)
      .max(50)
      .optional()
      .meta({ description: "Requirements on the node's fields (metadata.name)." }),
  })
  .superRefine(refineBy([MATCH_FIELDS_RULE]))
  .meta({ description: 'A node selector term; its requirements are ANDed.', [CEL]: [MATCH_FIELDS_RULE.cel] });

const weight = z
  .int()
  .min(1, 'weight must be from 1 to 100')
  .max(100, 'weight must be from 1 to 100')
  .meta({ description: "Weight (1-100) added to a node's score when the term matches." });

const nodeAffinity = z
  .strictObject({
    requiredDuringSchedulingIgnoredDuringExecution: z
      .strictObject({
        nodeSelectorTerms: z
          .array(nodeSelectorTerm)
          .min(1, 'nodeSelectorTerms needs at least one term')
          .max(50)
          .meta({ description: 'Terms ORed: a node matching any of them qualifies.' }),
      })
      .optional()
      .meta({ description: 'Nodes the pods must run on.' }),
    preferredDuringSchedulingIgnoredDuringExecution: z
      .array(
        z
          .strictObject({ weight, preference: nodeSelectorTerm })
          .meta({ description: 'A preferred node selector term with its weight.' }),
      )
      .max(50)
      .optional()
      .meta({ description: 'Nodes the scheduler prefers, by weight.' }),
  })
  .meta({ description: 'Node affinity of the pods.' });

/** A metav1.LabelSelector over objects described as `subject` ("a pod", "a member cluster"). */
export const labelSelectorOf = (subject: string) =>
  z
    .strictObject({
      matchLabels: z
        .record(z.string().max(LABEL_KEY_MAX), labelValue())
        .optional()
        .meta({ description: `Labels ${subject} must carry (ANDed).` }),
      matchExpressions: z
        .array(
          z
            .strictObject({
              key: qualifiedName().meta({ description: 'The label key.' }),
              operator: z
                .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
                .meta({ description: 'In, NotIn, Exists or DoesNotExist.' }),
              values: labelValueList('Values for In and NotIn.').optional(),
            })
            .superRefine(refineBy(LABEL_REQUIREMENT_RULES))
            .meta({
              description: 'A label selector requirement.',
              [CEL]: LABEL_REQUIREMENT_RULES.map(({ cel }) => cel),
            }),
        )
        .max(50)
        .optional()
        .meta({ description: 'Label requirements (ANDed).' }),
    })
    .meta({ description: 'A Kubernetes label selector.' });

const labelSelector = labelSelectorOf('a pod');

const podAffinityTerm = z
  .strictObject({
    labelSelector: labelSelector.optional(),
    namespaceSelector: labelSelector.optional(),
    namespaces: stringList(
      "Namespaces the labelSelector applies to (default: the pod's own).",
      100,
      63,
    ).optional(),
    topologyKey: qualifiedName().meta({
      description: 'Node label whose equal values form one topology domain (e.g. kubernetes.io/hostname).',
    }),
    matchLabelKeys: labelKeyList(
      'Pod label keys whose values are added to labelSelector as In requirements.',
    ).optional(),
    mismatchLabelKeys: labelKeyList(
      'Pod label keys whose values are added to labelSelector as NotIn requirements.',
    ).optional(),
  })
  .meta({
    description: 'Pods (selected by labels and namespaces) to be co-located with, or kept apart from.',
  });

const podAffinityRules = (what: string) =>
  z
    .strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .array(podAffinityTerm)
        .max(50)
        .optional()
        .meta({ description: `Terms that must hold (ANDed) for the pods to be ${what}.` }),
      preferredDuringSchedulingIgnoredDuringExecution: z
        .array(
          z
            .strictObject({ weight, podAffinityTerm })
            .meta({ description: 'A preferred pod affinity term with its weight.' }),
        )
        .max(50)
        .optional()
        .meta({ description: `Terms the scheduler prefers, by weight, for the pods to be ${what}.` }),
    })
    .meta({ description: `Pod ${what === 'placed near them' ? 'affinity' : 'anti-affinity'} of the pods.` });

/** The Kubernetes `Affinity` shape (core/v1), every field checked as the API server would. */
export const affinity = z.strictObject({
  nodeAffinity: nodeAffinity.optional(),
  podAffinity: podAffinityRules('placed near them').optional(),
  podAntiAffinity: podAffinityRules('kept apart from them').optional(),
});

/** Scheduling and pod-metadata fields copied onto a pod template. */
export function podPlacement(component: string) {
  return {
    nodeSelector: labelMap(`Node labels the ${component} pods must run on.`).optional(),
    tolerations: z
      .array(toleration)
      .max(50)
      .optional()
      .meta({ description: `Tolerations of the ${component} pods.` }),
    affinity: affinity.optional().meta({
      description: `Kubernetes affinity of the ${component} pods (nodeAffinity, podAffinity, podAntiAffinity), copied onto the pod template.`,
    }),
    podAnnotations: annotationMap(`Extra annotations on the ${component} pods.`).optional(),
    podLabels: labelMap(
      `Extra labels on the ${component} pods (the operator's own labels always win).`,
    ).optional(),
  };
}

export const IANA_PORT_NAME_PATTERN = DNS_1123_LABEL;

const PORT_RULE: CelRule = {
  rule: "type(self) == int ? (self >= 1 && self <= 65535) : (size(self) <= 15 && self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.matches('[a-z]') && !self.contains('--'))",
  message:
    'port must be a number from 1 to 65535 or a named port (lower-case, at most 15 characters, at least one letter, no "--"); write a number without quotes',
};

export const port = z
  .union([
    z.int().min(1, 'port must be from 1 to 65535').max(65535, 'port must be from 1 to 65535'),
    z
      .string()
      .max(15, 'a named port has at most 15 characters')
      .regex(new RegExp(DNS_1123_LABEL), 'a named port is lower-case letters, digits and "-"')
      .refine(
        (name) => /[a-z]/.test(name) && !name.includes('--'),
        'a named port has at least one letter and no "--" (write a port number without quotes)',
      ),
  ])
  .meta({
    description: 'Port number (1-65535) or named port.',
    'x-kubernetes-int-or-string': true,
    [CEL]: [PORT_RULE],
  });

export const networkPort = z
  .strictObject({
    protocol: z
      .enum(['TCP', 'UDP', 'SCTP'])
      .optional()
      .meta({ description: 'Protocol: TCP (default), UDP or SCTP.' }),
    port: port,
  })
  .meta({ description: 'A port the rule allows.' });
