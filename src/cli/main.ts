#!/usr/bin/env node
/** The `tenant-operator` command line: wires flags to commands, holds no logic of its own. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { resolveAuthUrl } from '../auth/index.ts';
import type * as ClusterCommands from './cluster-command.ts';
import type * as RunCommands from './run-command.ts';
import { type Output, processOutput } from './io.ts';
// Each command's module is loaded when it runs: `run` never loads what rendering, the CRD or
// joining need (the YAML library, the CRD generator), which keeps the operator's resident memory down.
type JoinFlags = Parameters<typeof ClusterCommands.joinCommand>[1];
type LeaveFlags = Parameters<typeof ClusterCommands.leaveCommand>[1];
type RunFlags = Parameters<typeof RunCommands.runCommand>[0];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of 0 or more');
  return n;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function bool(value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('must be true or false');
}

export function buildProgram(io: Output, setExitCode: (code: number) => void): Command {
  const program = new Command('tenant-operator')
    .description(
      'NeuralLog Tenant Operator: one Tenant object becomes a complete, isolated NeuralLog deployment',
    )
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  program
    .command('render')
    .description('print every object a Tenant becomes, exactly as the controller applies it')
    .requiredOption('-f, --file <path>', 'Tenant YAML/JSON file (several documents allowed); - reads stdin')
    .option(
      '--auth-url <url>',
      'Auth service base URL given to the server as AUTH_URL (default: $AUTH_SERVICE_URL, else http://auth.neurallog-system.svc:3000)',
    )
    .action(async (opts: { file: string; authUrl?: string }) => {
      const authUrl = resolveAuthUrl({ flag: opts.authUrl, env: process.env });
      const { renderCommand } = await import('./render-command.ts');
      setExitCode(await renderCommand(opts.file, { authUrl }, io));
    });

  program
    .command('validate')
    .description('check Tenants against the schema and the API server rules; exit 1 on any problem')
    .requiredOption('-f, --file <path>', 'Tenant YAML/JSON file (several documents allowed); - reads stdin')
    .action(async (opts: { file: string }) => {
      const { validateCommand } = await import('./validate-command.ts');
      setExitCode(await validateCommand(opts.file, io));
    });

  const cluster = program
    .command('cluster')
    .description('join a member cluster to this management cluster, or let it leave (docs/multi-cluster.md)');
  cluster
    .command('join <name>')
    .description(
      'apply config/member/ to a member, mint its token, and write its kubeconfig Secret and MemberCluster here',
    )
    .requiredOption(
      '--kubeconfig-of-member <file>',
      "the member's kubeconfig, with rights to apply config/member/",
    )
    .option('--context <context>', "context of the member's kubeconfig (default: its current-context)")
    .option('--max-tenants <n>', 'spec.maxTenants of the MemberCluster', nonNegativeInt)
    .option('--label <key=value>', 'a label of the MemberCluster (repeatable)', collect, [])
    .option(
      '--member-server <url>',
      "the member's API server as the operator reaches it (default: from its kubeconfig)",
    )
    .option('--kubeconfig <file>', "the management cluster's kubeconfig (default: as for run)")
    .option(
      '--namespace <ns>',
      "the operator's namespace, where the kubeconfig Secret goes",
      'neurallog-system',
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { joinCommand } = await import('./cluster-command.ts');
      setExitCode(await joinCommand(name, opts as unknown as JoinFlags, io));
    });
  cluster
    .command('leave <name>')
    .description(
      'remove a member with no tenant placed on it: its MemberCluster, the Secret join wrote, and its member RBAC',
    )
    .option(
      '--kubeconfig-of-member <file>',
      "the member's kubeconfig: also remove its ServiceAccount, token and binding",
    )
    .option('--context <context>', "context of the member's kubeconfig")
    .option('--kubeconfig <file>', "the management cluster's kubeconfig (default: as for run)")
    .option('--namespace <ns>', "the operator's namespace", 'neurallog-system')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { leaveCommand } = await import('./cluster-command.ts');
      setExitCode(await leaveCommand(name, opts as unknown as LeaveFlags, io));
    });

  program
    .command('crd')
    .description('print the CustomResourceDefinitions (Tenant, MemberCluster) as YAML')
    .action(async () => {
      const { crdCommand } = await import('./crd-command.ts');
      setExitCode(crdCommand(io));
    });

  program
    .command('run')
    .description('run the controller: reconcile Tenants into their deployments')
    .option(
      '--kubeconfig <path>',
      'kubeconfig file (default: in-cluster, else $KUBECONFIG, else ~/.kube/config)',
    )
    .option('--context <name>', "kubeconfig context to use (default: the kubeconfig's current-context)")
    .option(
      '--leader-elect [bool]',
      'elect a leader through a Lease so only one replica reconciles',
      bool,
      false,
    )
    .option(
      '--leader-election-id <name>',
      'name of the leader election Lease',
      'neurallog-operator.neurallog.io',
    )
    .option('--leader-election-namespace <ns>', "namespace of the Lease (default: the pod's namespace)")
    .option('--metrics-bind-address <addr>', 'address of /metrics; 0 disables', ':8080')
    .option('--health-probe-bind-address <addr>', 'address of /healthz and /readyz; 0 disables', ':8081')
    .addOption(new Option('--log-level <level>', 'trace, debug, info, warn or error').default('info'))
    .addOption(new Option('--zap-log-level <level>', 'alias of --log-level').hideHelp())
    .option('--concurrency <n>', 'tenants reconciled at once', positiveInt, 4)
    .option('--resync-period <duration>', 're-queue every tenant this often', '10m')
    .option(
      '--auth-url <url>',
      'Auth service base URL (default: $AUTH_SERVICE_URL, else http://auth.neurallog-system.svc:3000)',
    )
    .option(
      '--auth-token-file <path>',
      'file holding a bearer token for the Auth service (re-read when it changes)',
    )
    .option('--auth-deregister-timeout <duration>', 'how long deletion waits for Auth deregistration', '10m')
    .option(
      '--operator-namespace <ns>',
      "where MemberClusters' kubeconfig Secrets are by default (default: the pod's namespace, else neurallog-system)",
    )
    .option('--member-probe-interval <duration>', 'how often each MemberCluster is probed', '30s')
    .option('--member-request-timeout <duration>', 'deadline of every request to a member cluster', '10s')
    .option(
      '--member-cleanup-timeout <duration>',
      'how long deleting a tenant waits for its unreachable member before leaving its namespace a pending cleanup',
      '10m',
    )
    .action(async (opts: Record<string, unknown>) => {
      const flags = { ...opts, logLevel: (opts.zapLogLevel as string | undefined) ?? opts.logLevel };
      const { runCommand } = await import('./run-command.ts');
      setExitCode(await runCommand(flags as unknown as RunFlags));
    });

  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
