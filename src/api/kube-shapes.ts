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

export const DNS_1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const DNS_1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
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

export const stringMap = (description: string) =>
  z.record(z.string().max(317), z.string().max(4096)).meta({ description });

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

export const toleration = z
  .strictObject({
    key: z.string().max(317).optional().meta({ description: 'Taint key the toleration applies to.' }),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .meta({ description: 'Relationship of key to value: Exists or Equal (default Equal).' }),
    value: z.string().max(63).optional().meta({ description: 'Taint value the toleration matches.' }),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .meta({ description: 'Taint effect to match; empty matches all effects.' }),
    tolerationSeconds: z
      .int()
      .optional()
      .meta({ description: 'For NoExecute: how long the pod stays bound after the taint appears.' }),
  })
  .meta({ description: 'A Kubernetes toleration.' });

/** Scheduling and pod-metadata fields copied onto a pod template. */
export function podPlacement(component: string) {
  return {
    nodeSelector: stringMap(`Node labels the ${component} pods must run on.`).optional(),
    tolerations: z
      .array(toleration)
      .max(50)
      .optional()
      .meta({ description: `Tolerations of the ${component} pods.` }),
    affinity: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({
        description: `Kubernetes affinity of the ${component} pods (nodeAffinity, podAffinity, podAntiAffinity), copied as given.`,
        'x-kubernetes-preserve-unknown-fields': true,
      }),
    podAnnotations: stringMap(`Extra annotations on the ${component} pods.`).optional(),
    podLabels: stringMap(
      `Extra labels on the ${component} pods (the operator's own labels always win).`,
    ).optional(),
  };
}

export const IANA_PORT_NAME_PATTERN = DNS_1123_LABEL;

const PORT_RULE: CelRule = {
  rule: "type(self) == int ? (self >= 1 && self <= 65535) : (size(self) <= 15 && self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))",
  message: 'port must be a number from 1 to 65535 or a named port (lower-case, at most 15 characters)',
};

export const port = z
  .union([
    z.int().min(1, 'port must be from 1 to 65535').max(65535, 'port must be from 1 to 65535'),
    z
      .string()
      .max(15, 'a named port has at most 15 characters')
      .regex(new RegExp(DNS_1123_LABEL), 'a named port is lower-case letters, digits and "-"'),
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
