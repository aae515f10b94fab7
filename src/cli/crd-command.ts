/** `tenant-operator crd`: the CustomResourceDefinitions (Tenant, then MemberCluster) as one YAML stream. */
import { memberClusterCrdYaml, tenantCrdYaml } from '../api/crd.ts';
import type { Output } from './io.ts';

export function crdCommand(io: Output): number {
  io.out(tenantCrdYaml());
  io.out(memberClusterCrdYaml());
  return 0;
}
