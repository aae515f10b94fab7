/**
 * The finalizer step: nothing is made for a Tenant, nor registered with the Auth service, before
 * it carries our finalizer, so its deletion always passes through the operator (SPEC §6).
 */
import type { KubeWriter } from '../kube/objects.ts';
import { FINALIZER } from '../render/meta.ts';
import type { TenantObject } from './ports.ts';

/** The Tenant with our finalizer, and whether that was just confirmed by the API server. */
export async function ensureFinalizer(
  home: Pick<KubeWriter, 'setTenantFinalizers'>,
  t: TenantObject,
): Promise<{ t: TenantObject; confirmed: boolean }> {
  if ((t.metadata.finalizers ?? []).includes(FINALIZER)) return { t, confirmed: false };
  const updated = await home.setTenantFinalizers(
    t.metadata.name,
    [...(t.metadata.finalizers ?? []), FINALIZER],
    t.metadata.resourceVersion ?? '',
  );
  return { t: { ...t, metadata: { ...t.metadata, ...updated.metadata } }, confirmed: true };
}
