#!/usr/bin/env node
/** The `tenant-operator` command line: wires flags to commands, holds no logic of its own. */
import { Command, CommanderError, Option } from 'commander';
import { crdCommand } from './crd-command.ts';
import { type Output, processOutput } from './io.ts';
import { renderCommand } from './render-command.ts';
import { validateCommand } from './validate-command.ts';

const DEFAULT_AUTH_URL = 'http://auth.neurallog-system.svc:3000';

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
    .addOption(
      new Option('--auth-url <url>', 'Auth service base URL (the server gets it as AUTH_URL)')
        .env('AUTH_SERVICE_URL')
        .default(DEFAULT_AUTH_URL),
    )
    .action(async (opts: { file: string; authUrl: string }) => {
      setExitCode(await renderCommand(opts.file, { authUrl: opts.authUrl }, io));
    });

  program
    .command('validate')
    .description('check Tenants against the schema and the API server rules; exit 1 on any problem')
    .requiredOption('-f, --file <path>', 'Tenant YAML/JSON file (several documents allowed); - reads stdin')
    .action(async (opts: { file: string }) => {
      setExitCode(await validateCommand(opts.file, io));
    });

  program
    .command('crd')
    .description('print the Tenant CustomResourceDefinition YAML')
    .action(() => {
      setExitCode(crdCommand(io));
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
