// The shipped ClusterRole (config/rbac/role.yaml) is exactly enough: one run through everything the
// reconciler does — creation (with a registration retried), pruning of every kind, drift of every
// kind, a spec change, a Secret found in place, a look at pods that do not start, deletion — needs
// no verb it lacks, and without any one verb of it that run is refused somewhere. The fake API
// server authorizes every request (and the watches, owner-reference enforcement and RBAC
// escalation prevention) from the rules it is given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/objects.ts';
import { CHILD_TYPES } from '../kube/resources.ts';
import { DIAGNOSE_AFTER_MS } from './diagnose.ts';
import { type RbacRule, observedCluster, shippedRules } from './fakes.test-util.ts';
import { NS, setup } from './harness.test-util.ts';

const LABELS = { 'app.kubernetes.io/managed-by': 'tenant-operator', 'neurallog.io/tenant': 'x' };

/** Runs the whole life of one tenant; resolves with the requests refused (403), or the error. */
async function lifeOfATenant(rules: readonly RbacRule[]): Promise<string[]> {
  let h: ReturnType<typeof setup>;
  try {
    h = setup({ server: { replicas: 2 }, billingEmail: 'billing@example.com' }, { rules });
  } catch (error) {
    return [`caches: ${(error as Error).message}`];
  }
  try {
    // The Auth service down at first: the finalizer is on, the registration still to do, so the
    // next reconcile confirms the Tenant is live before registering.
    h.auth.failWith = new Error('Auth service down');
    await h.reconcile().catch(() => undefined);
    h.auth.failWith = undefined;
    await h.reconcile();
    h.server.makeWorkloadsReady('x');
    await h.reconcile();
    const uid = h.server.tenant('x')!.metadata.uid!;
    // What an older version made and this one no longer renders: one object of every kind.
    for (const type of CHILD_TYPES.filter((t) => t.kind !== 'Namespace')) {
      h.server.seed({
        apiVersion: type.apiVersion,
        kind: type.kind,
        metadata: {
          name: `left-over-${type.plural}`,
          namespace: NS,
          labels: LABELS,
          ownerReferences: [
            { apiVersion: 'neurallog.io/v1', kind: 'Tenant', name: 'x', uid, controller: true },
          ],
        },
        ...(type.kind === 'Service' ? { spec: { clusterIP: 'None' } } : {}),
      } as KubeObject);
    }
    await h.reconcile();
    for (const child of [...h.server.objects.values()].filter((o) => o.metadata.namespace === NS)) {
      h.server.editByHand(child.kind, child.metadata.name, NS, (o) => {
        o.metadata.labels = { ...o.metadata.labels, 'app.kubernetes.io/component': 'edited' };
      });
      await h.reconcile();
      h.server.remove(child.kind, child.metadata.name, NS);
      await h.reconcile();
    }
    // The same repair twice: the second event is an aggregated repeat of the first.
    h.server.remove('Service', 'x-server', NS);
    await h.reconcile();
    h.server.editTenantSpec('x', { server: { replicas: 1 }, networkPolicy: { enabled: false } });
    await h.reconcile();
    // A restart whose cache does not show the Secret yet: the create finds it, its metadata settles it.
    h.clock.advance(60_000);
    const live = observedCluster(h.server);
    await h.build({ ...live, children: (id) => live.children(id).filter((c) => c.kind !== 'Secret') })('x');
    // Pods that do not become ready are looked into.
    h.server.makeWorkloadsReady('x', { redis: 0, server: 0 });
    h.clock.advance(DIAGNOSE_AFTER_MS);
    await h.reconcile();
    h.server.deleteTenant('x', h.clock.now());
    await h.reconcile();
    h.server.finishNamespaceDeletion(NS);
    await h.reconcile();
    assert.equal(h.server.tenant('x'), undefined, 'the tenant is gone');
  } catch (error) {
    return [...h.server.forbidden, `failed: ${(error as Error).message}`];
  }
  return h.server.forbidden;
}

/**
 * Used by the MemberCluster controller, not in a tenant's life; the integration test that runs the
 * operator under config/rbac with MemberClusters shows they are enough.
 */
const MEMBER_CONTROLLER_RESOURCES = ['memberclusters', 'memberclusters/status'];

describe('config/rbac', () => {
  it('grants everything a tenant’s whole life needs', async () => {
    assert.deepEqual(await lifeOfATenant(shippedRules()), []);
  });

  it('has no verb that could go: without any one verb on any one resource, that life is refused somewhere', async () => {
    const rules = shippedRules();
    for (const [i, rule] of rules.entries())
      for (const group of rule.apiGroups)
        for (const resource of rule.resources.filter((r) => !MEMBER_CONTROLLER_RESOURCES.includes(r)))
          for (const verb of rule.verbs) {
            const without: RbacRule[] = rules.flatMap((r, j) => {
              if (j !== i) return [r];
              const others = r.resources.filter((x) => x !== resource);
              const fewer = r.verbs.filter((v) => v !== verb);
              return [
                ...(others.length > 0 ? [{ ...r, resources: others }] : []),
                ...(fewer.length > 0 ? [{ apiGroups: [group], resources: [resource], verbs: fewer }] : []),
              ];
            });
            const refused = await lifeOfATenant(without);
            assert.ok(refused.length > 0, `nothing needs ${verb} on ${group}/${resource}`);
          }
  });
});
