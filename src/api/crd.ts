/**
 * The CustomResourceDefinition, generated from the zod schema (the one source of truth) and
 * post-processed into the *structural* OpenAPI schema the API server demands.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { GROUP, VERSION } from './group.ts';
import { MEMBER_CLUSTER_KIND, MEMBER_CLUSTER_PLURAL, memberCluster } from './member-cluster.ts';
import { KIND, PLURAL, tenant } from './tenant.ts';

type JsonSchema = { [key: string]: unknown };

/** Value validations that apply to one JSON type only, so they can sit beside an int-or-string anyOf. */
const HOISTABLE = ['pattern', 'minimum', 'maximum', 'maxLength', 'minLength'] as const;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Integer bounds are kept even when they are only ±(2^53 − 1), zod's safe-integer range: without
 * them the API server would take any int64 that the offline validator refuses.
 */
function structural(node: JsonSchema): JsonSchema {
  if (node['x-kubernetes-int-or-string'] === true && Array.isArray(node.anyOf)) {
    return intOrString(node);
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'id') continue;
    if (key === 'additionalProperties') {
      // `false` is the default of a structural schema and may not stand beside `properties`;
      // an empty schema (z.unknown) means free-form, expressed with preserve-unknown-fields.
      if (value === false || (isObject(value) && Object.keys(value).length === 0)) continue;
      out[key] = structural(value as JsonSchema);
      continue;
    }
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(v as JsonSchema)]));
    } else if (key === 'items' && isObject(value)) {
      out[key] = structural(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function intOrString(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'anyOf') out[key] = value;
  }
  for (const branch of node.anyOf as JsonSchema[]) {
    for (const key of HOISTABLE) {
      const value = branch[key];
      if (value === undefined) continue;
      out[key] = value;
    }
  }
  out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  return out;
}

/** `metadata` may only be `type: object` in a CRD; apiVersion/kind are plain strings. */
function rootSchema(schema: z.ZodType): JsonSchema {
  const generated = structural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as JsonSchema);
  const properties = generated.properties as JsonSchema;
  const describe = (key: string) => (properties[key] as JsonSchema).description;
  return {
    description: generated.description,
    type: 'object',
    properties: {
      apiVersion: { description: describe('apiVersion'), type: 'string' },
      kind: { description: describe('kind'), type: 'string' },
      metadata: { type: 'object' },
      spec: properties.spec,
      status: properties.status,
    },
    'x-kubernetes-validations': generated['x-kubernetes-validations'],
  };
}

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  /** 1: shown by `kubectl get -o wide` only. */
  priority?: 1;
}

interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  schema: z.ZodType;
  columns: PrinterColumn[];
}

function crdOf(def: CrdDefinition): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'neurallog', 'app.kubernetes.io/managed-by': 'tenant-operator' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['neurallog'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: { openAPIV3Schema: rootSchema(def.schema) },
        },
      ],
    },
  };
}

const READY_COLUMN = '.status.conditions[?(@.type=="Ready")].status';

export function tenantCrd(): JsonSchema {
  return crdOf({
    kind: KIND,
    plural: PLURAL,
    singular: 'tenant',
    shortNames: ['tn'],
    schema: tenant,
    columns: [
      { name: 'Display Name', type: 'string', jsonPath: '.spec.displayName' },
      { name: 'Namespace', type: 'string', jsonPath: '.status.namespace' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Plan', type: 'string', jsonPath: '.spec.planId', priority: 1 },
      { name: 'Ready', type: 'string', jsonPath: READY_COLUMN, priority: 1 },
      { name: 'Cluster', type: 'string', jsonPath: '.status.placement.clusterName', priority: 1 },
    ],
  });
}

export function memberClusterCrd(): JsonSchema {
  return crdOf({
    kind: MEMBER_CLUSTER_KIND,
    plural: MEMBER_CLUSTER_PLURAL,
    singular: 'membercluster',
    shortNames: ['mc'],
    schema: memberCluster,
    columns: [
      { name: 'Ready', type: 'string', jsonPath: READY_COLUMN },
      { name: 'Tenants', type: 'integer', jsonPath: '.status.tenants' },
      { name: 'Max', type: 'integer', jsonPath: '.spec.maxTenants' },
      { name: 'Version', type: 'string', jsonPath: '.status.kubernetesVersion' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

export const CRD_PATH = 'config/crd/bases/neurallog.io_tenants.yaml';

export const MEMBER_CLUSTER_CRD_PATH = 'config/crd/bases/neurallog.io_memberclusters.yaml';

const crdYaml = (crd: JsonSchema) =>
  `# Generated by \`tenant-operator crd\` from src/api; do not edit by hand.\n---\n${stringify(crd, { lineWidth: 0 })}`;

export function tenantCrdYaml(): string {
  return crdYaml(tenantCrd());
}

export function memberClusterCrdYaml(): string {
  return crdYaml(memberClusterCrd());
}
