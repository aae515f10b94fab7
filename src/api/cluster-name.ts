/** The name of a member cluster, as a MemberCluster is named and a Tenant pins to it. */
import { z } from 'zod';
import { DNS_1123_LABEL } from './kube-shapes.ts';

export const CLUSTER_NAME_MAX_LENGTH = 63;
export const CLUSTER_NAME_PATTERN = DNS_1123_LABEL;
export const CLUSTER_NAME_RULE_TEXT =
  '1-63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit';

/** A member cluster's name as a Tenant refers to it. */
export const clusterName = (description: string) =>
  z
    .string()
    .min(1, `must be ${CLUSTER_NAME_RULE_TEXT}`)
    .max(CLUSTER_NAME_MAX_LENGTH, `must be ${CLUSTER_NAME_RULE_TEXT}`)
    .regex(new RegExp(CLUSTER_NAME_PATTERN), `must be ${CLUSTER_NAME_RULE_TEXT}`)
    .meta({ description });
