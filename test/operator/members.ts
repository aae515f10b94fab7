// Waiting on MemberClusters, as the tests and benches that set members up need it.
import { isMemberReady } from '../../src/members/member-status.ts';
import type { MemberClusterObject } from '../../src/members/member-controller.ts';
import type { TestCluster } from '../cluster/fixture.ts';
import { notYet, waitFor } from '../cluster/wait.ts';

/** Waits until each MemberCluster in `names` has `Ready=True` (the operator has probed it). */
export async function waitForMembersReady(cluster: TestCluster, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await waitFor(
      async () => {
        const m = await cluster.getJson<MemberClusterObject>(['membercluster', name]);
        return isMemberReady(m?.status) ? true : notYet(m?.status?.conditions);
      },
      { timeoutMs: 60_000, description: `MemberCluster ${name} Ready` },
    );
  }
}
