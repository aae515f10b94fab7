// The `tenant-operator` command line, run as a user runs it (a separate process, from src/).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../cluster/config.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tenantOperatorCli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(repoRoot, 'node_modules', '.bin', 'node'),
      [join(repoRoot, 'src', 'cli', 'main.ts'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The arguments of `tenant-operator cluster join NAME` between two clusters' kubeconfigs. */
export function joinArgs(
  name: string,
  kubeconfigs: { member: string; management: string },
  ...extra: string[]
): string[] {
  return [
    'cluster',
    'join',
    name,
    '--kubeconfig-of-member',
    kubeconfigs.member,
    '--kubeconfig',
    kubeconfigs.management,
    ...extra,
  ];
}

/** The arguments of `tenant-operator cluster leave NAME`, removing the member's RBAC too. */
export function leaveArgs(name: string, kubeconfigs: { member: string; management: string }): string[] {
  return [
    'cluster',
    'leave',
    name,
    '--kubeconfig',
    kubeconfigs.management,
    '--kubeconfig-of-member',
    kubeconfigs.member,
  ];
}
