// What most operator integration tests start with: the shared cluster with the CRD installed,
// a local Auth peer, and the real operator process talking to both.
import { type AuthPeer, type AuthPeerOptions, startAuthPeer } from '../auth-peer/peer.ts';
import { type TestCluster, useCluster } from '../cluster/fixture.ts';
import { type OperatorProcess, startOperator } from './harness.ts';
import { installCrd } from './tenants.ts';

export interface OperatorEnvironment {
  cluster: TestCluster;
  peer: AuthPeer;
  operator: OperatorProcess;
  /** Stops the operator (SIGTERM) and the Auth peer. */
  close(): Promise<void>;
}

export async function startEnvironment(
  name: string,
  options: { args?: string[]; peer?: AuthPeerOptions } = {},
): Promise<OperatorEnvironment> {
  const cluster = await useCluster();
  await installCrd(cluster);
  const peer = await startAuthPeer(options.peer ?? {});
  const operator = await startOperator({
    cluster,
    authUrl: peer.url,
    name,
    ...(options.args ? { args: options.args } : {}),
  });
  return {
    cluster,
    peer,
    operator,
    async close() {
      await operator.stop();
      await peer.close();
    },
  };
}
