/** `tenant-operator cluster join|leave`: a member cluster in and out of the management cluster (SPEC §10.5). */
import { resolveKubeConfig } from '../kube/client-config.ts';
import { createKubeWriter } from '../kube/objects.ts';
import { createKubeRest } from '../kube/rest.ts';
import { joinMember, leaveMember } from '../members/join.ts';
import type { Output } from './io.ts';

export interface ClusterFlags {
  /** The management cluster's kubeconfig (default as for `run`). */
  kubeconfig?: string;
  kubeconfigOfMember?: string;
  /** Context of the member's kubeconfig. */
  context?: string;
  namespace: string;
}

export interface JoinFlags extends ClusterFlags {
  kubeconfigOfMember: string;
  maxTenants?: number;
  label: string[];
  memberServer?: string;
}

const USER_AGENT = 'tenant-operator-cli';

export function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--label ${pair}: write it as key=value, e.g. --label env=prod`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

function connect(kubeconfig: string | undefined, context?: string) {
  const resolved = resolveKubeConfig({
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
  });
  const rest = createKubeRest(resolved.connection, { userAgent: USER_AGENT, timeoutMs: 30_000 });
  return { resolved, rest, writer: createKubeWriter(rest) };
}

export async function joinCommand(name: string, flags: JoinFlags, io: Output): Promise<number> {
  const labels = parseLabels(flags.label);
  const member = connect(flags.kubeconfigOfMember, flags.context);
  const management = connect(flags.kubeconfig);
  try {
    await joinMember(
      {
        writer: member.writer,
        server: flags.memberServer ?? member.resolved.server,
        tls: member.resolved.connection.tls,
      },
      management,
      {
        name,
        labels,
        ...(flags.maxTenants !== undefined ? { maxTenants: flags.maxTenants } : {}),
        operatorNamespace: flags.namespace,
        managementServer: management.resolved.server,
        tokenTimeoutMs: 60_000,
        log: (line) => io.out(`${line}\n`),
      },
    );
    return 0;
  } finally {
    await Promise.all([member.rest.close(), management.rest.close()]);
  }
}

export async function leaveCommand(name: string, flags: ClusterFlags, io: Output): Promise<number> {
  const management = connect(flags.kubeconfig);
  const member = flags.kubeconfigOfMember ? connect(flags.kubeconfigOfMember, flags.context) : undefined;
  try {
    await leaveMember(management, member, {
      name,
      operatorNamespace: flags.namespace,
      managementServer: management.resolved.server,
      log: (line) => io.out(`${line}\n`),
    });
    return 0;
  } finally {
    await Promise.all([management.rest.close(), member?.rest.close()]);
  }
}
