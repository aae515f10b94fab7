/** `tenant-operator crd`: the CustomResourceDefinition YAML. */
import { tenantCrdYaml } from '../api/crd.ts';
import type { Output } from './io.ts';

export function crdCommand(io: Output): number {
  io.out(tenantCrdYaml());
  return 0;
}
